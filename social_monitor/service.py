"""The social monitor's domain logic: journaled posts become scored, grouped, matched and flagged posts.

Dependencies are passed in once by the composition root (hotline/social_ctx.py); nothing here reads
settings, the environment or the aiohttp application.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, Final, Protocol

from classifier.text import NormalisedText, normalise, redact
from social_monitor.analysis import Analyser, TextAnalysis, ThreadAnalyser
from social_monitor.claims import TRANSITIONS, Claim, ClaimPatch, KnownClaim, ReviewState
from social_monitor.curation import (claim_of_posts, inherit_verdicts, known_claim_of_verdict, merge_pairs, merged,
                                     split_claim_id, split_pairs, verdict_flag, with_verdict_of, without_posts,
                                     without_verdict_of)
from social_monitor.clustering import (ClaimBook, FlagPolicy, Mention, add_mentions, known_claim_flag,
                                       model_flag, new_claim, with_current_growth, with_flags)
from social_monitor.queries import build_recent_claims
from social_monitor.errors import ClaimConflict, InvalidClaim
from social_monitor.grouping import RegistryMatcher
from social_monitor.known_copies import KnownClaimMatcher
from social_monitor.matching import ClaimMatcher
from social_monitor.pairs import Views
from social_monitor.records import TICKET_SOURCE, FlagKind, Post, RawPost, post_id
from social_monitor.scoring import Score, Scorer
from social_monitor.similarity import Signature, shingles, signature
from hotline.kernel.concurrency import change_saved
from hotline.kernel.records import Version
from social_monitor.store import SocialStore

log = logging.getLogger(__name__)

CONFLICT_RETRIES: Final = 5
MAX_EXPLANATIONS: Final = 5
"""Model explanations per batch (~20 ms each): a burst of new claims must not stall the ingest."""
MATCHED_POSTS_READ: Final = 200
"""Posts most like a newly registered known claim that are scored against it."""
KNOWN_CLAIMS_TTL_S: Final = 60.0
"""How stale the in-memory registry may get when another process registers a claim (this one reloads at once)."""


class AuditLog(Protocol):
    """Where people's changes to claims are also written (the admins' audit trail); set by the composition root."""

    async def __call__(self, *, at: datetime, actor: str, action: str, target_type: str, target_id: str,
                       before: Mapping[str, Any], after: Mapping[str, Any]) -> None: ...


class Speech(Protocol):
    """A speech-to-text engine (the hotline's intake.speech.SpeechEngine); blocking."""

    name: str

    def transcribe(self, audio: bytes, *, content_type: str = ...) -> Any: ...


FetchMedia = Callable[[str], Awaitable[tuple[bytes, str]]]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingest did."""

    received: int = 0
    indexed: int = 0
    duplicates: int = 0
    replayed: int = 0
    claims_opened: int = 0
    flagged: int = 0

    def as_json(self) -> dict[str, int]:
        """JSON form for the API and the CLI."""
        return {"received": self.received, "indexed": self.indexed, "duplicates": self.duplicates,
                "replayed": self.replayed, "claims_opened": self.claims_opened, "flagged": self.flagged}


@dataclass
class SocialService:
    """Everything the social monitor does, with its dependencies passed in once."""

    store: SocialStore
    scorer: Scorer | None = None
    policy: FlagPolicy = field(default_factory=FlagPolicy)
    speech: Speech | None = None
    fetch_media: FetchMedia | None = None
    analyser: Analyser | None = None
    """Where the CPU half of ingest runs (analysis.ProcessAnalyser); None: a ThreadAnalyser with `scorer`."""
    audit: AuditLog | None = None
    claim_matcher: ClaimMatcher | None = None
    """The paraphrase matcher (issue 11); None: the MinHash near-copy grouping of issue 5."""
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    _matcher: KnownClaimMatcher | None = None
    _registry: RegistryMatcher[KnownClaim] | None = None
    _matcher_loaded: float = 0.0

    def __post_init__(self) -> None:
        if self.analyser is None:
            self.analyser = ThreadAnalyser(self.scorer)

    # --- ingest ------------------------------------------------------------------------------------------
    async def ingest(self, raws: Sequence[RawPost]) -> IngestReport:
        """Normalise, deduplicate, score, group, match and flag a batch, then index it. Safe to repeat."""
        return await self.commit(await self.prepare(raws))

    async def prepare(self, raws: Sequence[RawPost]) -> PreparedBatch:
        """The first half of `ingest`: what needs no claim or post of the index (transcripts, text forms,
        scores, signatures), so that it can run for the next batch while `commit` writes this one."""
        already = await self.store.existing_posts([r.key for r in raws])
        fresh = [await self._transcribed(r) for r in raws if r.key not in already]
        assert self.analyser is not None  # set in __post_init__
        analysis = await self.analyser(fresh) if fresh else EMPTY
        views = None
        if self.claim_matcher is not None and fresh:
            # Relative dates ("tối nay") resolve against the publication time only: a post collected without
            # one has no known day, and its "tonight" stays unknown rather than becoming the crawl's day.
            views = await asyncio.to_thread(self.claim_matcher.views, analysis.forms,
                                            [r.published_at for r in fresh])
        return PreparedBatch(len(raws), len(already), fresh, analysis, views)

    async def commit(self, batch: PreparedBatch) -> IngestReport:
        """The second half of `ingest`: deduplicate against the index, group, match, flag, write."""
        now = self.clock()
        fresh, forms, hashes = batch.fresh, batch.analysis.forms, batch.analysis.hashes
        opened: dict[str, Claim]
        indexed_originals = await self.store.originals_of_hashes(hashes)
        seen_in_batch: dict[str, int] = {}
        originals: list[int] = []
        copies: list[tuple[int, tuple[str, str] | int]] = []  # (index, indexed (post, claim) / index in batch)
        for i, digest in enumerate(hashes):
            if digest in indexed_originals:
                copies.append((i, indexed_originals[digest]))
            elif digest in seen_in_batch:
                copies.append((i, seen_in_batch[digest]))
            else:
                seen_in_batch[digest] = i
                originals.append(i)
        if self.claim_matcher is not None and batch.views is not None:
            mentions, claim_of, opened, candidates = await self._group(batch, originals, now)
        else:
            mentions, claim_of, opened, candidates = await self._group_copies(batch, originals, now)
        duplicate_of: dict[int, str] = {}
        for i, origin in copies:
            duplicate_of[i], claim_of[i] = origin if isinstance(origin, tuple) else (fresh[origin].key, claim_of[origin])
            mentions[i] = _mention(fresh[i], forms[i], now, None, None, batch.analysis.signatures[i])
        await self._explain(mentions, fresh, claim_of, candidates)
        by_claim: dict[str, list[Mention]] = defaultdict(list)
        for i, claim_id in claim_of.items():
            by_claim[claim_id].append(mentions[i])
        created = [add_mentions(claim, by_claim[c], now, self.policy) for c, claim in opened.items()]
        # Claims known only through an indexed copy were not fetched as candidates: read in one mget (issue 16).
        joined = {c: candidates[c] for c in by_claim if c not in opened and c in candidates}
        joined |= await self.store.claims_by_id([c for c in by_claim if c not in opened and c not in candidates])
        updated = [(new, version) for new, (old, version) in
                   ((add_mentions(claim, by_claim[c], now, self.policy), (claim, version))
                    for c, (claim, version) in joined.items()) if new is not old]  # unchanged: nothing to write
        # A claim deleted meanwhile (merged) fails in _update_claim as it would alone; a conflict is re-read there.
        missing = [c for c in by_claim if c not in opened and c not in joined]
        for claim_id in [*await self.store.write_claims(created, updated), *missing]:
            await self._update_claim(claim_id, by_claim[claim_id], now)
        posts = [_post(fresh[i], forms[i], hashes[i], mentions[i], claim_of[i], now, self.policy) for i in originals]
        # Copies are indexed too (where a rumour spread matters), marked, unscored: a replay then sees them.
        copied = [replace(_post(fresh[i], forms[i], hashes[i], mentions[i], claim_of[i], now, self.policy),
                          duplicate_of=duplicate_of[i]) for i, _ in copies]
        # A post joining a claim with a verdict carries its correction, however it is worded (issue 11, item 3).
        await self.store.index_posts(inherit_verdicts(posts + copied, {c.id: c for c, _ in candidates.values()}))
        await self.store.refresh()  # the next batch must see this batch's claims and hashes
        if self.claim_matcher is not None and batch.views is not None and originals:
            self.claim_matcher.remember([fresh[i].key for i in originals], batch.views.take(originals))
        report = IngestReport(batch.received, len(posts), len(copies), batch.replayed, len(opened),
                              sum(1 for p in posts if p.flags))
        log.info("ingested %s", report.as_json())
        return report

    async def _group(self, batch: PreparedBatch, originals: Sequence[int], now: datetime
                     ) -> tuple[dict[int, Mention], dict[int, str], dict[str, Claim], dict[str, tuple[Claim, Version]]]:
        """Group the batch's originals with the pair scorer: (mentions, claim of each, claims opened, claims
        joined with their versions)."""
        assert self.claim_matcher is not None and batch.views is not None
        fresh, forms = batch.fresh, batch.analysis.forms
        views = batch.views.take(originals)
        registry = await self._known_registry()
        known = await asyncio.to_thread(registry.match, views) if len(registry) else [None] * len(originals)
        mentions = {i: _mention(fresh[i], forms[i], now, batch.analysis.scores[i], k[0] if k else None, None)
                    for i, k in zip(originals, known)}
        seen = [mentions[i].seen_at for i in originals]
        assigned = await self.claim_matcher.group(self.store, [fresh[i].key for i in originals], views, seen)
        opened: dict[str, Claim] = {}
        claim_of: dict[int, str] = {}
        for position, i in enumerate(originals):
            target = assigned[position]
            if isinstance(target, int):  # the first post of a new claim, which is named after it
                seed = mentions[originals[target]]
                claim = opened.get(new_claim(seed, now).id) or new_claim(seed, now)
                opened[claim.id] = claim
                claim_of[i] = claim.id
            else:
                claim_of[i] = target
        joined = await self.store.claims_by_id([c for c in claim_of.values() if c not in opened])
        return mentions, claim_of, opened, joined

    async def _group_copies(self, batch: PreparedBatch, originals: Sequence[int], now: datetime
                            ) -> tuple[dict[int, Mention], dict[int, str], dict[str, Claim],
                                       dict[str, tuple[Claim, Version]]]:
        """Group with MinHash (near-copies only; used when no claim matcher is configured)."""
        fresh, forms = batch.fresh, batch.analysis.forms
        matcher = await self._known_claims()
        mentions: dict[int, Mention] = {}
        for i in originals:
            known = matcher.match(forms[i].folded) if len(matcher) else None
            mentions[i] = _mention(fresh[i], forms[i], now, batch.analysis.scores[i], known[0] if known else None,
                                   batch.analysis.signatures[i])
        sigs_bands = [b for m in mentions.values() if m.signature for b in m.signature.bands]
        candidates = {c.id: (c, v) for c, v in await self.store.candidate_claims(sigs_bands)}
        book = ClaimBook((c for c, _ in candidates.values()), set(sigs_bands))
        claim_of: dict[int, str] = {i: book.assign(m, now) for i, m in mentions.items()}
        return mentions, claim_of, {c: book.opened_claim(c) for c in book.opened}, candidates

    async def _known_registry(self, *, reload: bool = False) -> RegistryMatcher[KnownClaim]:
        assert self.claim_matcher is not None
        if reload or self._registry is None or time.monotonic() - self._matcher_loaded > KNOWN_CLAIMS_TTL_S:
            known, _ = await self.store.known_claims()
            self._registry = await asyncio.to_thread(self.claim_matcher.registry, known)
            self._matcher_loaded = time.monotonic()
        return self._registry

    async def _transcribed(self, raw: RawPost) -> RawPost:
        media = [a for a in raw.attachments if a.is_media]
        if not media or self.speech is None or self.fetch_media is None:
            return raw
        texts = [raw.text]
        for attachment in media:
            try:
                audio, content_type = await self.fetch_media(attachment.url)
                transcript = await asyncio.to_thread(self.speech.transcribe, audio, content_type=content_type)
            except Exception as err:  # a post whose video cannot be decoded is still a post
                log.warning("post %s: attachment not transcribed: %s", raw.key, type(err).__name__)
                continue
            texts.append(str(getattr(transcript, "text", "")))
        return replace(raw, text="\n".join(t for t in texts if t))

    async def _explain(self, mentions: dict[int, Mention], raws: Sequence[RawPost], claim_of: Mapping[int, str],
                       candidates: Mapping[str, tuple[Claim, Version]]) -> None:
        """Reasons for the strongest flagged mention of each claim that has no explained model flag yet."""
        if self.scorer is None:
            return
        strongest: dict[str, int] = {}
        for i, mention in mentions.items():
            best = strongest.get(claim_of[i])
            if (mention.score or 0.0) >= self.policy.score_threshold and (
                    best is None or (mention.score or 0.0) > (mentions[best].score or 0.0)):
                strongest[claim_of[i]] = i
        explained = 0
        for claim_id, i in strongest.items():
            known = candidates.get(claim_id)
            if known and any(f.kind is FlagKind.MODEL and f.reasons for f in known[0].flags):
                continue
            if explained >= MAX_EXPLANATIONS:
                break  # a later mention of the claim is explained instead
            reasons = await asyncio.to_thread(self.scorer.explain, raws[i])
            mentions[i] = replace(mentions[i], reasons=reasons)
            explained += 1

    async def _known_claims(self, *, reload: bool = False) -> KnownClaimMatcher:
        if reload or self._matcher is None or time.monotonic() - self._matcher_loaded > KNOWN_CLAIMS_TTL_S:
            known, _ = await self.store.known_claims()
            self._matcher = KnownClaimMatcher([(k, normalise(k.text).folded) for k in known])
            self._matcher_loaded = time.monotonic()
        return self._matcher

    async def _update_claim(self, claim_id: str, mentions: Sequence[Mention], now: datetime) -> None:
        """Join mentions to a claim read afresh: one that changed since it was read, or one another replica
        created first under the same id (the id is its first post's, so both named it alike)."""
        async def change(claim: Claim) -> Claim:
            return add_mentions(claim, mentions, now, self.policy)  # the same claim: the winner counts them all
        # a conflict means a reviewer (or another replica) saved meanwhile: re-read and apply the mentions again
        await change_saved(partial(self.store.get_claim, claim_id), change, self.store.save_claim,
                           conflict=ClaimConflict, attempts=CONFLICT_RETRIES,
                           gave_up=lambda: ClaimConflict(f"claim {claim_id} kept changing; mentions will be retried"))

    async def refresh_growth(self, now: datetime | None = None) -> int:
        """Recompute 24-hour counts of claims mentioned in the last 48 h; returns how many changed."""
        now = now or self.clock()
        claims, _ = await self.store.search_claims(build_recent_claims(now - timedelta(hours=48)))
        changed = 0
        for claim, version in claims:
            updated = with_current_growth(claim, now)
            if updated is None:
                continue
            try:
                await self.store.save_claim(updated, version)
                changed += 1
            except ClaimConflict:
                continue  # it just got a mention or a review, which recomputed or keeps it; next round
        return changed

    # --- review ------------------------------------------------------------------------------------------
    async def review(self, claim_id: str, patch: ClaimPatch, actor: str) -> tuple[Claim, Version]:
        """Apply a reviewer's change; raises ClaimConflict if the claim changed since `patch.version`."""
        claim, current = await self.store.get_claim(claim_id)
        try:
            version = Version.parse(patch.version)
        except ValueError as err:
            raise InvalidClaim("'version' must look like '12:1' (as returned by GET)") from err
        if version != current:
            raise ClaimConflict(f"claim {claim_id} changed since version {version}")
        now = self.clock()
        changes: dict[str, Any] = {}
        for name in ("verdict", "correction_text", "correction_url"):
            value = getattr(patch, name)
            if value is not None and value != getattr(claim, name):
                changes[name] = value
        if patch.state is not None and patch.state != claim.state:
            if patch.state not in TRANSITIONS[claim.state]:
                raise InvalidClaim(f"a claim cannot go from {claim.state.value} to {patch.state.value}")
            changes["state"] = patch.state
        verdict = changes.get("verdict", claim.verdict)
        url = changes.get("correction_url", claim.correction_url)
        state = changes.get("state")
        if state is ReviewState.VERDICT_GIVEN and verdict is None:
            raise InvalidClaim("give a 'verdict' to move the claim to verdict_given")
        if state is ReviewState.CORRECTION_PUBLISHED and not url:
            raise InvalidClaim("give the 'correction_url' to move the claim to correction_published")
        updated = claim.with_change(actor, "review", now, **changes) if changes else claim
        known = known_claim_of_verdict(updated, actor=actor, at=now)
        if known is not None:
            # Registered before the claim is saved, under an id of the claim's: a failed save retried, or the
            # same PATCH sent twice, writes the same entry again, never a second one (issue 11, item 3).
            await self.store.add_known_claim(known)
            updated = updated.with_change(actor, "known_claim_registered", now, known_claim_id=known.id)
            flag = verdict_flag(updated)
            updated = with_flags(updated, [flag] if flag else [], now)
        if patch.note:
            updated = updated.with_note(actor, patch.note, now)
        if updated is claim:
            return claim, current
        saved = await self.store.save_claim(updated, current)
        for change in updated.history[len(claim.history):]:
            await self._audit(change.at, change.actor, f"claim_{change.action}", "claim", claim.id,
                              change.before, change.after)
        if known is not None:
            await self._audit(now, actor, "known_claim_registered", "known_claim", known.id, {},
                              {"verdict": known.verdict.value, "text": known.text[:200], "claim_id": claim.id})
            await self._known_claims(reload=True)
            await self.flag_posts(updated)
        return updated, saved

    async def flag_posts(self, claim: Claim) -> int:
        """Give every post of a claim with a false or misleading verdict its known-claim flag; searchable at once."""
        if verdict_flag(claim) is None:
            return 0
        changed = [p for p in (with_verdict_of(post, claim) for post in await self.store.posts_of_claim(claim.id))
                   if p is not None]
        if changed:
            await self.store.index_posts(changed)
            await self.store.refresh()
        return len(changed)

    async def _move_posts(self, from_claim: str, to_claim: str) -> list[Post]:
        """Point every post of `from_claim` at `to_claim`; returns the posts as they were."""
        posts = await self.store.posts_of_claim(from_claim)
        if posts:
            await self.store.index_posts([replace(p, claim_id=to_claim) for p in posts])
            await self.store.refresh()
        return posts

    @staticmethod
    def _expect(version: str, current: Version, claim_id: str) -> None:
        try:
            expected = Version.parse(version)
        except ValueError as err:
            raise InvalidClaim("'version' must look like '12:1' (as returned by GET)") from err
        if expected != current:
            raise ClaimConflict(f"claim {claim_id} changed since version {expected}")

    # --- people's corrections of the grouping (issue 11, item 5) -------------------------------------------
    async def merge_claims(self, claim_id: str, other_id: str, *, version: str, other_version: str | None,
                           actor: str, record: bool = True) -> tuple[Claim, Version]:
        """Fold `other_id` into `claim_id` (its posts, counts, flags; its review when the target has none).

        Both versions are checked (409 if either changed). `other_id` is deleted last and only at the version
        folded in: a mention that reached it meanwhile is folded in too before it goes.
        """
        if claim_id == other_id:
            raise InvalidClaim("a claim cannot be merged with itself")
        target, target_version = await self.store.get_claim(claim_id)
        other, other_current = await self.store.get_claim(other_id)
        self._expect(version, target_version, claim_id)
        if other_version is not None:
            self._expect(other_version, other_current, other_id)
        now = self.clock()
        result = merged(target, other, actor=actor, at=now)
        saved = await self.store.save_claim(result, target_version)
        kept = await self.store.posts_of_claim(claim_id)
        counted, moved = other, await self._move_posts(other_id, claim_id)
        for _ in range(CONFLICT_RETRIES):
            try:
                await self.store.delete_claim(other_id, other_current)
                break
            except ClaimConflict:
                fresh, other_current = await self.store.get_claim(other_id)
                result, saved = await self._fold_again(claim_id, fresh, counted, actor, now)
                counted = fresh
                moved += await self._move_posts(other_id, claim_id)
        else:
            raise ClaimConflict(f"claim {other_id} kept changing while being merged; merge it again")
        if record:  # a rebuild replaying people's merges must not invent pairs nobody judged
            await self.store.add_pairs(merge_pairs(kept, moved, claim_id=claim_id, actor=actor, at=now))
        await self._audit(now, actor, "claim_merge", "claim", claim_id, {"claim_id": other_id,
                                                                         "text": other.text[:200]},
                          {"merged_into": claim_id, "posts": len(moved)})
        await self.flag_posts(result)
        return result, saved

    async def _fold_again(self, claim_id: str, fresh: Claim, counted: Claim, actor: str,
                          now: datetime) -> tuple[Claim, Version]:
        async def change(current: Claim) -> Claim:
            return merged(current, fresh, actor=actor, at=now, counted=counted)
        outcome = await change_saved(
            partial(self.store.get_claim, claim_id), change, self.store.save_claim,
            conflict=ClaimConflict, attempts=CONFLICT_RETRIES,
            gave_up=lambda: ClaimConflict(f"claim {claim_id} kept changing while being merged; merge it again"))
        _, folded, saved = outcome
        assert folded is not None and saved is not None  # merged() always gives a new claim, so it was saved
        return folded, saved

    async def split_claim(self, claim_id: str, post_ids: Sequence[str], *, version: str, actor: str,
                          record: bool = True) -> tuple[tuple[Claim, Version], tuple[Claim, Version]]:
        """Move `post_ids` (with their exact copies) out of the claim into a new one; both are returned."""
        claim, current = await self.store.get_claim(claim_id)
        self._expect(version, current, claim_id)
        posts = await self.store.posts_of_claim(claim_id)
        chosen = set(post_ids)
        missing = chosen - {p.id for p in posts}
        if missing:
            raise InvalidClaim(f"posts not in claim {claim_id}: {', '.join(sorted(missing)[:5])}")
        moved = [p for p in posts if p.id in chosen or p.duplicate_of in chosen]
        kept = [p for p in posts if p not in moved]
        if not kept:
            raise InvalidClaim("a split must leave at least one post in the claim")
        now = self.clock()
        new_id = split_claim_id(claim_id, sorted(chosen))
        sigs = [s for s in (signature(p.text_folded or normalise(p.text).folded) for p in moved
                            if p.duplicate_of is None) if s is not None]
        remaining = without_posts(claim, moved, new_claim_id=new_id, actor=actor, at=now)
        saved = await self.store.save_claim(remaining, current)
        new = claim_of_posts(new_id, moved, claim, actor=actor, at=now, signatures=sigs)
        new_version = await self.store.create_claim(new)
        await self.store.index_posts([replace(without_verdict_of(p, claim), claim_id=new_id) for p in moved])
        await self.store.refresh()
        if record:
            await self.store.add_pairs(split_pairs(moved, kept, claim_id=claim_id, actor=actor, at=now))
        await self._audit(now, actor, "claim_split", "claim", claim_id, {"post_ids": sorted(p.id for p in moved)},
                          {"new_claim": new_id})
        return (remaining, saved), (new, new_version)

    async def similar_claims(self, text: str, limit: int = 10, *, min_similarity: float = 0.0,
                             exclude: Sequence[str] = ()) -> list[SimilarClaim]:
        """Claims saying what `text` says, most similar first (the search box on /comms, merge suggestions,
        the verdict shown to an operator on a ticket).

        With the claim matcher: its candidates and its pair probability (the same scorer that groups posts).
        Without one (no `claim_matcher` artifact): Elasticsearch candidates and the overlap coefficient of the
        folded texts' shingles.
        """
        if self.claim_matcher is not None:
            ranked = await self.claim_matcher.similar_claims(self.store, text, size=limit + len(exclude),
                                                             at=self.clock())
            by_id = await self.store.claims_by_id([c for c, _ in ranked])
            return [SimilarClaim(by_id[c][0], by_id[c][1], round(score, 3)) for c, score in ranked
                    if c in by_id and c not in exclude and score >= min_similarity][:limit]
        forms = normalise(text)
        mine = shingles(forms.folded)
        if not mine:
            return []
        found: list[SimilarClaim] = []
        for claim, version in await self.store.claims_like(forms.folded, size=max(50, 5 * limit), loose=True):
            theirs = shingles(claim.text_folded or normalise(claim.text).folded)
            score = len(mine & theirs) / min(len(mine), len(theirs)) if theirs else 0.0
            if claim.id not in exclude and score >= min_similarity:
                found.append(SimilarClaim(claim, version, round(score, 3)))
        return sorted(found, key=lambda s: (-s.similarity, -s.claim.mention_count, s.claim.id))[:limit]

    async def _audit(self, at: datetime, actor: str, action: str, target_type: str, target_id: str,
                     before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        if self.audit is None:
            return
        try:
            await self.audit(at=at, actor=actor, action=action, target_type=target_type, target_id=target_id,
                             before=before, after=after)
        except Exception:  # the change itself is saved, with its own history; do not fail the reviewer
            log.exception("audit entry for %s %s not recorded", target_type, target_id)

    # --- known claims ------------------------------------------------------------------------------------
    async def register_known_claim(self, known: KnownClaim) -> int:
        """Record a checked claim and flag the existing claims that repeat it; returns how many were flagged."""
        await self.store.add_known_claim(known)
        await self._audit(known.recorded_at, known.recorded_by, "known_claim_registered", "known_claim", known.id, {},
                          {"verdict": known.verdict.value, "text": known.text[:200]})
        await self._known_claims(reload=True)
        if self.claim_matcher is not None:
            await self._known_registry(reload=True)
        flag = known_claim_flag(known)
        flagged = 0
        for claim, version in await self._claims_repeating(known):
            updated = replace(claim, known_claim_id=known.id, verdict=known.verdict,
                              correction_text=known.correction_text, correction_url=known.correction_url)
            if flag is not None:
                updated = with_flags(updated, [flag], self.clock())
            try:
                await self.store.save_claim(updated, version)
            except ClaimConflict:
                log.warning("claim %s changed while matching known claim %s; the next mention will match it",
                            claim.id, known.id)
                continue
            await self.flag_posts(updated)
            flagged += 1
        log.info("known claim %s registered (%s); %d existing claims matched", known.id, redact(known.text[:60]),
                 flagged)
        return flagged


    async def _claims_repeating(self, known: KnownClaim) -> list[tuple[Claim, Version]]:
        """Existing claims, not yet linked to a known claim, that repeat `known`: with the claim matcher, claims
        with a post it matches (registry threshold, no conflict); without, containment in the claim's text."""
        folded = normalise(known.text).folded
        if self.claim_matcher is None:
            matcher = KnownClaimMatcher([(known, folded)])
            return [(c, v) for c, v in await self.store.claims_like(folded)
                    if c.known_claim_id is None and matcher.match(normalise(c.text).folded) is not None]
        registry = await asyncio.to_thread(self.claim_matcher.registry, [known])
        hits = (await self.store.similar_posts([folded], MATCHED_POSTS_READ))[0]
        if not hits:
            return []
        posts = await asyncio.to_thread(self.claim_matcher.views, [normalise(h.text) for h in hits],
                                        [h.published_at for h in hits])
        matched = {h.claim_id for h, m in zip(hits, await asyncio.to_thread(registry.match, posts)) if m}
        found = await self.store.claims_by_id(sorted(matched))
        return [(c, v) for c, v in found.values() if c.known_claim_id is None]


@dataclass(frozen=True, slots=True)
class SimilarClaim:
    """A claim found by `SocialService.similar_claims`, with how similar it is (0 to 1)."""

    claim: Claim
    version: Version
    similarity: float

    def as_json(self) -> dict[str, Any]:
        """The API form: the claim without its history, its version and the similarity."""
        body = self.claim.as_json()
        body.pop("history", None)
        return {**body, "version": str(self.version), "similarity": self.similarity}


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch after `SocialService.prepare`: the posts not indexed yet, with what their text gives."""

    received: int
    replayed: int
    fresh: list[RawPost]
    analysis: TextAnalysis
    """One entry per post of `fresh`."""
    views: Views | None = None
    """The claim matcher's analysis of each post of `fresh` (None without a matcher)."""


EMPTY: Final = TextAnalysis([], [], [], [])


def _mention(raw: RawPost, forms: NormalisedText, now: datetime, score: Score | None,
             known: KnownClaim | None, sig: Signature | None) -> Mention:
    reach = sum(n for n in (raw.likes, raw.comments, raw.shares) if n)
    return Mention(raw.key, forms.text, raw.source, raw.published_at or now, reach, sig,
                   score.probability if score else None, (), known,
                   ticket_id=raw.source_id if raw.source == TICKET_SOURCE else None,
                   text_segmented=forms.segmented, text_folded=forms.folded)


def _post(raw: RawPost, forms: NormalisedText, digest: str, mention: Mention, claim_id: str, now: datetime,
          policy: FlagPolicy) -> Post:
    flags = [f for f in (model_flag(mention.score, mention.reasons, policy), known_claim_flag(mention.known)) if f]
    known = mention.known
    return Post(id=post_id(raw.source, raw.source_id), source=raw.source, source_id=raw.source_id, text=forms.text,
                collected_at=now, content_hash=digest, url=raw.url, author=raw.author, published_at=raw.published_at,
                likes=raw.likes, comments=raw.comments, shares=raw.shares, misinformation_score=mention.score,
                score_reasons=mention.reasons, claim_id=claim_id, known_claim_id=known.id if known else None,
                verdict=known.verdict.value if known else None, correction_url=known.correction_url if known else None,
                flags=tuple(flags), media=raw.attachments, text_segmented=forms.segmented, text_folded=forms.folded)
