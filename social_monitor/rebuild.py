"""Re-grouping every stored post with the current matcher (`hotline claims rebuild`, issue 11 item 4).

The posts are replayed in the order they arrived through the service's own ingest, into a fresh pair of
posts/claims indices (`target`); each batch runs at the time it first ran (its `collected_at`), so posts keep
their collection times and claims their hourly counts. People's merges and splits (the `claim_pairs` index)
are redone where the matcher disagrees with them. Then every old claim someone reviewed hands its state,
verdict, correction and history to the new claim holding most of its posts. The composition root
(hotline/claims_rebuild.py) creates the new indices and swaps the aliases at the end: until then readers and
the live ingest use the old ones, so an interrupted rebuild loses nothing.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Final

from hotline.kernel.concurrency import change_saved
from social_monitor.claims import Claim
from social_monitor.clustering import with_current_growth
from social_monitor.curation import SYSTEM, PairLabel, reviewed, with_review_of
from social_monitor.errors import ClaimConflict, InvalidClaim
from social_monitor.records import Post, RawPost
from social_monitor.service import CONFLICT_RETRIES, SocialService
from social_monitor.store import SocialStore

log = logging.getLogger(__name__)

PAGE: Final = 1000
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What a rebuild did."""

    posts: int = 0
    claims: int = 0
    reviews_carried: int = 0
    corrections_replayed: int = 0

    def as_json(self) -> dict[str, int]:
        """JSON form for the CLI."""
        return {"posts": self.posts, "claims": self.claims, "reviews_carried": self.reviews_carried,
                "corrections_replayed": self.corrections_replayed}


def _raw(post: Post) -> RawPost:
    # The stored text already holds the transcripts of the post's media: nothing is fetched again.
    return RawPost(post.source, post.source_id, post.text, url=post.url, author=post.author,
                   published_at=post.published_at, likes=post.likes, comments=post.comments, shares=post.shares,
                   attachments=post.media)


def _runs(posts: Sequence[Post], batch: int) -> list[list[Post]]:
    """Consecutive posts collected at the same moment (one original ingest batch), at most `batch` each."""
    runs: list[list[Post]] = []
    for post in posts:
        if runs and runs[-1][0].collected_at == post.collected_at and len(runs[-1]) < batch:
            runs[-1].append(post)
        else:
            runs.append([post])
    return runs


async def replay(source: SocialStore, target: SocialService, *, after: list[Any] | None, batch: int,
                 on_progress: Progress) -> tuple[int, list[Any] | None]:
    """Ingest into `target` every post of `source` after the cursor `after`; returns the count and the cursor."""
    done, clock = 0, target.clock
    try:
        while True:
            page, cursor = await source.page_of_posts(after, PAGE)
            if not page:
                return done, after
            for run in _runs(page, batch):
                at = run[0].collected_at
                target.clock = lambda at=at: at  # type: ignore[misc]
                await target.ingest([_raw(p) for p in run])
                done += len(run)
                on_progress(len(run))
            after = cursor
    finally:
        target.clock = clock


async def replay_corrections(target: SocialService) -> int:
    """Redo people's merges and splits the regrouping disagrees with; returns how many claims changed.

    A `different` pair (split: `a_post` was moved out) whose posts landed in one claim moves the `a_post`s of
    that claim out together; then `same` pairs whose posts landed in two claims merge them.
    """
    pairs = [p async for p in target.store.scan_pairs()]
    if not pairs:
        return 0
    ids = sorted({i for p in pairs for i in (p.a_post, p.b_post)})
    claim_of = {p.id: p.claim_id for p in await target.store.get_posts(ids) if p.claim_id}
    moved_out: dict[str, set[str]] = defaultdict(set)
    for pair in pairs:
        home = claim_of.get(pair.a_post)
        if pair.label is PairLabel.DIFFERENT and home is not None and home == claim_of.get(pair.b_post):
            moved_out[home].add(pair.a_post)
    changed = 0
    for claim_id, post_ids in moved_out.items():
        _, version = await target.store.get_claim(claim_id)
        try:
            _, (new, _) = await target.split_claim(claim_id, sorted(post_ids), version=str(version), actor=SYSTEM,
                                                   record=False)
        except InvalidClaim as err:  # e.g. the split would empty the claim: the matcher's grouping stands
            log.warning("split of claim %s not replayed: %s", claim_id, err)
            continue
        claim_of.update({post_id: new.id for post_id in post_ids})
        changed += 1
    for pair in pairs:
        first, second = claim_of.get(pair.a_post), claim_of.get(pair.b_post)
        if pair.label is not PairLabel.SAME or first is None or second is None or first == second:
            continue
        _, version = await target.store.get_claim(first)
        await target.merge_claims(first, second, version=str(version), other_version=None, actor=SYSTEM,
                                  record=False)
        claim_of = {k: first if v == second else v for k, v in claim_of.items()}
        changed += 1
    return changed


async def carry_reviews(source: SocialStore, target: SocialService, *, now: datetime) -> int:
    """Give each reviewed old claim's review to the new claim holding most of its posts; returns how many."""
    carried = 0
    await source.refresh()
    async for old, _ in source.scan_claims():
        if not reviewed(old):
            continue
        ids = [p.id for p in await source.posts_of_claim(old.id, refresh=False)]
        held = Counter(p.claim_id for p in await target.store.get_posts(ids) if p.claim_id)
        if not held:
            log.warning("claim %s: none of its %d posts was regrouped; its review is not carried", old.id, len(ids))
            continue
        winner = min(held, key=lambda c: (-held[c], c))
        claim = await _save_review(target, winner, old, held[winner], len(ids), now)
        await target.flag_posts(claim)
        carried += 1
    return carried


async def _save_review(target: SocialService, claim_id: str, old: Claim, held: int, total: int,
                       now: datetime) -> Claim:
    async def change(claim: Claim) -> Claim:
        return with_review_of(claim, old, held=held, total=total, at=now)
    before, after, _ = await change_saved(
        partial(target.store.get_claim, claim_id), change, target.store.save_claim,
        conflict=ClaimConflict, attempts=CONFLICT_RETRIES,
        gave_up=lambda: ClaimConflict(f"claim {claim_id} kept changing while its review was carried over"))
    return after or before  # with_review_of always gives a new claim


async def refresh_all_growth(target: SocialService, now: datetime) -> int:
    """Every claim's 24-hour counts as of `now` (each was last computed at its own batch's time)."""
    changed = 0
    async for claim, version in target.store.scan_claims():
        updated = with_current_growth(claim, now)
        if updated is not None:
            await target.store.save_claim(replace(updated, updated_at=claim.updated_at), version)
            changed += 1
    return changed


async def rebuild(source: SocialStore, target: SocialService, *, now: datetime, batch: int = 500,
                  on_start: Callable[[int], None] = lambda total: None,
                  on_progress: Progress = lambda done: None) -> RebuildReport:
    """Replay, carry reviews over, replay what arrived meanwhile; the caller swaps the indices afterwards."""
    await source.refresh()
    on_start(await source.count_posts())
    posts, cursor = await replay(source, target, after=None, batch=batch, on_progress=on_progress)
    await target.store.refresh()
    corrected = await replay_corrections(target)
    carried = await carry_reviews(source, target, now=now)
    more, _ = await replay(source, target, after=cursor, batch=batch, on_progress=on_progress)
    await refresh_all_growth(target, now)
    await target.store.refresh()
    claims = sum([1 async for _ in target.store.scan_claims()])
    report = RebuildReport(posts + more, claims, carried, corrected)
    log.info("claims rebuilt: %s", report.as_json())
    return report
