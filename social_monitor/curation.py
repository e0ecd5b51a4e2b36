"""People's corrections of the grouping: merging two claims, splitting posts out of one, and the labelled pairs
they leave for the matcher's trainer (issue 11, item 5). Pure functions over records (no I/O).

A merge says "these posts say the same thing", a split "these posts say something else": both are stored as
pairs of post texts labelled `same` / `different` (the `claim_pairs` index, `hotline claims export-pairs`),
as operators' category corrections are kept as training labels for the ticket classifier.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import combinations, product
from typing import Any, Final

from hotline.kernel.records import Change
from social_monitor.claims import (FLAGGING_VERDICTS, VERDICT_LABELS, Claim, KnownClaim, ReviewState, hour_key,
                                   prune_hours, window_counts)
from social_monitor.records import TICKET_SOURCE, Flag, FlagKind, Post

PAIRS_PER_SIDE: Final = 5
"""Posts of each side paired at a merge or split: 25 pairs at most, the earliest posts (what the claim says)."""
POST_IDS_KEPT: Final = 50
SIGNATURES_KEPT: Final = 8
UNREVIEWED: Final = frozenset({ReviewState.WATCHING, ReviewState.FLAGGED})


class PairLabel(StrEnum):
    """What a person said about two posts."""

    SAME = "same"
    DIFFERENT = "different"


@dataclass(frozen=True, slots=True)
class ClaimPair:
    """Two posts a person grouped together (merge) or apart (split): one training example for the matcher."""

    a_post: str
    b_post: str
    a_text: str
    b_text: str
    label: PairLabel
    origin: str
    """"merge" or "split"."""
    claim_id: str
    actor: str
    at: datetime

    @property
    def id(self) -> str:
        """The same two posts make the same pair whatever their order; the newest judgement overwrites."""
        first, second = sorted((self.a_post, self.b_post))
        return hashlib.blake2b(f"{first}\x00{second}".encode(), digest_size=12).hexdigest()

    def as_doc(self) -> dict[str, Any]:
        """The stored form."""
        return {"id": self.id, "a_post": self.a_post, "b_post": self.b_post, "a_text": self.a_text,
                "b_text": self.b_text, "label": self.label.value, "origin": self.origin, "claim_id": self.claim_id,
                "actor": self.actor, "at": self.at.isoformat()}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ClaimPair:
        """Read a stored pair back."""
        return cls(doc["a_post"], doc["b_post"], doc["a_text"], doc["b_text"], PairLabel(doc["label"]), doc["origin"],
                   doc["claim_id"], doc["actor"], datetime.fromisoformat(doc["at"]))


def _pair(a: Post, b: Post, label: PairLabel, origin: str, claim_id: str, actor: str, at: datetime) -> ClaimPair:
    return ClaimPair(a.id, b.id, a.text, b.text, label, origin, claim_id, actor, at)


def _originals(posts: Sequence[Post]) -> list[Post]:
    # An exact copy teaches nothing a pair of its original does not.
    return [p for p in posts if p.duplicate_of is None and p.text.strip()][:PAIRS_PER_SIDE]


def merge_pairs(kept: Sequence[Post], absorbed: Sequence[Post], *, claim_id: str, actor: str,
                at: datetime) -> list[ClaimPair]:
    """`same` pairs across the two merged claims."""
    return [_pair(a, b, PairLabel.SAME, "merge", claim_id, actor, at)
            for a, b in product(_originals(kept), _originals(absorbed))]


def split_pairs(moved: Sequence[Post], kept: Sequence[Post], *, claim_id: str, actor: str,
                at: datetime) -> list[ClaimPair]:
    """`different` pairs across the split, `same` pairs among the posts moved out together."""
    out, stay = _originals(moved), _originals(kept)
    return ([_pair(a, b, PairLabel.DIFFERENT, "split", claim_id, actor, at) for a, b in product(out, stay)]
            + [_pair(a, b, PairLabel.SAME, "split", claim_id, actor, at) for a, b in combinations(out, 2)])


def _summary(claim: Claim) -> dict[str, Any]:
    """What the history keeps of a claim that ceases to exist (merged away) or gives up posts."""
    return {"claim_id": claim.id, "text": claim.text[:300], "state": claim.state.value,
            "verdict": claim.verdict.value if claim.verdict else None, "mention_count": claim.mention_count,
            "history": [{"at": h.at.isoformat(), "actor": h.actor, "action": h.action, "after": dict(h.after)}
                        for h in claim.history]}


def _with_counts(claim: Claim, hourly: Mapping[str, int], now: datetime, **changes: Any) -> Claim:
    pruned = prune_hours(hourly, now)
    recent, before = window_counts(pruned, now)
    return replace(claim, **changes, hourly=pruned, mentions_24h=recent, mentions_prev_24h=before,
                   growth_24h=round(recent / max(before, 1), 3), updated_at=now)


def merged(target: Claim, other: Claim, *, actor: str, at: datetime, counted: Claim | None = None) -> Claim:
    """`target` with `other`'s mentions, sources, flags and, when the target has no review of its own, its review.

    `counted`: a previous read of `other` already folded in (a mention reached `other` while it was being
    merged); only what it gained since is added, and no second history entry is written.
    """
    base = counted
    hourly = dict(target.hourly)
    for key, n in other.hourly.items():
        hourly[key] = hourly.get(key, 0) + n - (base.hourly.get(key, 0) if base else 0)
    flags = {f.kind: f for f in (*other.flags, *target.flags)}  # the target's flag of a kind wins
    scores = [s for s in (target.max_score, other.max_score) if s is not None]
    sigs = (*target.signatures, *(s for s in other.signatures if s not in target.signatures))[:SIGNATURES_KEPT]
    review: dict[str, Any] = {}
    if target.state in UNREVIEWED and target.verdict is None and (other.state not in UNREVIEWED or other.verdict):
        review = {"state": other.state, "verdict": other.verdict, "correction_text": other.correction_text,
                  "correction_url": other.correction_url}
    if target.known_claim_id is None and other.known_claim_id is not None:
        review.update(known_claim_id=other.known_claim_id,
                      verdict=review.get("verdict", target.verdict) or other.verdict,
                      correction_text=target.correction_text or other.correction_text,
                      correction_url=target.correction_url or other.correction_url)
    history = target.history if base else (
        *target.history, Change(at, actor, "merge", _summary(other), {"merged_into": target.id}))
    return _with_counts(
        target, hourly, at, **review,
        mention_count=target.mention_count + other.mention_count - (base.mention_count if base else 0),
        reach=target.reach + other.reach - (base.reach if base else 0),
        first_seen=min(target.first_seen, other.first_seen), last_seen=max(target.last_seen, other.last_seen),
        max_score=max(scores) if scores else None,
        post_ids=tuple(dict.fromkeys((*target.post_ids, *other.post_ids)))[:POST_IDS_KEPT],
        ticket_ids=tuple(dict.fromkeys((*target.ticket_ids, *other.ticket_ids))),
        sources=tuple(dict.fromkeys((*target.sources, *other.sources))), signatures=sigs,
        flags=tuple(flags.values()), history=history)


def _mention_counts(posts: Sequence[Post]) -> tuple[dict[str, int], int]:
    hourly: dict[str, int] = {}
    for post in posts:
        key = hour_key(post.seen_at)
        hourly[key] = hourly.get(key, 0) + 1
    return hourly, sum(p.reach for p in posts)


def without_posts(claim: Claim, moved: Sequence[Post], *, new_claim_id: str, actor: str, at: datetime) -> Claim:
    """The claim after `moved` (posts and their copies) went to `new_claim_id`."""
    gone_hours, gone_reach = _mention_counts(moved)
    hourly = {k: n - gone_hours.get(k, 0) for k, n in claim.hourly.items()}
    gone = {p.id for p in moved}
    tickets = {p.source_id for p in moved if p.source == TICKET_SOURCE}
    return _with_counts(
        claim, {k: n for k, n in hourly.items() if n > 0}, at,
        mention_count=max(0, claim.mention_count - len(moved)), reach=max(0, claim.reach - gone_reach),
        post_ids=tuple(p for p in claim.post_ids if p not in gone),
        ticket_ids=tuple(t for t in claim.ticket_ids if t not in tickets),
        history=(*claim.history, Change(at, actor, "split", {"post_ids": sorted(gone)}, {"new_claim": new_claim_id})))


def split_claim_id(claim_id: str, post_ids: Sequence[str]) -> str:
    """The id of the claim a split creates: the same split replayed (a retried request) makes the same claim."""
    key = ",".join(sorted(post_ids))
    return hashlib.blake2b(f"split:{claim_id}:{key}".encode(), digest_size=10).hexdigest()


def claim_of_posts(claim_id: str, posts: Sequence[Post], origin: Claim, *, actor: str, at: datetime,
                   signatures: Sequence[Any] = ()) -> Claim:
    """A new claim holding `posts` (oldest first), split out of `origin`."""
    hourly, reach = _mention_counts(posts)
    first = posts[0]
    scores = [p.misinformation_score for p in posts if p.misinformation_score is not None]
    model = max((f for p in posts for f in p.flags if f.kind is FlagKind.MODEL), key=lambda f: f.score or 0.0,
                default=None)
    return _with_counts(
        Claim(id=claim_id, text=first.text, first_seen=min(p.seen_at for p in posts),
              last_seen=max(p.seen_at for p in posts), updated_at=at, text_segmented=first.text_segmented,
              text_folded=first.text_folded),
        hourly, at, mention_count=len(posts), reach=reach, max_score=max(scores) if scores else None,
        post_ids=tuple(p.id for p in posts if p.source != TICKET_SOURCE)[:POST_IDS_KEPT],
        ticket_ids=tuple(dict.fromkeys(p.source_id for p in posts if p.source == TICKET_SOURCE)),
        sources=tuple(dict.fromkeys(p.source for p in posts)), signatures=tuple(signatures)[:SIGNATURES_KEPT],
        flags=(model,) if model else (), state=ReviewState.FLAGGED if model else ReviewState.WATCHING,
        history=(Change(at, actor, "split", {"claim_id": origin.id, "text": origin.text[:300]},
                        {"post_ids": [p.id for p in posts]}),))


# --- a verdict's correction reaching the posts (issue 11, item 3) ----------------------------------------
def known_claim_of_verdict(claim: Claim, *, actor: str, at: datetime) -> KnownClaim | None:
    """The registry entry a review's verdict makes: false or misleading with a correction, not registered yet."""
    if claim.verdict not in FLAGGING_VERDICTS or claim.known_claim_id is not None:
        return None
    if not (claim.correction_text or claim.correction_url):
        return None
    assert claim.verdict is not None
    return KnownClaim(id=f"claim-{claim.id}", text=claim.text, verdict=claim.verdict, reviewed_on=at.date(),
                      recorded_by=actor, recorded_at=at, correction_text=claim.correction_text,
                      correction_url=claim.correction_url)


def verdict_flag(claim: Claim) -> Flag | None:
    """The known-claim flag a claim's verdict puts on its posts (None unless false or misleading)."""
    if claim.verdict not in FLAGGING_VERDICTS or claim.known_claim_id is None:
        return None
    assert claim.verdict is not None
    return Flag(FlagKind.KNOWN_CLAIM, f"Trùng với tin đã kết luận “{VERDICT_LABELS[claim.verdict]}”; "
                f"đính chính: {claim.correction_url or claim.correction_text or ''}".rstrip(),
                known_claim_id=claim.known_claim_id, verdict=claim.verdict.value, correction_url=claim.correction_url)


def with_verdict_of(post: Post, claim: Claim) -> Post | None:
    """The post carrying its claim's verdict and known-claim flag; None when it carries them already."""
    flag = verdict_flag(claim)
    if flag is None or (post.known_claim_id == claim.known_claim_id and flag in post.flags):
        return None
    flags = {f.kind: f for f in post.flags} | {flag.kind: flag}
    return replace(post, known_claim_id=claim.known_claim_id, verdict=flag.verdict,
                   correction_url=claim.correction_url, flags=tuple(flags.values()))


def inherit_verdicts(posts: Sequence[Post], claims: Mapping[str, Claim]) -> list[Post]:
    """Posts joining claims that carry a false or misleading verdict, with that verdict's flag."""
    out = []
    for post in posts:
        claim = claims.get(post.claim_id or "")
        out.append((with_verdict_of(post, claim) or post) if claim is not None else post)
    return out


# --- a rebuild handing reviews to the new claims (issue 11, item 4) ---------------------------------------
SYSTEM: Final = "system"


def reviewed(claim: Claim) -> bool:
    """Whether people did anything with the claim (state, verdict, registry link, note) worth carrying over."""
    return (claim.state not in UNREVIEWED or claim.verdict is not None or claim.known_claim_id is not None
            or any(h.actor != SYSTEM for h in claim.history))


def with_review_of(claim: Claim, old: Claim, *, held: int, total: int, at: datetime) -> Claim:
    """The new claim holding `held` of old claim's `total` posts, with its review: state, verdict, correction,
    registry link, flags of people's verdicts, and the old history before its own (issue 11, item 4)."""
    changes: dict[str, Any] = {}
    if claim.state in UNREVIEWED:  # nobody reviewed the new claim yet (a verdict may come from the registry)
        if old.state not in UNREVIEWED:
            changes["state"] = old.state
        if old.verdict is not None:
            changes.update(verdict=old.verdict, correction_text=old.correction_text,
                           correction_url=old.correction_url)
    if claim.known_claim_id is None and old.known_claim_id is not None:
        changes["known_claim_id"] = old.known_claim_id
        changes.setdefault("verdict", claim.verdict or old.verdict)
    flags = {f.kind: f for f in old.flags if f.kind is FlagKind.KNOWN_CLAIM} | {f.kind: f for f in claim.flags}
    history = tuple(sorted((*old.history, *claim.history), key=lambda h: h.at))
    note = Change(at, SYSTEM, "rebuild", {"claim_id": old.id, "text": old.text[:300]},
                  {"claim_id": claim.id, "posts": held, "of": total})
    return replace(claim, **changes, flags=tuple(flags.values()), history=(*history, note), updated_at=at)


def without_verdict_of(post: Post, claim: Claim) -> Post:
    """A post split out of `claim` no longer carries the verdict it had only as one of the claim's posts."""
    if claim.known_claim_id is None or post.known_claim_id != claim.known_claim_id:
        return post
    return replace(post, known_claim_id=None, verdict=None, correction_url=None,
                   flags=tuple(f for f in post.flags if f.kind is not FlagKind.KNOWN_CLAIM))
