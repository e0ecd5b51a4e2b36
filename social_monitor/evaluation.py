"""Measuring the claim matcher through the real ingest path (`hotline claims evaluate`).

Every registry text of the split is registered as a known claim, then the split's posts are ingested by
SocialService (in batches, or one by one) and read back from the posts index: each post's `claim_id` gives the
grouping, its `known_claim_id` the known-claim match. Figures: claim_data.pairwise / close_pairs_merged /
known_claim_rates.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import Any, Final

from social_monitor.claim_data import LabelledClaim, LabelledPost, close_pairs_merged, known_claim_rates, pairwise
from social_monitor.claims import KnownClaim, Verdict
from social_monitor.queries import PostSearch, build_post_search
from social_monitor.records import RawPost, post_id
from social_monitor.service import SocialService

PAGE: Final = 1000
EVALUATOR: Final = "claims-evaluate"


def raw_posts(posts: Sequence[LabelledPost]) -> list[RawPost]:
    """The labelled posts as a source would hand them over."""
    return [RawPost(source=p.source, source_id=p.id, text=p.text, author=p.author, published_at=p.posted_at)
            for p in posts]


def known_claims(claims: Sequence[LabelledClaim]) -> list[KnownClaim]:
    """Each claim's registry text as a known claim (id = the claim id of the split)."""
    now = datetime.now(timezone.utc)
    return [KnownClaim(c.claim, c.registry_text, Verdict(c.verdict), date(2021, 8, 31), EVALUATOR, now,
                       correction_url=f"https://example.invalid/kiem-chung/{c.claim}") for c in claims]


async def ingest(service: SocialService, posts: Sequence[LabelledPost], *, batch: int) -> float:
    """Ingest in batches of `batch` (1: one by one); returns posts per second."""
    raws = raw_posts(posts)
    started = time.perf_counter()
    for start in range(0, len(raws), batch):
        await service.ingest(raws[start:start + batch])
    return len(raws) / max(time.perf_counter() - started, 1e-9)


async def read_back(service: SocialService, posts: Sequence[LabelledPost]) -> tuple[list[str], list[str | None]]:
    """(claim id, known claim id) of each labelled post, as GET /api/posts?duplicates=true serves them."""
    await service.store.refresh()
    stored: dict[str, tuple[str, str | None]] = {}
    page = 1
    while True:
        found, total = await service.store.search_posts(build_post_search(PostSearch(duplicates=True, page=page,
                                                                                     size=PAGE)))
        for post in found:
            stored[post.id] = (post.claim_id or post.id, post.known_claim_id)
        if page * PAGE >= total or not found:
            break
        page += 1
    keys = [post_id(p.source, p.id) for p in posts]
    return [stored[k][0] for k in keys], [stored[k][1] for k in keys]


async def evaluate(service: SocialService, claims: Sequence[LabelledClaim], posts: Sequence[LabelledPost], *,
                   batch: int = 1000) -> dict[str, Any]:
    """Register the split's known claims, ingest its posts, and measure (on empty indices)."""
    for known in known_claims(claims):
        await service.register_known_claim(known)
    rate = await ingest(service, posts, batch=batch)
    predicted, matched = await read_back(service, posts)
    truth = [p.claim for p in posts]
    return {"posts": len(posts), "claims": len(claims), "batch": batch,
            "pairwise": pairwise(truth, predicted, [p.id for p in posts]),
            "claims_found": len(set(predicted)), "close_pairs": sum(len(c.close_to) for c in claims) // 2,
            "close_pairs_merged": close_pairs_merged(claims, truth, predicted),
            "known_claims": known_claim_rates(claims, truth, matched),
            "posts_per_second": round(rate, 1)}
