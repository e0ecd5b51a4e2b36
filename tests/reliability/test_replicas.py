"""Two replicas on one Elasticsearch cluster, as production scales out (issue 16): real processes on loopback.

Two `hotline run` processes and two `hotline worker` processes (INTAKE_WORKER=external), each pair with its own
DATA_DIR, share the node at ES_URL under one index prefix; a local server plays two RSS feeds and counts every
request. Checked: each source is fetched once per interval across both replicas; the same posts pushed to both
at once make one claim per rumour; a session opened on one replica works on the other and sign-in failures
count across both; signed SMS webhooks split (and partly repeated) across the replicas become
one ticket each; a replica killed with SIGKILL has its sources taken over by the other within the lease time.
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from elasticsearch import AsyncElasticsearch

from dashboards.accounts import User
from dashboards.keys import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from dashboards.store import UserStore
from hotline.settings import Settings
from tests.factories import KEYS, PUBLIC_URL, TWILIO_TOKEN, auth, make_sms
from tests.reliability.storm import _free_port, count_stored, deliver

pytestmark = pytest.mark.asyncio

FEED = (Path(__file__).resolve().parent.parent / "data" / "social" / "feed_news.rss").read_bytes()
INTERVAL_S = 4
LEASE_TTL_S = 6
SOURCES = ("tin-a", "tin-b")
PASSWORD = "mật-khẩu-đủ-dài-1"
RUMOURS = ("Tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa, không ra đường",
           "Nước máy Dĩ An nhiễm độc từ sáng nay, tuyệt đối không dùng để nấu ăn",
           "Ngày mai phong tỏa toàn bộ thành phố Thủ Dầu Một, chợ đóng cửa ba tuần")


class FeedServer:
    """Two RSS feeds on loopback; remembers when each was fetched."""

    def __init__(self) -> None:
        self.fetched: dict[str, list[float]] = defaultdict(list)
        self.port = _free_port()

    async def feed(self, request: web.Request) -> web.Response:
        self.fetched[request.match_info["name"]].append(time.monotonic())
        return web.Response(body=FEED, content_type="application/rss+xml")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.rss"


class Replica:
    """One replica: `hotline run` and its `hotline worker`, sharing a DATA_DIR."""

    def __init__(self, name: str, es_url: str, prefix: str, work: Path, feeds: FeedServer) -> None:
        self.name, self.port = name, _free_port()
        self.log = work / f"{name}.log"
        data = work / name
        data.mkdir()
        keys = ",".join(f"{role}-user:{role}:{key}" for role, key in KEYS.items())
        self.env = {**os.environ, "ES_URL": es_url, "INDEX_PREFIX": prefix, "DATA_DIR": str(data),
                    "PORT": str(self.port), "REPLICA_ID": name, "INTAKE_WORKER": "external",
                    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "PUBLIC_BASE_URL": PUBLIC_URL, "API_KEYS": keys,
                    "SOCIAL_FEEDS": ",".join(f"{s}={feeds.url(s)}@{INTERVAL_S}" for s in SOURCES),
                    "FETCH_HTTP_HOSTS": "127.0.0.1", "FETCH_PRIVATE_HOSTS": "127.0.0.1",
                    "LEASE_TTL": str(LEASE_TTL_S), "LOG_LEVEL": "INFO"}
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.procs = [subprocess.Popen([sys.executable, "-m", "hotline.cli", command], env=self.env,
                                           stdout=log, stderr=log) for command in ("run", "worker")]

    async def worker_ready(self, timeout_s: float) -> None:
        """The worker logs this line once its models are loaded and it drains the journal."""
        deadline = time.monotonic() + timeout_s
        while "journal worker on" not in self.log.read_text():
            assert self.procs[1].poll() is None, f"{self.name}'s worker exited: {self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"{self.name}'s worker did not start in {timeout_s:.0f} s"
            await asyncio.sleep(0.5)

    async def ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.procs[0].poll() is not None:
                    raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
                try:
                    async with session.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} did not start in {timeout_s:.0f} s: {self.log.read_text()[-2000:]}")

    def kill_app(self) -> None:
        self.procs[0].send_signal(signal.SIGKILL)
        self.procs[0].wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/{name}.rss", server.feed)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", server.port).start()
    yield server
    await runner.cleanup()


async def _login(session: aiohttp.ClientSession, replica: Replica, username: str, password: str) -> aiohttp.ClientResponse:
    """Sign in as a browser does; the login form's CSRF pair is read from the replica that serves the form."""
    async with session.get(f"{replica.url}/login") as page:
        token = re.search(r'name="login_csrf" value="([^"]+)"', await page.text())
        cookie = page.cookies[LOGIN_CSRF_COOKIE].value
    assert token is not None
    async with session.post(f"{replica.url}/login", allow_redirects=False,
                            data={"username": username, "password": password, "login_csrf": token[1], "next": ""},
                            headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={cookie}", "Accept": "text/html"}) as resp:
        await resp.read()
        return resp


async def _holders(es: AsyncElasticsearch, prefix: str) -> dict[str, str]:
    resp: Any = await es.mget(index=f"{prefix}leases", ids=[f"source:{s}" for s in SOURCES])
    return {d["_id"].removeprefix("source:"): d["_source"]["holder"] for d in resp["docs"] if d.get("found")}


def _min_gap(times: list[float]) -> float:
    return min((b - a for a, b in zip(times, times[1:])), default=float("inf"))


async def _until(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout_s} s")
        await asyncio.sleep(0.3)


async def test_two_replicas_share_sources_claims_tickets_and_take_over(
        settings: Settings, es: AsyncElasticsearch, unique_prefix: str, feeds: FeedServer, tmp_path: Path) -> None:
    assert settings.es_url
    replicas = [Replica(f"r{n}", settings.es_url, unique_prefix, tmp_path, feeds) for n in (1, 2)]
    try:
        for replica in replicas:
            replica.start()
        began = time.monotonic()
        await asyncio.gather(*(r.ready(300) for r in replicas))
        started = time.monotonic()
        print(f"both replicas answered {started - began:.0f} s after start")
        a, b = replicas

        # A session opened on one replica is valid on the other; sign-in failures add up across both.
        await UserStore(es, f"{unique_prefix}users").create(User.new("lan", "operator", PASSWORD, datetime.now(
            timezone.utc)))
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            signed_in = await _login(session, a, "lan", PASSWORD)
            assert signed_in.status == 303
            cookie = {"Cookie": f"{SESSION_COOKIE}={signed_in.cookies[SESSION_COOKIE].value}"}
            async with session.get(f"{b.url}/operator", headers=cookie, allow_redirects=False) as page:
                assert page.status == 200
            refused = [(await _login(session, (a, b)[n % 2], "khach", "sai-mat-khau")).status for n in range(6)]
            assert refused == [401] * 5 + [429]  # five failures in all, counted on two replicas

        # Each source fetched once per interval across the fleet, while both replicas run.
        await asyncio.sleep(3 * INTERVAL_S + 1)
        window = {s: [t for t in feeds.fetched[s] if t > started] for s in SOURCES}
        for source, times in window.items():
            assert len(times) >= 3, f"{source} fetched {len(times)} times"
            assert _min_gap(times) >= INTERVAL_S - 1, f"{source} fetched twice within an interval: {times}"

        # The same posts pushed to both replicas at once: one claim per rumour.
        posts = [{"id": f"p{i}", "source": "zalo", "text": RUMOURS[i % 3], "shares": i} for i in range(9)]
        async with aiohttp.ClientSession() as session:
            async def push(replica: Replica) -> int:
                async with session.post(f"{replica.url}/api/posts", json=posts, headers=auth("comms")) as resp:
                    return resp.status
            assert await asyncio.gather(push(a), push(b)) == [202, 202]

        async def ingested() -> list[dict[str, Any]] | None:
            await es.indices.refresh(index=f"{unique_prefix}posts,{unique_prefix}claims")
            resp: Any = await es.search(index=f"{unique_prefix}posts", size=100, source=["text", "claim_id"],
                                        query={"term": {"source": "zalo"}})
            docs = [h["_source"] for h in resp["hits"]["hits"]]
            return docs if len(docs) == len(posts) and all(d.get("claim_id") for d in docs) else None
        stored = await _until(ingested, 60, "posts ingested")
        claim_of_text = defaultdict(set)
        for doc in stored:
            claim_of_text[doc["text"]].add(doc["claim_id"])
        # Only the pushed posts' claims (the feeds and tickets make claims of their own).
        claims: Any = await es.count(index=f"{unique_prefix}claims", query={"term": {"sources": "zalo"}})
        assert {t: len(c) for t, c in claim_of_text.items()} == {t: 1 for t in RUMOURS}
        assert claims["count"] == len(RUMOURS)

        # Signed SMS split across the replicas, every fourth delivered to both (a retry landing elsewhere).
        await asyncio.gather(*(r.worker_ready(300) for r in replicas))
        forms = [make_sms(f"SMrep{i:030d}", f"khu phố {i % 9} mất điện từ chiều", sender=f"+8491{i:07d}")
                 for i in range(40)]
        failed = await asyncio.gather(
            deliver(a, [f for i, f in enumerate(forms) if i % 2 == 0 or i % 4 == 1]),  # type: ignore[arg-type]
            deliver(b, [f for i, f in enumerate(forms) if i % 2 == 1 or i % 4 == 0]))  # type: ignore[arg-type]
        assert failed == [[], []]
        tally = await count_stored(settings.es_url, unique_prefix, {f["MessageSid"] for f in forms}, wait_s=120)
        tickets: Any = await es.count(index=f"{unique_prefix}tickets", query={"term": {"channel": "sms"}})
        assert (tally.stored, tally.duplicates, tally.lost, tickets["count"]) == (40, 0, 0, 40)

        # Kill the replica polling tin-a: the other takes its sources over within the lease time.
        holders = await _holders(es, unique_prefix)
        victim = next(r for r in replicas if r.name == holders["tin-a"])
        survivor = next(r for r in replicas if r is not victim)
        orphaned = [s for s, h in holders.items() if h == victim.name]
        victim.kill_app()
        killed = time.monotonic()

        async def taken_over() -> bool:
            now = await _holders(es, unique_prefix)
            return all(now.get(s) == survivor.name for s in orphaned)
        await _until(taken_over, 3 * LEASE_TTL_S, "takeover")
        takeover_s = time.monotonic() - killed
        await _until(lambda: _after(feeds, orphaned, killed), 3 * LEASE_TTL_S, "a fetch after the takeover")
        first_fetch_s = max(min(t for t in feeds.fetched[s] if t > killed) for s in orphaned) - killed
        print(f"checks took {time.monotonic() - started:.0f} s after start-up")
        print(f"takeover of {orphaned} in {takeover_s:.1f} s, first fetch {first_fetch_s:.1f} s after SIGKILL")
        assert takeover_s <= LEASE_TTL_S + LEASE_TTL_S / 3 + 2  # expiry, one retry period, Elasticsearch latency
        for source in SOURCES:
            assert _min_gap(feeds.fetched[source]) >= INTERVAL_S - 1, feeds.fetched[source]
    finally:
        for replica in replicas:
            replica.stop()


async def _after(feeds: FeedServer, sources: list[str], since: float) -> bool:
    return all(any(t > since for t in feeds.fetched[s]) for s in sources)
