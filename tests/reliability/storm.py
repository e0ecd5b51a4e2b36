"""Fault scenarios against the real server process: a webhook storm through crashes and outages.

Used by tests/reliability/test_faults.py (short) and `python -m tests.reliability.storm` (long, e.g. a
60-second Elasticsearch outage). Each scenario prints sent / stored / duplicates / lost.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from elasticsearch import AsyncElasticsearch

from hotline import search_node
from tests.factories import PUBLIC_URL, TWILIO_TOKEN, make_sms, twilio_signature


@dataclass
class Tally:
    """What happened to the messages of one scenario."""

    sent: int = 0
    stored: int = 0
    duplicates: int = 0
    lost: int = 0

    def line(self, name: str) -> str:
        return f"{name}: sent={self.sent} stored={self.stored} duplicates={self.duplicates} lost={self.lost}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class App:
    """`hotline run` as a child process, as production runs it."""

    def __init__(self, es_url: str, data_dir: Path, prefix: str) -> None:
        self.port = _free_port()
        self.env = {**os.environ, "ES_URL": es_url, "DATA_DIR": str(data_dir), "INDEX_PREFIX": prefix,
                    "PORT": str(self.port), "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "PUBLIC_BASE_URL": PUBLIC_URL,
                    "LOG_LEVEL": "WARNING"}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hotline.cli", "run"], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        async with aiohttp.ClientSession() as session:
            for _ in range(1200):
                try:
                    async with session.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the app did not start within 120 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


async def _send(session: aiohttp.ClientSession, url: str, form: dict[str, str]) -> bool:
    headers = {"X-Twilio-Signature": twilio_signature("/twilio/sms", form)}
    try:
        async with session.post(f"{url}/twilio/sms", data=form, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=5)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def deliver(app: App, forms: list[dict[str, str]], *, concurrency: int = 20) -> list[dict[str, str]]:
    """Send forms like Twilio does; returns those not acknowledged (Twilio would retry them)."""
    failed: list[dict[str, str]] = []
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for form in forms:
        queue.put_nowait(form)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            form = queue.get_nowait()
            if not await _send(session, app.url, form):
                failed.append(form)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return failed


async def count_stored(es_url: str, prefix: str, sids: set[str], *, wait_s: float) -> Tally:
    """Wait until every sent message is in a ticket (or time runs out), then tally."""
    es = AsyncElasticsearch(es_url)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            await es.indices.refresh(index=f"{prefix}tickets")
            resp: Any = await es.search(index=f"{prefix}tickets", size=10_000, source=["message_sids"],
                                        query={"term": {"channel": "sms"}})
            seen = [sid for h in resp["hits"]["hits"] for sid in h["_source"].get("message_sids", [])]
            if set(seen) >= sids or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        return Tally(sent=len(sids), stored=len(set(seen) & sids), duplicates=len(seen) - len(set(seen)),
                     lost=len(sids - set(seen)))
    finally:
        await es.close()


def _messages(tag: str, n: int) -> list[dict[str, str]]:
    # Distinct senders, so no message joins another's ticket: one message, one ticket.
    return [make_sms(f"SM{tag}{i:030d}", f"khu phố {i % 9} hết gạo, cần hỗ trợ", sender=f"+8490{i:07d}")
            for i in range(n)]


async def app_killed_mid_storm(es_url: str, work: Path, n: int = 200, *, prefix: str = "fault-kill-") -> Tally:
    """SIGKILL the app halfway through a storm, restart it, let Twilio's retries arrive."""
    app = App(es_url, work / "data", prefix)
    await app.start()
    forms = _messages("k", n)
    storm = asyncio.create_task(deliver(app, forms))
    await asyncio.sleep(0.5)
    app.kill()
    failed = await storm
    await app.start()
    while failed:
        failed = await deliver(app, failed)
    await deliver(app, forms[:20])  # some duplicate deliveries too
    try:
        return await count_stored(es_url, prefix, {f["MessageSid"] for f in forms}, wait_s=60)
    finally:
        app.stop()


async def search_down_during_storm(node_home: Path, port: int, es_url: str, work: Path, *, outage_s: float,
                                   n: int = 200) -> Tally:
    """Stop Elasticsearch for `outage_s` while webhooks keep arriving, then bring it back."""
    app = App(es_url, work / "data2", "fault-outage-")
    await app.start()
    forms = _messages("o", n)
    first = await deliver(app, forms[: n // 2])
    await asyncio.to_thread(search_node.stop, node_home)
    started = time.monotonic()
    during = await deliver(app, forms[n // 2:])
    await asyncio.sleep(max(0.0, outage_s - (time.monotonic() - started)))
    await asyncio.to_thread(search_node.start, node_home, port=port, heap="512m")
    retry = first + during
    while retry:
        retry = await deliver(app, retry)
    try:
        return await count_stored(es_url, "fault-outage-", {f["MessageSid"] for f in forms}, wait_s=90)
    finally:
        app.stop()


async def main(outage_s: float) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        node = search_node.start(work / "node", port=0, heap="512m")
        port = int(node.url.rsplit(":", 1)[1])
        try:
            results = [("app SIGKILL mid-storm", await app_killed_mid_storm(node.url, work)),
                       (f"Elasticsearch down {outage_s:.0f} s", await search_down_during_storm(
                           work / "node", port, node.url, work, outage_s=outage_s))]
        finally:
            search_node.stop(work / "node")
    for name, tally in results:
        print(tally.line(name))
    return 0 if all(t.lost == 0 and t.duplicates == 0 for _, t in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds Elasticsearch stays down")
    sys.exit(asyncio.run(main(parser.parse_args().outage)))
