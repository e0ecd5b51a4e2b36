"""Issue 14, #5, #6 and #12: every outside URL goes through one guarded fetcher (https, public addresses,
redirects re-checked, size and time limits), and tokens never reach errors or logs."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hotline.fetch import FetchFailed, FetchPolicy, FetchRefused, GuardedFetcher
from intake.twilio_api import TwilioApi, TwilioApiError
from social_monitor.collectors import FacebookCollector
from social_monitor.journal import PostJournal
from social_monitor.scheduler import CollectorScheduler
from tests.factories import LOCAL_FETCH

TOKEN = "EAAB-secret-token-0123456789"


@pytest.fixture
async def server(aiohttp_server: Any) -> AsyncIterator[tuple[TestServer, list[dict[str, str]]]]:
    """A local server: a small file, a big one, a slow one, redirects (to loopback names and to metadata)."""
    seen: list[dict[str, str]] = []

    async def small(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(body=b"RIFF....WAVE", content_type="audio/wav")

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # chunked, no Content-Length: the limit must hold while reading
        await resp.prepare(request)
        for _ in range(40):
            await resp.write(b"x" * 65536)
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    def redirect(to: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            raise web.HTTPFound(to.replace("PORT", str(request.url.port)))
        return handler
    app = web.Application()
    app.router.add_get("/small.wav", small)
    app.router.add_get("/big", big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"))
    app.router.add_get("/to-localhost", redirect("http://localhost:PORT/small.wav"))
    app.router.add_get("/loop", redirect("/loop"))
    yield await aiohttp_server(app), seen


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://169.254.169.254/latest/",
                                 "https://[::1]/x", "https://10.1.2.3/x", "https://[::ffff:127.0.0.1]/x",
                                 "https://localhost/x", "ftp://example.org/x", "file:///etc/passwd"])
async def test_the_default_policy_refuses_private_addresses_and_other_schemes(url: str) -> None:
    fetcher = GuardedFetcher(FetchPolicy())
    try:
        with pytest.raises(FetchRefused):
            await fetcher(url)
    finally:
        await fetcher.close()


async def test_names_are_checked_after_resolution_and_redirects_are_rechecked(server: Any) -> None:
    test_server, _ = server
    base = f"http://127.0.0.1:{test_server.port}"
    # localhost may use http but not resolve to loopback: only 127.0.0.1 (the literal) is exempt.
    fetcher = GuardedFetcher(FetchPolicy(http_hosts=frozenset({"127.0.0.1", "localhost"}),
                                         private_hosts=("127.0.0.1",)))
    try:
        assert (await fetcher(f"{base}/small.wav")).body == b"RIFF....WAVE"
        with pytest.raises(FetchRefused, match="non-public"):
            await fetcher(f"http://localhost:{test_server.port}/small.wav")
        with pytest.raises(FetchRefused, match="non-public"):
            await fetcher(f"{base}/to-localhost")
        with pytest.raises(FetchRefused):
            await fetcher(f"{base}/to-metadata")
        with pytest.raises(FetchFailed, match="redirects"):
            await fetcher(f"{base}/loop")
    finally:
        await fetcher.close()


async def test_size_and_time_are_limited(server: Any) -> None:
    test_server, _ = server
    base = f"http://127.0.0.1:{test_server.port}"
    fetcher = GuardedFetcher(FetchPolicy(http_hosts=frozenset({"127.0.0.1"}), private_hosts=("127.0.0.1",),
                                         max_bytes=1_000_000, timeout_s=1.0))
    try:
        with pytest.raises(FetchRefused, match="larger"):
            await fetcher(f"{base}/big")
        started = asyncio.get_running_loop().time()
        with pytest.raises(FetchFailed, match="longer than"):
            await fetcher(f"{base}/slow")
        assert asyncio.get_running_loop().time() - started < 3
    finally:
        await fetcher.close()


async def test_recordings_only_from_the_twilio_api_host_with_its_scheme(server: Any) -> None:
    """#12: recording downloads accepted http:// and sent the Twilio credentials over it."""
    test_server, seen = server
    fetcher = GuardedFetcher(LOCAL_FETCH)
    async with aiohttp.ClientSession() as session:
        api = TwilioApi(session, api_base="https://api.twilio.com", account_sid="AC" + "0" * 32,
                        auth_token="secret", from_number="+1", fetch=fetcher)
        local = TwilioApi(session, api_base=f"http://127.0.0.1:{test_server.port}", account_sid="AC" + "0" * 32,
                          auth_token="secret", from_number="+1", fetch=fetcher)
        for url in ("http://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
                    f"http://127.0.0.1:{test_server.port}/small"):
            with pytest.raises(TwilioApiError, match="refusing"):
                await api.download_recording(url)
        assert await local.download_recording(f"http://127.0.0.1:{test_server.port}/small") == b"RIFF....WAVE"
        # Over plain http only because the test allows it; the default policy refuses it.
        strict = TwilioApi(session, api_base=f"http://127.0.0.1:{test_server.port}", account_sid="AC" + "0" * 32,
                           auth_token="secret", from_number="+1", fetch=GuardedFetcher(FetchPolicy()))
        with pytest.raises(TwilioApiError, match="refusing"):
            await strict.download_recording(f"http://127.0.0.1:{test_server.port}/small")
    await fetcher.close()
    assert len(seen) == 1 and seen[0]["Authorization"].startswith("Basic ")


async def test_the_facebook_token_never_reaches_the_source_status_or_the_log(
        server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """#6: `last_error` held the Graph URL with access_token=, and the log had it 4 times."""
    test_server, _ = server
    fetcher = GuardedFetcher(LOCAL_FETCH)
    graph = f"http://127.0.0.1:{test_server.port}/loop?"  # redirects for ever, as a broken proxy might
    unreachable = "http://127.0.0.1:9/v19.0"
    journal = PostJournal(tmp_path / "social.sqlite3")
    collectors = [FacebookCollector("fb-loop", "1", fetcher, access_token=TOKEN, graph_base=graph, interval_s=60),
                  FacebookCollector("fb-down", "1", fetcher, access_token=TOKEN, graph_base=unreachable, interval_s=60)]
    scheduler = CollectorScheduler(journal, collectors, on_accept=lambda: None)
    caplog.set_level(logging.DEBUG)

    for name in ("fb-loop", "fb-down"):
        await scheduler.run_once(name)

    statuses = {s.name: s for s in journal.statuses()}
    assert all(not s.healthy and s.last_error for s in statuses.values())
    assert all(TOKEN not in (s.last_error or "") for s in statuses.values())
    ours = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]  # the fake Graph API's own log
    assert ours and not any(TOKEN in message for message in ours)
    journal.close()
    await fetcher.close()
