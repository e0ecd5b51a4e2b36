"""How fast the intake worker moves accepted webhooks into Elasticsearch (the journal backlog drain rate).

    .venv/bin/python -m bench.drain --seconds 15

Journals SMS entries (generated Vietnamese texts, a few thousand senders, every fifth one joining its
sender's previous ticket) the way POST /twilio/sms does, then times `JournalWorker.drain_once` with the
service `hotline worker` builds (`hotline.intake_ctx.make_service`): each entry becomes or joins a ticket —
classified (category, urgency, reasons), located, linked to related tickets, written with its concurrency
check. Two modes side by side in one run, each for about `--seconds` (sized by time, not by count, so a
slower CPU drains fewer entries instead of failing): one entry at a time, and batched (`apply_sms_batch`:
one classification batch, one mget, one multi-search and one bulk write per batch; issue 16).
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from elasticsearch import AsyncElasticsearch

from bench import report
from bench.corpus import make_texts
from bench.node import search_node_url
from bench.sizing import items_for
from hotline import indices
from hotline.fetch import GuardedFetcher, policy_from
from hotline.intake_ctx import WORKER_BATCH, make_service
from hotline.settings import Settings
from intake.journal import Journal, NewEntry
from intake.records import ticket_number
from intake.service import IntakeService, classify, sms_ticket_id
from intake.worker import JournalWorker

PREFIX = "bench-drain-"
CHUNK = 1000
"""Entries journaled between timed drains at most (journaling is not timed)."""
PROBE = 100
"""Entries of the first drain of a mode, which sizes the next ones to the time left (a slow CPU drains fewer)."""
TARGET = 1000.0


def _entries(start: int, n: int, now: datetime, texts: list[str], mode: str) -> list[NewEntry]:
    out = []
    previous: str | None = None
    for i in range(start, start + n):
        sid = f"SM{mode}{i:030d}"
        # Every fifth message joins its sender's previous ticket (the webhook's 24-hour join), as in a storm.
        ticket_id = previous if i % 5 == 4 and previous else sms_ticket_id(sid)
        sender = f"+8490{(i - 1 if i % 5 == 4 else i) % 3000:07d}"
        out.append(NewEntry("sms", f"sms:{sid}", {
            "message_sid": sid, "sender": sender, "body": texts[i % len(texts)], "ticket_id": ticket_id,
            "number": ticket_number(ticket_id, now), "received_at": now.isoformat()}, now, None))
        previous = ticket_id
    return out


async def _drain_for(seconds: float, make_worker: Callable[[Journal], JournalWorker], texts: list[str],
                     mode: str, tmp: Path) -> tuple[int, float]:
    """Journal and drain chunks until `seconds` of draining have passed; (entries, seconds draining).

    The first chunk is a probe of PROBE entries; each next one is what the rate so far drains in the time
    left (at most CHUNK), so the mode takes about `seconds` on any CPU instead of a fixed count's time.
    """
    journal = Journal(tmp / f"intake-{mode}.sqlite3")
    drained, elapsed, now, chunk = 0, 0.0, datetime.now(timezone.utc), PROBE
    try:
        while elapsed < seconds:
            journal.append_many(_entries(drained, chunk, now, texts, mode))
            started = time.perf_counter()
            drained += await make_worker(journal).drain_once()
            elapsed += time.perf_counter() - started
            counts = journal.counts()
            assert counts["pending"] == 0 and counts["dead"] == 0 and counts["done"] == drained, counts
            chunk = items_for(drained, elapsed, seconds - elapsed, least=PROBE, most=CHUNK)
    finally:
        journal.close()
    return drained, elapsed


async def run(es_url: str, seconds: float) -> str:
    settings = Settings.from_env({"ES_URL": es_url, "INDEX_PREFIX": PREFIX})
    es = AsyncElasticsearch(es_url, request_timeout=60)
    fetcher = GuardedFetcher(policy_from(settings))
    try:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await indices.ensure_all(es, PREFIX)
        async with aiohttp.ClientSession() as session:
            service: IntakeService = await make_service(settings, es, session, fetcher)
            texts = make_texts(5000, seed=5)
            started = time.perf_counter()
            for text in texts[:200]:
                classify(text, category=service.category, urgency=service.urgency)
            classify_s = (time.perf_counter() - started) / 200
            with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
                single = await _drain_for(seconds, lambda j: JournalWorker(j, service.apply), texts, "a",
                                          Path(tmp))
                batched = await _drain_for(seconds, lambda j: JournalWorker(
                    j, service.apply, apply_sms_batch=service.apply_sms_batch, batch_size=WORKER_BATCH),
                    texts, "b", Path(tmp))
    finally:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await fetcher.close()
        await es.close()
    rate = {name: n / s for name, (n, s) in (("single", single), ("batched", batched))}
    rows = [["one entry at a time", f"{single[0]:,}", f"{single[1]:.1f}", f"{rate['single']:,.0f}",
             f"{1000 / rate['single']:.2f}"],
            [f"batched (up to {WORKER_BATCH} entries)", f"{batched[0]:,}", f"{batched[1]:.1f}",
             f"{rate['batched']:,.0f}", f"{1000 / rate['batched']:.2f}"],
            ["classification alone, one text at a time (200)", "", "", f"{1 / classify_s:,.0f}",
             f"{classify_s * 1000:.2f}"]]
    met = rate["batched"] >= TARGET
    return (f"## Intake worker drain rate (SMS entries, ~{seconds:.0f} s a mode)\n\n"
            f"{report.machine_line()}\n\n"
            + report.table(["mode", "entries", "seconds", "entries/s", "ms each"], rows)
            + f"\n\nBatched is {rate['batched'] / rate['single']:.1f}× one at a time. Target ≥ {TARGET:,.0f} "
              f"entries/s batched: {'met' if met else 'not met'} on this machine (reported, never a failure).\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="seconds of draining per mode (default 20; at least one probe of 100 entries)")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args()
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = asyncio.run(run(es_url, args.seconds))
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
