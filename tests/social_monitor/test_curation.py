"""People's corrections of claims on the real store: a verdict reaching the registry and the posts, merging two
claims, splitting posts out of one, the training pairs they leave, and finding similar claims (issue 11)."""
from __future__ import annotations

from typing import Any

import pytest

from social_monitor.claims import ClaimPatch, ReviewState, Verdict
from social_monitor.curation import PairLabel
from social_monitor.errors import ClaimConflict, InvalidClaim
from social_monitor.queries import PostSearch, build_post_search
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore

CORRECTION = "https://binhduong.example.gov.vn/dinh-chinh/truc-thang"
HELICOPTER = ["Tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa, không ra đường",
              "toi nay 23h truc thang rai thuoc khu trung toan tinh binh duong, dong kin cua, khong ra duong nha",
              "NÓNG: tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa không ra đường"]
MARKET = ["Chợ Thủ Dầu Một đóng cửa từ ngày mai 15/8, mọi người đi chợ tích trữ ngay",
          "cho thu dau mot dong cua tu ngay mai 15/8, moi nguoi di cho tich tru ngay"]


def _raw(source_id: str, text: str, **extra: Any) -> RawPost:
    return RawPost.from_json({"id": source_id, "text": text, **extra}, default_source="zalo")


async def _claim_of(store: SocialStore, source_id: str) -> str:
    posts, _ = await store.search_posts(build_post_search(PostSearch(duplicates=True, size=100)))
    return next(str(p.claim_id) for p in posts if p.source_id == source_id)


async def _flagged(store: SocialStore) -> set[str]:
    await store.refresh()
    posts, _ = await store.search_posts(build_post_search(PostSearch(flagged=True, duplicates=True, size=100)))
    return {p.source_id for p in posts}


@pytest.fixture
def service(store: SocialStore) -> SocialService:
    return SocialService(store=store)


async def test_a_false_verdict_enters_the_registry_once_and_flags_the_claims_posts_now_and_later(
        service: SocialService, store: SocialStore) -> None:
    await service.ingest([_raw(f"h{i}", t, published_at=f"2021-08-20T2{i}:00:00+07:00")
                          for i, t in enumerate(HELICOPTER)] + [_raw("m0", MARKET[0])])
    claim_id = await _claim_of(store, "h0")
    claim, version = await store.get_claim(claim_id)
    assert claim.mention_count == 3 and await _flagged(store) == set()

    _, version = await service.review(claim_id, ClaimPatch(str(version), state=ReviewState.IN_REVIEW), "mai")
    judged, version = await service.review(claim_id, ClaimPatch(
        str(version), state=ReviewState.VERDICT_GIVEN, verdict=Verdict.FALSE, correction_url=CORRECTION,
        correction_text="Không có việc rải thuốc bằng trực thăng."), "mai")
    again, _ = await service.review(
        claim_id, ClaimPatch(str(version), note="đã gửi báo chí", correction_text="Tin giả."), "mai")
    known, total = await store.known_claims()

    assert total == 1 and known[0].id == f"claim-{claim_id}" and known[0].text == claim.text
    assert known[0].verdict is Verdict.FALSE and known[0].correction_url == CORRECTION
    assert judged.known_claim_id == known[0].id
    assert any(f.kind.value == "known_claim" and f.correction_url == CORRECTION for f in judged.flags)
    assert [h.action for h in again.history].count("known_claim_registered") == 1
    assert await _flagged(store) == {"h0", "h1", "h2"}  # visible as soon as the review returned

    await service.ingest([_raw("h3", "Tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương nha mọi người, "
                                     "đóng kín cửa không ra đường")])
    assert await _claim_of(store, "h3") == claim_id
    assert await _flagged(store) == {"h0", "h1", "h2", "h3"}


async def test_a_true_verdict_or_one_without_correction_stays_out_of_the_registry(
        service: SocialService, store: SocialStore) -> None:
    await service.ingest([_raw("h0", HELICOPTER[0]), _raw("m0", MARKET[0])])
    for source_id, verdict, url in (("h0", Verdict.TRUE, CORRECTION), ("m0", Verdict.FALSE, None)):
        claim_id = await _claim_of(store, source_id)
        _, version = await store.get_claim(claim_id)
        _, version = await service.review(claim_id, ClaimPatch(str(version), state=ReviewState.IN_REVIEW), "mai")
        await service.review(claim_id, ClaimPatch(str(version), state=ReviewState.VERDICT_GIVEN, verdict=verdict,
                                                  correction_url=url), "mai")

    assert (await store.known_claims())[1] == 0 and await _flagged(store) == set()


async def test_merging_two_claims_moves_posts_counts_and_review_and_stores_same_pairs(
        service: SocialService, store: SocialStore) -> None:
    await service.ingest([_raw("h0", HELICOPTER[0], shares=10), _raw("h1", HELICOPTER[1], likes=2),
                          _raw("x0", "Đêm nay có máy bay phun thuốc diệt virus khắp Bình Dương, nhà nào cũng "
                                     "phải đóng cửa", shares=5),
                          _raw("m0", MARKET[0])])
    target_id, other_id = await _claim_of(store, "h0"), await _claim_of(store, "x0")
    assert target_id != other_id  # a paraphrase the grouping did not see
    target, target_version = await store.get_claim(target_id)
    other, other_version = await store.get_claim(other_id)
    _, other_version = await service.review(other_id, ClaimPatch(str(other_version), state=ReviewState.IN_REVIEW,
                                                                 note="giống tin trực thăng"), "mai")

    with pytest.raises(ClaimConflict):  # the other claim changed since it was read
        await service.merge_claims(target_id, other_id, version=str(target_version),
                                   other_version=str((await store.get_claim(other_id))[1]).replace(":", "0:"),
                                   actor="mai")
    with pytest.raises(InvalidClaim):
        await service.merge_claims(target_id, target_id, version=str(target_version), other_version=None, actor="mai")
    result, _ = await service.merge_claims(target_id, other_id, version=str(target_version),
                                           other_version=str(other_version), actor="mai")

    assert result.mention_count == 3 and result.reach == 17 and result.state is ReviewState.IN_REVIEW
    assert result.history[-1].action == "merge" and result.history[-1].before["claim_id"] == other_id
    assert any(h["after"].get("note") == "giống tin trực thăng" for h in result.history[-1].before["history"])
    posts, _ = await store.search_posts(build_post_search(PostSearch(claim_id=target_id, size=10)))
    assert {p.source_id for p in posts} == {"h0", "h1", "x0"}
    with pytest.raises(Exception, match="no claim"):
        await store.get_claim(other_id)
    pairs = [p async for p in store.scan_pairs()]
    assert {(p.label, p.origin) for p in pairs} == {(PairLabel.SAME, "merge")}
    assert {frozenset((p.a_text[:10], p.b_text[:10])) for p in pairs} == {
        frozenset((HELICOPTER[0][:10], "Đêm nay có")), frozenset((HELICOPTER[1][:10], "Đêm nay có"))}


async def test_splitting_posts_out_makes_a_new_claim_with_their_counts_and_stores_different_pairs(
        service: SocialService, store: SocialStore) -> None:
    await service.ingest([_raw(f"h{i}", t, shares=i + 1) for i, t in enumerate(HELICOPTER)])
    await service.ingest([_raw("copy", HELICOPTER[2], source="facebook")])  # an exact copy of h2 follows it
    claim_id = await _claim_of(store, "h0")
    claim, version = await store.get_claim(claim_id)
    h2 = next(p for p in await store.posts_of_claim(claim_id) if p.source_id == "h2")
    assert claim.mention_count == 4

    with pytest.raises(InvalidClaim, match="not in claim"):
        await service.split_claim(claim_id, ["nope"], version=str(version), actor="mai")
    with pytest.raises(InvalidClaim, match="at least one post"):
        await service.split_claim(claim_id, [p.id for p in await store.posts_of_claim(claim_id)],
                                  version=str(version), actor="mai")
    (rest, _), (new, _) = await service.split_claim(claim_id, [h2.id], version=str(version), actor="mai")
    with pytest.raises(ClaimConflict):
        await service.split_claim(claim_id, [h2.id], version=str(version), actor="mai")

    assert (rest.mention_count, rest.reach) == (2, 3) and (new.mention_count, new.reach) == (2, 3)
    assert rest.history[-1].action == "split" and new.history[0].before["claim_id"] == claim_id
    assert {p.source_id for p in await store.posts_of_claim(new.id)} == {"h2", "copy"}
    assert sum(rest.hourly.values()) == 2 and sum(new.hourly.values()) == 2
    pairs = [p async for p in store.scan_pairs()]
    assert sorted(p.label for p in pairs) == [PairLabel.DIFFERENT] * 2
    assert all(h2.id in (p.a_post, p.b_post) for p in pairs)


async def test_similar_claims_rank_the_claim_that_says_the_same_first(service: SocialService,
                                                                     store: SocialStore) -> None:
    await service.ingest([_raw("h0", HELICOPTER[0]), _raw("m0", MARKET[0])])

    found = await service.similar_claims("có phải tối nay trực thăng rải thuốc ở Bình Dương không?", 5)
    none = await service.similar_claims("   ", 5)

    assert [s.claim.text for s in found][:1] == [HELICOPTER[0]]
    assert found[0].similarity > (found[1].similarity if len(found) > 1 else 0)
    assert none == []
