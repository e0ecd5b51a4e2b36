"""Collectors and their scheduler against a local server playing the sources (never the internet)."""
from __future__ import annotations

from collections.abc import AsyncIterator

from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from elasticsearch import AsyncElasticsearch

import intake.index
from hotline import indices
from social_monitor.collectors import FacebookCollector, RssCollector, TicketCollector, parse_sources
from social_monitor.errors import SourceFailed
from social_monitor.journal import PostJournal
from social_monitor.queries import ClaimSearch, build_claim_search
from social_monitor.scheduler import CollectorScheduler
from social_monitor.service import SocialService
from hotline.fetch import GuardedFetcher
from social_monitor.store import SocialStore
from tests.factories import LOCAL_FETCH
from tests.social_monitor.conftest import GOOD_TOKEN, Sources

@pytest.fixture
async def session() -> AsyncIterator[GuardedFetcher]:
    """The guarded fetcher the app uses, allowed to reach the local fake sources (http on 127.0.0.1)."""
    fetcher = GuardedFetcher(LOCAL_FETCH)
    yield fetcher
    await fetcher.close()

def _facebook(server: TestServer, session: GuardedFetcher, token: str = GOOD_TOKEN) -> FacebookCollector:
    return FacebookCollector("fb-hoidan", "104857392011", session, access_token=token,
                             graph_base=str(server.make_url("/v19.0")), interval_s=60)

async def test_rss_and_atom_feeds_become_posts_with_text_link_and_time(source_server: tuple[TestServer, Sources],
                                                                       session: GuardedFetcher) -> None:
    server, _ = source_server
    rss = await RssCollector("baobd", str(server.make_url("/news.rss")), session, interval_s=60).collect(None)
    atom = await RssCollector("ubnd", str(server.make_url("/official.atom")), session, interval_s=60).collect(None)

    assert (len(rss.posts), len(atom.posts)) == (60, 40)
    first = rss.posts[0]
    assert first.source == "baobd" and first.source_id.startswith("bbd-")
    assert first.url and first.url.startswith("https://baobinhduong.example.vn/tin/")
    assert "<p>" not in first.text and first.published_at is not None
    assert atom.posts[0].author == "Cổng thông tin điện tử tỉnh"
    assert rss.cursor == max(p.published_at for p in rss.posts if p.published_at).isoformat()  # type: ignore[type-var]

async def test_rss_cursor_skips_what_was_read(source_server: tuple[TestServer, Sources],
                                              session: GuardedFetcher) -> None:
    server, _ = source_server
    collector = RssCollector("baobd", str(server.make_url("/news.rss")), session, interval_s=60)
    first = await collector.collect(None)

    again = await collector.collect(first.cursor)

    assert len(again.posts) == 1  # the newest, published exactly at the cursor; the journal drops it
    assert again.cursor == first.cursor

async def test_graph_feed_follows_cursors_and_reads_counts(source_server: tuple[TestServer, Sources],
                                                           session: GuardedFetcher) -> None:
    server, sources = source_server
    batch = await _facebook(server, session).collect(None)

    assert len(batch.posts) == 100
    assert any("after=QVFIUmlQbVlfcGFnZTI" in r for r in sources.requests)
    post = batch.posts[0]
    assert post.author and post.url and post.url.startswith("https://www.facebook.com/groups/")
    assert post.likes is not None and post.comments is not None
    assert batch.cursor == str(max(int(p.published_at.timestamp()) for p in batch.posts if p.published_at))

@pytest.mark.parametrize(("path", "status", "message"), [
    ("/broken.xml", None, "malformed feed"),
    ("/news.rss", 500, "HTTP 500"),
])
async def test_feed_failures_raise_a_one_line_reason(source_server: tuple[TestServer, Sources],
                                                     session: GuardedFetcher, path: str, status: int | None,
                                                     message: str) -> None:
    server, sources = source_server
    if status:
        sources.broken[path] = status
    with pytest.raises(SourceFailed, match=message):
        await RssCollector("x", str(server.make_url(path)), session, interval_s=60).collect(None)

async def test_expired_graph_token_says_so(source_server: tuple[TestServer, Sources],
                                           session: GuardedFetcher) -> None:
    server, _ = source_server
    with pytest.raises(SourceFailed, match="access token expired or invalid.*Session has expired"):
        await _facebook(server, session, token="EAAB-expired").collect(None)

async def test_failing_sources_are_unhealthy_and_do_not_stop_the_others(
        source_server: tuple[TestServer, Sources], session: GuardedFetcher, tmp_path: Path) -> None:
    server, sources = source_server
    sources.broken["/news.rss"] = 500
    journal = PostJournal(tmp_path / "social.sqlite3")
    collectors = [RssCollector("baobd", str(server.make_url("/news.rss")), session, interval_s=60),
                  RssCollector("broken", str(server.make_url("/broken.xml")), session, interval_s=60),
                  _facebook(server, session, token="EAAB-expired"),
                  RssCollector("ubnd", str(server.make_url("/official.atom")), session, interval_s=60)]
    scheduler = CollectorScheduler(journal, collectors, on_accept=lambda: None, max_backoff_s=600)

    waits = {c.name: await scheduler.run_once(c.name) for c in collectors}
    second = await scheduler.run_once("baobd")

    status = {s.name: s for s in journal.statuses()}
    assert status["ubnd"].healthy and status["ubnd"].collected == 40 and waits["ubnd"] == 60
    assert not status["baobd"].healthy and status["baobd"].last_error == f"HTTP 500 from {server.make_url('/news.rss')}"
    assert "malformed feed" in (status["broken"].last_error or "")
    assert "access token expired" in (status["fb-hoidan"].last_error or "")
    assert (waits["baobd"], second, status["baobd"].failures) == (60, 120, 2)  # backoff doubles
    assert journal.counts()["pending"] == 40
    journal.close()

async def test_a_restarted_collector_resumes_without_re_reading_or_losing(
        source_server: tuple[TestServer, Sources], session: GuardedFetcher, tmp_path: Path) -> None:
    server, _ = source_server
    path = tmp_path / "social.sqlite3"
    first = PostJournal(path)
    scheduler = CollectorScheduler(first, [_facebook(server, session)], on_accept=lambda: None)
    await scheduler.run_once("fb-hoidan")
    cursor = first.cursor("fb-hoidan")
    first.close()

    reopened = PostJournal(path)  # a new process: same file, new objects
    again = CollectorScheduler(reopened, [_facebook(server, session)], on_accept=lambda: None)
    await again.run_once("fb-hoidan")

    assert cursor is not None and reopened.cursor("fb-hoidan") == cursor
    assert reopened.counts()["pending"] == 100
    assert {s.name: s.collected for s in reopened.statuses()} == {"fb-hoidan": 100}
    reopened.close()

@pytest.mark.parametrize(("raw", "expected"), [
    ("a=https://x/rss", [("a", "https://x/rss", 300.0)]),
    ("a=https://x/rss@600, b=12345", [("a", "https://x/rss", 600.0), ("b", "12345", 300.0)]),
    ("", []),
])
def test_source_specs_are_parsed(raw: str, expected: list[tuple[str, str, float]]) -> None:
    assert [(s.name, s.target, s.interval_s) for s in parse_sources(raw, default_interval_s=300)] == expected

@pytest.mark.parametrize("raw", ["no-equals-sign", "a=https://x@0", "a=x,a=y", "=https://x"])
def test_bad_source_specs_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_sources(raw, default_interval_s=300)


async def test_misinformation_tickets_become_mentions_of_claims(store: SocialStore, es: AsyncElasticsearch,
                                                                unique_prefix: str) -> None:
    await indices.ensure(es, indices.IndexSpec.from_module(intake.index), unique_prefix)
    for n, (category, text) in enumerate([("misinformation_report", "Người dân báo: có tin trực thăng rải thuốc "
                                                                     "khử trùng toàn tỉnh tối nay, có đúng không?"),
                                          ("food_supply", "hết gạo")]):
        await es.index(index=f"{unique_prefix}tickets", id=f"t{n}", refresh=True, document={
            "id": f"t{n}", "number": f"210820-{n}", "channel": "call", "status": "new", "text": text,
            "category": category, "created_at": f"2021-08-20T0{n}:00:00+00:00",
            "updated_at": "2021-08-20T01:00:00+00:00"})
    collector = TicketCollector(store)

    batch = await collector.collect(None)
    later = await collector.collect(batch.cursor)
    await SocialService(store=store).ingest(batch.posts)

    assert [p.source_id for p in batch.posts] == ["t0"] and later.posts == ()
    claims, _ = await store.search_claims(build_claim_search(ClaimSearch()))
    assert claims[0][0].ticket_ids == ("t0",) and claims[0][0].post_ids == ()
