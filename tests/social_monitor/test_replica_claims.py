"""Claim creation across replicas (issue 16, item 4): two services on the same indices that receive the same new
rumour at the same moment make one claim per group, with every post counted once, as one service alone does."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import AsyncElasticsearch

from hotline import indices
from models import registry
from social_monitor.matching import ClaimMatcher
from social_monitor.pairs import PairScorer
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore

AT = datetime(2021, 8, 9, 20, 0, tzinfo=timezone(timedelta(hours=7)))
RUMOURS = [
    "THÔNG BÁO KHẨN: UBND TP Dĩ An phong tỏa toàn thành phố từ 0 giờ ngày 10/8/2021, người dân không ra khỏi nhà.",
    "[Chuyển tiếp] Chia sẻ gấp: Dĩ An khóa chặt hết từ nửa đêm mùng 10, ai cần gì mua ngay tối nay!!!",
    "di an lockdown tu 0h 10-8 nha mn, ko ai dc ra duong, di cho cung ko dc",
    "THÔNG BÁO KHẨN: UBND TP Dĩ An phong tỏa toàn thành phố từ 0 giờ ngày 10/8/2021, người dân không ra khỏi nhà!",
    "Uống nước lá tía tô đun sôi ba lần mỗi ngày sẽ khỏi hẳn Covid trong 2 ngày, bác sĩ bệnh viện Chợ Rẫy xác nhận",
    "uong nuoc la tia to dun soi 3 lan moi ngay se khoi han covid trong 2 ngay, bac si cho ray xac nhan",
    "Chợ Thủ Dầu Một đóng cửa từ mai, ai cần mua gì thì đi ngay hôm nay kẻo hết hàng",
]
Posts = list[RawPost]


def _posts() -> Posts:
    return [RawPost(source="facebook", source_id=f"r{n}", text=text, published_at=AT + timedelta(minutes=n),
                    likes=n, shares=2 * n) for n, text in enumerate(RUMOURS)]


@pytest.fixture(scope="module")
def pair_scorer() -> PairScorer:
    return PairScorer(registry.load("claim_matcher"))


def _matcher(scorer: PairScorer) -> ClaimMatcher:
    return ClaimMatcher(scorer)


async def _claims(store: SocialStore) -> dict[str, tuple[int, int, tuple[str, ...]]]:
    """claim id -> (mentions, reach, post ids), read back from the index."""
    await store.refresh()
    return {claim.id: (claim.mention_count, claim.reach, tuple(sorted(claim.post_ids)))
            async for claim, _ in store.scan_claims()}


async def _post_claims(es: AsyncElasticsearch, store: SocialStore) -> dict[str, str]:
    resp = await es.search(index=store.posts, size=100, query={"match_all": {}})
    return {h["_source"]["source_id"]: h["_source"]["claim_id"] for h in resp["hits"]["hits"]}


@pytest.mark.parametrize("grouping", ["paraphrase matcher", "near-copies (MinHash)"])
async def test_two_replicas_receiving_the_same_rumour_at_once_make_one_claim_per_group(
        es: AsyncElasticsearch, unique_prefix: str, pair_scorer: PairScorer, grouping: str) -> None:
    make: Callable[[SocialStore], SocialService] = (
        (lambda store: SocialService(store=store, claim_matcher=_matcher(pair_scorer)))
        if grouping == "paraphrase matcher" else (lambda store: SocialService(store=store)))
    alone, shared = f"{unique_prefix}alone-", f"{unique_prefix}shared-"
    for prefix in (alone, shared):
        await indices.ensure_all(es, prefix)
    reference = make(SocialStore(es, alone))
    await reference.ingest(_posts())
    # Two replicas: their own stores (and claim caches) and matchers, on the same indices.
    first, second = make(SocialStore(es, shared)), make(SocialStore(es, shared))

    # Both analyse the posts before either writes (neither can see the other's claims), then both write at once.
    prepared = await asyncio.gather(first.prepare(_posts()), second.prepare(_posts()))
    reports = await asyncio.gather(first.commit(prepared[0]), second.commit(prepared[1]))

    expected = await _claims(reference.store)
    assert len(expected) >= 3  # the two rumours, reworded, and the market closing: a real grouping to repeat
    assert all(r.indexed + r.duplicates == len(RUMOURS) for r in reports)
    assert await _claims(first.store) == expected  # the same claims, each post counted once
    assert await _post_claims(es, first.store) == await _post_claims(es, reference.store)
    # and a third delivery of the same posts, after both, changes nothing
    await second.ingest(_posts())
    assert await _claims(second.store) == expected
