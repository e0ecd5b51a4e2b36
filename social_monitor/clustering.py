"""Grouping mentions into claims, and deciding what to flag: pure functions over records (no I/O).

The service fetches the candidate claims of a batch (one query on LSH band keys), then `ClaimBook.assign`
puts each mention in the most similar candidate or opens a new claim, and `add_mentions` folds the mentions
into the claim: counts, reach, hourly buckets for growth, flags and the review state.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

import numpy as np

from social_monitor.claims import (FLAGGING_VERDICTS, VERDICT_LABELS, Claim, KnownClaim, ReviewState, hour_key,
                                   prune_hours, window_counts)
from social_monitor.records import Flag, FlagKind
from social_monitor.similarity import MEMBERS, SAME_CLAIM, Signature, best_group, stack

SYSTEM: Final = "system"
POST_IDS_KEPT: Final = 50
"""A claim lists its first mentions; the rest are found with GET /api/posts?claim_id=..."""


@dataclass(frozen=True, slots=True)
class FlagPolicy:
    """When something goes to the review queue (issue 5, item 4); thresholds come from Settings."""

    score_threshold: float = 0.8
    growth_min_mentions: int = 10
    growth_ratio: float = 3.0


@dataclass(frozen=True, slots=True)
class Mention:
    """One post (or hotline ticket) seen as a mention of a claim."""

    post_id: str
    text: str
    source: str
    seen_at: datetime
    reach: int
    signature: Signature | None
    score: float | None = None
    reasons: tuple[str, ...] = ()
    known: KnownClaim | None = None
    ticket_id: str | None = None
    text_segmented: str | None = None
    text_folded: str | None = None


def model_flag(score: float | None, reasons: Sequence[str], policy: FlagPolicy) -> Flag | None:
    """A flag when the model's probability of "unreliable" reaches the threshold."""
    if score is None or score < policy.score_threshold:
        return None
    why = f": {', '.join(reasons)}" if reasons else ""
    return Flag(FlagKind.MODEL, f"Mô hình đánh giá khả năng tin sai {score:.0%}{why}", score=score,
                reasons=tuple(reasons))


def known_claim_flag(known: KnownClaim | None) -> Flag | None:
    """A flag when the text repeats a claim the comms team found false or misleading."""
    if known is None or known.verdict not in FLAGGING_VERDICTS:
        return None
    return Flag(FlagKind.KNOWN_CLAIM, f"Trùng với tin đã kết luận “{VERDICT_LABELS[known.verdict]}”; "
                f"đính chính: {known.correction_url}", known_claim_id=known.id, verdict=known.verdict.value,
                correction_url=known.correction_url)


def growth_flag(claim: Claim, policy: FlagPolicy) -> Flag | None:
    """A flag when mentions of the last 24 h are many and a multiple of the 24 h before."""
    now, before = claim.mentions_24h, claim.mentions_prev_24h
    if now < policy.growth_min_mentions or now < policy.growth_ratio * max(before, 1):
        return None
    return Flag(FlagKind.GROWTH, f"Lượt nhắc tăng nhanh: {now} trong 24 giờ qua (24 giờ trước đó: {before})",
                growth=claim.growth_24h)


def with_flags(claim: Claim, flags: Iterable[Flag], at: datetime) -> Claim:
    """Merge flags (one per kind, the newest wins) and move the claim into the queue for new reasons."""
    merged = {f.kind: f for f in claim.flags}
    new_kinds = set()
    for flag in flags:
        if flag.kind not in merged:
            new_kinds.add(flag.kind)
        merged[flag.kind] = flag
    claim = replace(claim, flags=tuple(merged.values()))
    if new_kinds and claim.state in (ReviewState.WATCHING, ReviewState.DISMISSED):
        claim = claim.with_change(SYSTEM, "flagged", at, state=ReviewState.FLAGGED)
    return claim


def new_claim(mention: Mention, at: datetime) -> Claim:
    """A claim whose first mention is `mention`."""
    # Named after its first mention: a batch replayed after a crash re-creates the same claim, not a second one.
    claim_id = hashlib.blake2b(f"claim:{mention.post_id}".encode(), digest_size=10).hexdigest()
    return Claim(id=claim_id, text=mention.text, first_seen=mention.seen_at, last_seen=mention.seen_at,
                 updated_at=at, text_segmented=mention.text_segmented, text_folded=mention.text_folded)


def add_mentions(claim: Claim, mentions: Sequence[Mention], now: datetime, policy: FlagPolicy) -> Claim:
    """Fold mentions into the claim: counts, reach, growth, known-claim verdict, flags.

    A mention the claim already lists (its post or ticket id) is not counted again: the same post ingested by
    two replicas at once, where the second one's create of the claim lost and it joins the winner, or a batch
    replayed after a crash between the claim's write and the posts' (issue 16). The claim is returned
    unchanged when nothing is left to fold in.
    """
    counted = {*claim.post_ids, *claim.ticket_ids}
    mentions = [m for m in mentions if (m.ticket_id or m.post_id) not in counted]
    if not mentions:
        return claim
    hourly = dict(claim.hourly)
    for m in mentions:
        key = hour_key(m.seen_at)
        hourly[key] = hourly.get(key, 0) + 1
    hourly = prune_hours(hourly, now)
    recent, before = window_counts(hourly, now)
    scores = [s for s in (claim.max_score, *(m.score for m in mentions)) if s is not None]
    sigs = list(claim.signatures)
    for m in mentions:
        if m.signature is not None and len(sigs) < MEMBERS and m.signature not in sigs:
            sigs.append(m.signature)
    updated = replace(
        claim, mention_count=claim.mention_count + len(mentions), reach=claim.reach + sum(m.reach for m in mentions),
        first_seen=min([claim.first_seen, *(m.seen_at for m in mentions)]),
        last_seen=max([claim.last_seen, *(m.seen_at for m in mentions)]), updated_at=now, hourly=hourly,
        mentions_24h=recent, mentions_prev_24h=before, growth_24h=round(recent / max(before, 1), 3),
        max_score=max(scores) if scores else None,
        post_ids=(*claim.post_ids, *(m.post_id for m in mentions if m.ticket_id is None))[:POST_IDS_KEPT],
        ticket_ids=tuple(dict.fromkeys((*claim.ticket_ids, *(m.ticket_id for m in mentions if m.ticket_id)))),
        sources=tuple(dict.fromkeys((*claim.sources, *(m.source for m in mentions)))), signatures=tuple(sigs))
    known = next((m.known for m in mentions if m.known is not None), None)
    if known is not None and updated.known_claim_id is None:
        updated = replace(updated, known_claim_id=known.id, verdict=known.verdict,
                          correction_text=known.correction_text, correction_url=known.correction_url)
    # The explained mention, when there is one, speaks for the claim (see SocialService._explain).
    strongest = max((m for m in mentions if m.score is not None), key=lambda m: (bool(m.reasons), m.score or 0.0),
                    default=None)
    flags = [model_flag(strongest.score, strongest.reasons, policy) if strongest else None,
             known_claim_flag(known), growth_flag(updated, policy)]
    return with_flags(updated, [f for f in flags if f is not None], now)


class ClaimBook:
    """The claims one batch may join: fetched candidates plus the claims the batch opens itself.

    Claims are indexed by their LSH band keys, restricted to the keys the batch's mentions have (`relevant`;
    no other key can be looked up), so a mention is compared only with the signatures of claims that share a
    band with it, and building the index of a thousand candidates costs little.
    """

    def __init__(self, candidates: Iterable[Claim], relevant: AbstractSet[str] | None = None) -> None:
        self._claims: dict[str, Claim] = {}
        self._rows: dict[str, np.ndarray] = {}  # each claim's signatures, stacked for one comparison
        self._by_band: dict[str, list[str]] = defaultdict(list)
        self._relevant = relevant
        self.opened: set[str] = set()
        for claim in candidates:
            self._put(claim, claim.bands)

    def _put(self, claim: Claim, bands: Iterable[str]) -> None:
        self._claims[claim.id] = claim
        self._rows[claim.id] = stack(claim.signatures)
        by_band, relevant = self._by_band, self._relevant
        for band in bands:
            if relevant is None or band in relevant:
                by_band[band].append(claim.id)

    def assign(self, mention: Mention, at: datetime) -> str:
        """The id of the claim the mention belongs to; opens a claim when none is similar enough."""
        sig = mention.signature
        if sig is not None:
            sharing = dict.fromkeys(c for band in sig.bands for c in self._by_band.get(band, ()))
            found = best_group(sig, [(c, self._rows[c]) for c in sharing], SAME_CLAIM)
            if found is not None:
                claim = self._claims[found[0]]
                if len(claim.signatures) < MEMBERS:  # later mentions of this batch may match the new wording
                    self._put(replace(claim, signatures=(*claim.signatures, sig)), sig.bands)
                return found[0]
        claim = new_claim(mention, at)
        if sig is not None:
            claim = replace(claim, signatures=(sig,))
            self._put(claim, sig.bands)
        else:
            self._put(claim, ())
        self.opened.add(claim.id)
        return claim.id

    def opened_claim(self, claim_id: str) -> Claim:
        """A claim this batch opened, without signatures (add_mentions adds them from its mentions)."""
        return replace(self._claims[claim_id], signatures=())


def with_current_growth(claim: Claim, now: datetime) -> Claim | None:
    """The claim with its 24-hour counts as of `now`, or None when they have not changed.

    Counts are otherwise updated only when a mention arrives, so a rumour that went quiet would keep
    looking like it is growing.
    """
    hourly = prune_hours(claim.hourly, now)
    recent, before = window_counts(hourly, now)
    growth = round(recent / max(before, 1), 3)
    if (recent, before, growth) == (claim.mentions_24h, claim.mentions_prev_24h, claim.growth_24h):
        return None
    return replace(claim, hourly=hourly, mentions_24h=recent, mentions_prev_24h=before, growth_24h=growth)
