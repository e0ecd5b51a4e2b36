"""The ingest path end to end on recorded sources: collect -> journal -> score -> group -> match -> flag."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from classifier.text import normalise
from social_monitor.analysis import ProcessAnalyser, ThreadAnalyser
from social_monitor.claims import KnownClaim, ReviewState, Verdict
from social_monitor.cli import import_file
from social_monitor.clustering import FlagPolicy
from social_monitor.collectors import Collector, FacebookCollector, RssCollector
from social_monitor.journal import PostJournal
from social_monitor.queries import ClaimSearch, PostSearch, build_claim_search, build_post_search
from social_monitor.records import FlagKind, RawPost
from social_monitor.scheduler import CollectorScheduler
from social_monitor.scoring import MisinformationScorer
from social_monitor.service import SocialService
from hotline.fetch import GuardedFetcher
from social_monitor.store import SocialStore
from tests.factories import LOCAL_FETCH
from social_monitor.worker import IngestWorker
from tests.social_monitor.conftest import DATA, GOOD_TOKEN, Sources

CORRECTION = "https://binhduong.example.gov.vn/dinh-chinh/nuoc-chanh-khong-chua-covid"
RUMOUR_WORDS = "truc thang rai thuoc khu trung"


def _known(text: str, verdict: Verdict = Verdict.FALSE, url: str | None = CORRECTION) -> KnownClaim:
    return KnownClaim("kc-" + str(abs(hash(text)))[:8], text, verdict, datetime(2021, 8, 19).date(), "comms-user",
                      datetime.now(timezone.utc), "Uống nước chanh không chữa được COVID-19.", url)


@pytest.fixture
async def session() -> AsyncIterator[GuardedFetcher]:
    """The guarded fetcher the app uses, allowed to reach the local fake sources (http on 127.0.0.1)."""
    fetcher = GuardedFetcher(LOCAL_FETCH)
    yield fetcher
    await fetcher.close()


def _collectors(server: TestServer, session: GuardedFetcher) -> list[Collector]:
    return [RssCollector("baobd", str(server.make_url("/news.rss")), session, interval_s=60),
            RssCollector("ubnd", str(server.make_url("/official.atom")), session, interval_s=60),
            FacebookCollector("fb-hoidan", "104857392011", session, access_token=GOOD_TOKEN,
                              graph_base=str(server.make_url("/v19.0")), interval_s=60)]


async def _collect(journal: PostJournal, collectors: list[Collector], service: SocialService) -> int:
    worker = IngestWorker(journal, service)
    scheduler = CollectorScheduler(journal, collectors, on_accept=worker.notify)
    for collector in collectors:
        await scheduler.run_once(collector.name)
    return await worker.drain_once()


async def _all_posts(store: SocialStore) -> list[Any]:
    posts, total = await store.search_posts(build_post_search(PostSearch(size=1000)))
    assert total == len(posts)
    return posts


async def test_recorded_sources_are_grouped_matched_flagged_and_survive_a_restart(
        store: SocialStore, scorer: MisinformationScorer, source_server: tuple[TestServer, Sources],
        session: GuardedFetcher, tmp_path: Path) -> None:
    server, _ = source_server
    service = SocialService(store=store, scorer=scorer, policy=FlagPolicy(score_threshold=0.8))
    await service.register_known_claim(_known("Uống nước chanh nóng chữa khỏi COVID-19"))
    journal = PostJournal(tmp_path / "social.sqlite3")

    started = time.perf_counter()
    collected = await _collect(journal, _collectors(server, session), service)
    imported, rejected = await import_file(service, DATA / "zalo_export.jsonl", "zalo", lambda _: None)
    elapsed = time.perf_counter() - started
    print(f"ingest: {collected + imported.received} posts in {elapsed:.2f}s = "
          f"{(collected + imported.received) / elapsed:.0f} posts/s")

    posts = await _all_posts(store)
    assert (collected, imported.received, rejected) == (200, 100, 2)
    rumour = [p for p in posts if RUMOUR_WORDS in normalise(p.text).folded]
    assert len(rumour) >= 5 and len({p.claim_id for p in rumour}) == 1
    assert {p.source for p in rumour} == {"baobd", "ubnd", "fb-hoidan", "zalo-khupho"}
    assert any(all(c.isascii() or not c.isalpha() for c in p.text) for p in rumour), "no unaccented variant"
    claim, _ = await store.get_claim(rumour[0].claim_id or "")
    assert claim.mention_count == 30  # exact copies are mentions too, though indexed once
    assert claim.reach > 0 and claim.first_seen < claim.last_seen
    lemon = [p for p in posts if "chanh nong" in normalise(p.text).folded]
    assert lemon and all(p.correction_url == CORRECTION and p.verdict == "false" for p in lemon)
    assert all(any(f.kind is FlagKind.KNOWN_CLAIM and f.correction_url == CORRECTION for f in p.flags) for p in lemon)
    lemon_claim, _ = await store.get_claim(lemon[0].claim_id or "")
    assert lemon_claim.state is ReviewState.FLAGGED and lemon_claim.correction_url == CORRECTION
    assert all(p.misinformation_score is not None and 0 <= p.misinformation_score <= 1 for p in posts)
    model_flags = [f for p in posts for f in p.flags if f.kind is FlagKind.MODEL]
    assert model_flags and all(f.message.startswith("Mô hình đánh giá khả năng tin sai") for f in model_flags)
    assert any(f.reasons for f in model_flags)  # one explained mention per newly flagged claim

    journal.close()
    reopened = PostJournal(tmp_path / "social.sqlite3")
    again = await _collect(reopened, _collectors(server, session), service)
    replay, _ = await import_file(service, DATA / "zalo_export.jsonl", "zalo", lambda _: None)
    after = await _all_posts(store)
    claim_after, _ = await store.get_claim(claim.id)
    assert again == 0 and (replay.indexed, replay.replayed) == (0, 100)
    assert sorted(p.id for p in after) == sorted(p.id for p in posts)
    assert claim_after.mention_count == claim.mention_count
    reopened.close()


async def test_a_claim_whose_mentions_grow_fast_is_flagged(store: SocialStore) -> None:
    now = datetime(2021, 8, 20, 12, tzinfo=timezone.utc)
    service = SocialService(store=store, policy=FlagPolicy(growth_min_mentions=6, growth_ratio=3.0),
                            clock=lambda: now)
    text = "Nghe nói nhà máy nước Dĩ An bị nhiễm virus, mọi người đừng uống nước máy {n} ngày tới"
    older = [RawPost("zalo", f"old-{n}", text.format(n=n + 2), published_at=now - timedelta(hours=30))
             for n in range(1)]
    recent = [RawPost("zalo", f"new-{n}", text.format(n=n + 3), published_at=now - timedelta(hours=n % 20),
                      shares=n) for n in range(7)]

    await service.ingest(older)
    await service.ingest(recent)

    claims, total = await store.search_claims(build_claim_search(ClaimSearch(flagged=True)))
    assert total == 1
    claim = claims[0][0]
    assert (claim.mentions_24h, claim.mentions_prev_24h, claim.mention_count) == (7, 1, 8)
    growth = next(f for f in claim.flags if f.kind is FlagKind.GROWTH)
    assert growth.message == "Lượt nhắc tăng nhanh: 7 trong 24 giờ qua (24 giờ trước đó: 1)"
    assert claim.state is ReviewState.FLAGGED and claim.history[-1].actor == "system"


async def test_registering_a_known_claim_flags_the_claims_already_seen(store: SocialStore) -> None:
    service = SocialService(store=store)
    await service.ingest([RawPost("fb", "1", "Mọi người ơi uống nước chanh nóng mỗi sáng chữa khỏi COVID-19 đó, "
                                             "bác sĩ Chợ Rẫy nói vậy")])

    matched = await service.register_known_claim(_known("uống nước chanh nóng chữa khỏi covid 19"))
    await store.refresh()

    claims, _ = await store.search_claims(build_claim_search(ClaimSearch()))
    assert matched == 1
    claim = claims[0][0]
    assert (claim.verdict, claim.correction_url, claim.state) == (Verdict.FALSE, CORRECTION, ReviewState.FLAGGED)


async def test_a_true_known_claim_is_attached_but_not_flagged(store: SocialStore) -> None:
    service = SocialService(store=store)
    await service.register_known_claim(_known("Bình Dương nhận thêm 500.000 liều vắc xin Vero Cell", Verdict.TRUE,
                                              url=None))

    await service.ingest([RawPost("rss", "a", "Bình Dương nhận thêm 500.000 liều vắc xin Vero Cell cho công nhân")])

    posts = await _all_posts(store)
    assert posts[0].verdict == "true" and posts[0].flags == ()


async def test_a_backlog_drains_in_pipelined_batches_and_copies_join_their_original(
        store: SocialStore, scorer: MisinformationScorer, tmp_path: Path) -> None:
    journal = PostJournal(tmp_path / "social.sqlite3")
    now = datetime.now(timezone.utc)
    rumour = "Tối nay trực thăng rải thuốc khử trùng toàn tỉnh, mọi người đóng cửa sổ"
    texts = [f"Phản ánh số {n}: đường {n} ở phường Phú Hòa ngập nước sau mưa" for n in range(23)]
    texts[4] = texts[17] = rumour  # the copy arrives two batches after its original
    journal.accept([RawPost(source="zalo", source_id=f"z{n}", text=t, published_at=now - timedelta(minutes=n))
                    for n, t in enumerate(texts)], now)
    worker = IngestWorker(journal, SocialService(store=store, scorer=scorer), batch=5)

    processed = await worker.drain_once()

    posts, _ = await store.search_posts(build_post_search(PostSearch(size=100, duplicates=True)))
    assert processed == 23 and journal.counts()["pending"] == 0
    assert len(posts) == 23 and all(p.misinformation_score is not None for p in posts if p.duplicate_of is None)
    copies = [p for p in posts if RUMOUR_WORDS in normalise(p.text).folded]
    original = next(p for p in copies if p.duplicate_of is None)
    assert len(copies) == 2 and {p.claim_id for p in copies} == {original.claim_id}
    claim, _ = await store.get_claim(original.claim_id or "")
    assert claim.mention_count == 2
    journal.close()


async def test_analysis_in_a_worker_process_gives_what_the_thread_gives(scorer: MisinformationScorer) -> None:
    posts = [RawPost(source="zalo", source_id=f"z{n}", text=t) for n, t in enumerate([
        "Tối nay trực thăng rải thuốc khử trùng toàn tỉnh, mọi người đóng cửa sổ",
        "toi nay truc thang rai thuoc khu trung toan tinh, moi nguoi dong cua so",
        "Tối nay trực thăng rải thuốc khử trùng toàn tỉnh, mọi người đóng cửa sổ",
        "!!!"])]
    in_thread = ThreadAnalyser(scorer)
    in_process = ProcessAnalyser(scorer, processes=1)
    try:
        here, there = await in_thread(posts), await in_process(posts)
    finally:
        in_process.close()

    assert there == here
    assert here.scores[2] is None and here.scores[0] is not None  # the exact copy is not scored twice
    assert here.signatures[3] is None and here.signatures[0] == here.signatures[2]
