"""How fast the intake worker moves accepted webhooks into Elasticsearch (the journal backlog drain rate).

    .venv/bin/python -m bench.drain --entries 5000

Journals N SMS entries (generated Vietnamese texts, a few thousand distinct senders) the way POST
/twilio/sms does, then times `JournalWorker.drain_once` with the service `hotline worker` builds
(`hotline.intake_ctx.make_service`): each entry becomes a ticket — classified (category, urgency, reasons),
located, linked to related tickets, written with its concurrency check. Separately, it times the same
entries' classification alone, so the rest is the Elasticsearch round trips of each ticket.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from elasticsearch import AsyncElasticsearch

from bench import report
from bench.corpus import make_texts
from bench.node import search_node_url
from hotline import indices
from hotline.intake_ctx import make_service
from hotline.settings import Settings
from intake.journal import Journal, NewEntry
from intake.records import ticket_number
from intake.service import classify, sms_ticket_id
from intake.worker import JournalWorker

PREFIX = "bench-drain-"


def _entries(n: int, now: datetime) -> list[NewEntry]:
    out = []
    for i, text in enumerate(make_texts(n, seed=5)):
        sid = f"SM{i:032d}"
        ticket_id = sms_ticket_id(sid)
        out.append(NewEntry("sms", f"sms:{sid}", {
            "message_sid": sid, "sender": f"+8490{i % 3000:07d}", "body": text, "ticket_id": ticket_id,
            "number": ticket_number(ticket_id, now), "received_at": now.isoformat()}, now, None))
    return out


async def run(es_url: str, n: int) -> str:
    settings = Settings.from_env({"ES_URL": es_url, "INDEX_PREFIX": PREFIX})
    es = AsyncElasticsearch(es_url, request_timeout=60)
    try:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await indices.ensure_all(es, PREFIX)
        async with aiohttp.ClientSession() as session:
            service = await make_service(settings, es, session)
            entries = _entries(n, datetime.now(timezone.utc))
            started = time.perf_counter()
            for e in entries[:200]:
                classify(e.payload["body"], category=service.category, urgency=service.urgency)
            classify_s = (time.perf_counter() - started) / 200
            with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
                journal = Journal(Path(tmp) / "intake.sqlite3")
                try:
                    journal.append_many(entries)
                    started = time.perf_counter()
                    drained = await JournalWorker(journal, service.apply).drain_once()
                    elapsed = time.perf_counter() - started
                    assert drained == n and journal.counts()["pending"] == 0, journal.counts()
                finally:
                    journal.close()
        per_entry = elapsed / n
        rows = [["SMS entries drained into tickets", f"{n:,}", f"{n / elapsed:,.0f}", f"{per_entry * 1000:.1f}"],
                ["of which classification (measured alone on 200)", "", f"{1 / classify_s:,.0f}",
                 f"{classify_s * 1000:.1f}"]]
        return (f"## Intake worker drain rate ({n:,} SMS entries)\n\n"
                + report.table(["what", "entries", "per second", "ms each"], rows)
                + f"\n\nThe rest ({(per_entry - classify_s) * 1000:.1f} ms an entry) is the ticket's reads and "
                  "writes in Elasticsearch (get, conditional index, related-tickets query), one entry at a time.\n")
    finally:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await es.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=5000, help="SMS entries to drain (default 5,000)")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args()
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = asyncio.run(run(es_url, args.entries))
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
