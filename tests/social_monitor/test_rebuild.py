"""`hotline claims rebuild` on the real node: an interrupted rebuild leaves the old claims as they were; a complete
one regroups every post and hands each reviewed claim's review to the new claim holding most of its posts."""
from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.claims_rebuild import rebuild_claims
from hotline.cli import cli
from hotline.settings import Settings
from social_monitor.claims import ClaimPatch, ReviewState, Verdict
from social_monitor.queries import PostSearch, build_post_search
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore

CORRECTION = "https://binhduong.example.gov.vn/dinh-chinh/truc-thang"
POSTS = [("h0", "Tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa, không ra đường"),
         ("h1", "toi nay 23h truc thang rai thuoc khu trung toan tinh binh duong, dong kin cua, khong ra duong nha"),
         ("h2", "NÓNG: tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa không ra đường"),
         ("x0", "Đêm nay có máy bay phun thuốc diệt virus khắp Bình Dương, nhà nào cũng phải đóng cửa"),
         ("m0", "Chợ Thủ Dầu Một đóng cửa từ ngày mai 15/8, mọi người đi chợ tích trữ ngay"),
         ("m1", "cho thu dau mot dong cua tu ngay mai 15/8 nha, moi nguoi di cho tich tru ngay di")]


async def _claims_by_post(store: SocialStore) -> dict[str, str]:
    await store.refresh()
    posts, _ = await store.search_posts(build_post_search(PostSearch(duplicates=True, size=100)))
    return {p.source_id: str(p.claim_id) for p in posts}


async def _reviewed_world(store: SocialStore) -> tuple[str, str]:
    """Six posts ingested one by one; the helicopter claim reviewed to a false verdict, with `x0` merged in by
    hand (the matcher did not see it); `m1` split out of the market claim by hand."""
    service = SocialService(store=store)
    for source_id, text in POSTS:
        await service.ingest([RawPost.from_json({"id": source_id, "text": text}, default_source="zalo")])
    by_post = await _claims_by_post(store)
    heli, other = by_post["h0"], by_post["x0"]
    _, version = await store.get_claim(heli)
    _, version = await service.review(heli, ClaimPatch(str(version), state=ReviewState.IN_REVIEW,
                                                       note="gọi Sở Y tế"), "mai")
    _, version = await service.merge_claims(heli, other, version=str(version), other_version=None, actor="mai")
    await service.review(heli, ClaimPatch(str(version), state=ReviewState.VERDICT_GIVEN, verdict=Verdict.FALSE,
                                          correction_url=CORRECTION), "mai")
    market, version = await store.get_claim(by_post["m0"])
    m1 = next(p.id for p in await store.posts_of_claim(market.id) if p.source_id == "m1")
    await service.split_claim(market.id, [m1], version=str(version), actor="mai")
    return heli, market.id


class Interrupted(Exception):
    pass


async def _targets(es: AsyncElasticsearch, prefix: str) -> dict[str, tuple[str, ...]]:
    return {name: await indices.alias_targets(es, f"{prefix}{name}") for name in ("posts", "claims")}


async def test_an_interrupted_rebuild_leaves_the_old_claims_and_a_second_run_carries_reviews_over(
        settings: Settings, es: AsyncElasticsearch, unique_prefix: str, store: SocialStore) -> None:
    heli, market = await _reviewed_world(store)
    before = {c.id: (c, v) async for c, v in store.scan_claims()}
    aliases = await _targets(es, unique_prefix)
    calls: list[int] = []

    def interrupt(done: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise Interrupted("power cut")

    with pytest.raises(Interrupted):
        await rebuild_claims(replace(settings, index_prefix=unique_prefix), es, on_start=lambda total: None,
                             on_progress=interrupt)

    assert await _targets(es, unique_prefix) == aliases
    assert not [i for i in (await es.indices.get(index=f"{unique_prefix}*")).body if "-r" in i]
    assert {c.id: (c, v) async for c, v in store.scan_claims()} == before

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["claims", "rebuild", "--batch", "2"], env={
        "ES_URL": settings.es_url or "", "INDEX_PREFIX": unique_prefix, "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(settings.data_dir)})

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"posts": 6, "claims": 3, "reviews_carried": 3, "corrections_replayed": 2}
    assert all(t[0].startswith(f"{unique_prefix}{n}-v") and "-r" in t[0]
               for n, t in (await _targets(es, unique_prefix)).items())
    fresh = SocialStore(es, unique_prefix)
    by_post = await _claims_by_post(fresh)
    assert by_post["h0"] == by_post["h1"] == by_post["h2"] == by_post["x0"]  # people's merge redone
    assert by_post["m0"] == market != by_post["m1"]  # and their split
    claim, _ = await fresh.get_claim(by_post["h0"])
    assert (claim.state, claim.verdict, claim.correction_url) == (ReviewState.VERDICT_GIVEN, Verdict.FALSE, CORRECTION)
    assert claim.known_claim_id == f"claim-{heli}" and claim.mention_count == 4
    actions = [h.action for h in claim.history]
    assert actions[-1] == "rebuild" and claim.history[-1].after["posts"] == 4 and claim.history[-1].after["of"] == 4
    assert {"merge", "known_claim_registered", "note"} <= set(actions)
    assert (await fresh.get_claim(market))[0].mention_count == 1
    flagged, _ = await fresh.search_posts(build_post_search(PostSearch(flagged=True, duplicates=True, size=10)))
    assert {p.source_id for p in flagged if p.known_claim_id} == {"h0", "h1", "h2", "x0"}  # the CLI also scores
    assert {(p.label.value, p.actor) async for p in fresh.scan_pairs()} == {("same", "mai"), ("different", "mai")}
    status = await asyncio.to_thread(CliRunner().invoke, cli, ["index", "status"], env={
        "ES_URL": settings.es_url or "", "INDEX_PREFIX": unique_prefix, "LOG_LEVEL": "WARNING"})
    assert status.exit_code == 0, status.output
    migrated = await asyncio.to_thread(CliRunner().invoke, cli, ["index", "migrate"], env={
        "ES_URL": settings.es_url or "", "INDEX_PREFIX": unique_prefix, "LOG_LEVEL": "WARNING"})
    assert migrated.exit_code == 0 and {m["copied"] for m in json.loads(migrated.output)} == {0}  # nothing to redo
