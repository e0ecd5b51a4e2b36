"""Search latency on a realistically sized `tickets` index, and the bulk indexing rate that built it.

    .venv/bin/python -m bench.search --seconds 90 --docs 1000000 --query-seconds 30 --runs 200

1. A fresh index from intake/index.py's mapping, created by hotline.indices.ensure under a bench prefix.
2. Tickets built the way TicketStore builds them (Ticket.as_doc with classifier.text.normalise forms),
   from a pool of normalised generated texts (normalising a million texts would benchmark pyvi, not
   Elasticsearch), spread over 90 days, the 9 districts of Bình Dương, 11 categories and 3 urgencies, with
   one category x district surge in the last 3 days for the spikes query to find. Loaded with async_bulk
   (refresh off, no replicas while loading, then restored), in --streams concurrent streams, for about
   --seconds or until --docs are in, whichever comes first: the index size is sized by time (issue 16), so a
   slower CPU builds a smaller index instead of running long, and every latency row names the number of
   tickets it was measured over.
3. The leaders' queries, in turn, one at a time, for about --query-seconds (at least MIN_RUNS rounds, at
   most --runs): accent-insensitive full text with filters
   (intake.queries.build_ticket_search, query typed without diacritics and normalised like the API does),
   daily histogram by category, district counts, and spikes (bench/queries.py). Aggregations run with
   request_cache=false and move their time window by a second per run, so every run is computed.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from bench import report
from bench.corpus import CATEGORIES, DISTRICTS, WARDS, labelled_texts
from bench.node import search_node_url
from bench.queries import build_daily_by_category, build_district_counts, build_spikes, read_spikes
from classifier.text import NormalisedText, normalise

TARGET_P95_MS: Final = 150.0
MIN_RUNS: Final = 20
"""Measured rounds of queries even when --query-seconds has run out (percentiles need some)."""
DAYS: Final = 90
SPIKE: Final = ("food_supply", "Dĩ An")
QUERIES_TYPED: Final = ("kho tho", "phong toa", "het gao", "tiem mui hai", "giay di duong", "xet nghiem pcr",
                        "gia thit", "tin gia", "ho tro tien tro", "cap cuu", "trom xe",
                        "test nhanh duong tinh",
                        "sot cao", "di cho ho")
STATUS_WEIGHTS: Final = (("new", 30), ("assigned", 15), ("in_progress", 15), ("resolved", 25), ("closed", 13),
                         ("reopened", 2))
URGENCY_WEIGHTS: Final = (("emergency", 5), ("high", 25), ("normal", 70))


@dataclass(frozen=True, slots=True)
class PoolText:
    """One normalised text of the pool and the category it was written for."""

    category: str
    forms: NormalisedText


def make_pool(size: int, seed: int) -> list[PoolText]:
    """Normalise `size` generated texts once; documents reuse them."""
    return [PoolText(category, normalise(text)) for category, text in labelled_texts(size, seed=seed)]


def make_doc(i: int, rng: random.Random, pool: Sequence[PoolText], by_category: dict[str, list[PoolText]],
             now: datetime) -> dict[str, Any]:
    """Ticket i as TicketStore would index it."""
    from hotline.kernel.records import Change
    from intake.records import Channel, Status, Ticket, ticket_number

    if rng.random() < 0.03:  # the surge: one category in one district, in the last 3 days
        category, district = SPIKE
        created = now - timedelta(seconds=rng.uniform(60, 3 * 86400))
        item = rng.choice(by_category[category])
    else:
        item = rng.choice(pool)
        category = item.category if rng.random() < 0.9 else rng.choice(CATEGORIES)
        district = rng.choice(DISTRICTS)
        created = now - timedelta(seconds=rng.uniform(60, DAYS * 86400))
    channel = rng.choice((Channel.CALL, Channel.SMS, Channel.SMS, Channel.MANUAL))
    status = Status(rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0])
    urgency = rng.choices([u for u, _ in URGENCY_WEIGHTS], [w for _, w in URGENCY_WEIGHTS])[0]
    ticket_id = f"{channel.value}-bench{i:08d}"
    sla = {"emergency": timedelta(minutes=15), "high": timedelta(hours=4),
           "normal": timedelta(days=3)}[urgency]
    ticket = Ticket(
        id=ticket_id, number=ticket_number(ticket_id, created), channel=channel, created_at=created,
        updated_at=created + timedelta(minutes=rng.randint(0, 600)), status=status,
        caller=f"+849{rng.randint(0, 99_999_999):08d}", text=item.forms.text,
        messages=(item.forms.text,) if channel is Channel.SMS else (), category=category,
        category_score=round(rng.uniform(0.3, 0.99), 4), urgency=urgency, reasons=("bench",),
        district=district, ward=rng.choice(WARDS) if rng.random() < 0.6 else None, sla_due_at=created + sla,
        assignee=f"op{rng.randint(1, 40)}" if status is not Status.NEW else None,
        call_sid=f"CA{i:032d}" if channel is Channel.CALL else None,
        history=(Change(created, "twilio", "created", {}, {"status": "new"}),))
    return ticket.as_doc(segmented=item.forms.segmented, folded=item.forms.folded)


async def bulk_load(es: Any, alias: str, max_docs: int, seconds: float | None, streams: int,
                    pool: Sequence[PoolText], now: datetime, seed: int, chunk_size: int
                    ) -> tuple[int, float, float]:
    """Index documents until `seconds` have passed or `max_docs` are in (no `seconds`: all `max_docs`);
    return (documents indexed, wall seconds, seconds spent building documents).

    Each stream stops generating documents at the deadline, so the last bulk request of each is partial and
    the wall time overshoots `seconds` by about one request's round trip."""
    from elasticsearch.helpers import async_bulk

    by_category: dict[str, list[PoolText]] = {}
    for item in pool:
        by_category.setdefault(item.category, []).append(item)
    building = [0.0]
    started = time.perf_counter()
    deadline = float("inf") if seconds is None else started + seconds

    async def actions(stream: int) -> AsyncIterator[dict[str, Any]]:
        rng = random.Random(seed * 1000 + stream)
        for i in range(stream, max_docs, streams):
            t0 = time.perf_counter()
            if t0 >= deadline:
                return
            doc = make_doc(i, rng, pool, by_category, now)
            building[0] += time.perf_counter() - t0
            yield {"_op_type": "index", "_index": alias, "_id": doc["id"], "_source": doc}

    results = await asyncio.gather(*(async_bulk(es, actions(s), chunk_size=chunk_size, max_retries=3,
                                                raise_on_error=True) for s in range(streams)))
    wall = time.perf_counter() - started
    indexed = sum(int(ok) for ok, _ in results)
    if seconds is None and indexed != max_docs:
        raise RuntimeError(f"indexed {indexed} of {max_docs} documents")
    return indexed, wall, building[0]


def _full_text_body(i: int, now: datetime, forms: dict[str, NormalisedText]) -> dict[str, Any]:
    from intake.queries import Sort, TicketSearch, build_ticket_search
    from intake.records import OPEN_STATUSES

    q = QUERIES_TYPED[i % len(QUERIES_TYPED)]
    district = (DISTRICTS[i % len(DISTRICTS)],) if i % 3 else ()
    return build_ticket_search(TicketSearch(
        q=q, q_folded=forms[q].folded, q_segmented=forms[q].segmented, district=district,
        status=tuple(s.value for s in OPEN_STATUSES) if i % 2 else (),
        created_from=now - timedelta(days=30 if i % 4 else DAYS), sort=Sort.RELEVANCE, size=20))


async def run_queries(es: Any, alias: str, now: datetime, runs: int, warmup: int, seconds: float | None
                      ) -> tuple[dict[str, list[tuple[float, int]]], dict[str, Any]]:
    """Run each query kind in turn, `runs` rounds at most and, with `seconds`, until that many seconds of
    measured rounds have passed (at least MIN_RUNS); return {kind: [(client ms, took ms)]}, last responses."""
    forms = {q: normalise(q) for q in QUERIES_TYPED}
    kinds: dict[str, tuple[Callable[[int], dict[str, Any]], dict[str, Any]]] = {
        "full text + filters (build_ticket_search)": (lambda i: _full_text_body(i, now, forms), {}),
        "daily histogram x category (90 days)": (
            lambda i: build_daily_by_category(now - timedelta(seconds=i)), {"request_cache": False}),
        "district counts (open, 30 days)": (
            lambda i: build_district_counts(now - timedelta(seconds=i)), {"request_cache": False}),
        "spikes: category x district, 3 d vs 14 d": (
            lambda i: build_spikes(now - timedelta(seconds=i)), {"request_cache": False}),
    }
    times: dict[str, list[tuple[float, int]]] = {kind: [] for kind in kinds}
    last: dict[str, Any] = {}
    measuring_since = 0.0
    for i in range(warmup + runs):
        if i == warmup:
            measuring_since = time.perf_counter()
        elif (i > warmup and seconds is not None and i - warmup >= MIN_RUNS
              and time.perf_counter() - measuring_since >= seconds):
            break
        for kind, (build, options) in kinds.items():
            body = build(i)
            t0 = time.perf_counter()
            resp = await es.search(index=alias, **body, **options)
            elapsed = (time.perf_counter() - t0) * 1000
            if i >= warmup:
                times[kind].append((elapsed, int(resp["took"])))
            last[kind] = resp.body
    return times, last


async def run(es_url: str, n_docs: int, runs: int, pool_size: int, streams: int, chunk_size: int, seed: int,
              keep: bool, seconds: float | None = None, query_seconds: float | None = None) -> str:
    """Build the index, load it, query it; return the Markdown section."""
    import intake.index
    from hotline import indices
    from hotline.es import make_es
    from hotline.settings import Settings

    prefix = f"bench-search-{uuid.uuid4().hex[:8]}-"
    spec = indices.IndexSpec.from_module(intake.index)
    alias = spec.alias(prefix)
    es = make_es(Settings(es_url=es_url, es_timeout_s=120))
    try:
        await indices.ensure(es, spec, prefix)
        t0 = time.perf_counter()
        pool = make_pool(pool_size, seed)
        pool_s = time.perf_counter() - t0
        print(f"normalised a pool of {pool_size:,} texts in {pool_s:.1f}s", file=sys.stderr)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        await es.indices.put_settings(index=alias, settings={"index": {"refresh_interval": "-1",
                                                                        "number_of_replicas": 0}})
        indexed, wall, building = await bulk_load(es, alias, n_docs, seconds, streams, pool, now, seed,
                                                  chunk_size)
        await es.indices.put_settings(index=alias, settings={"index": {"refresh_interval": None}})
        t0 = time.perf_counter()
        await es.indices.refresh(index=alias)
        refresh_s = time.perf_counter() - t0
        stats = await es.indices.stats(index=alias, metric="store,docs,segments")
        total = stats["_all"]["primaries"]
        count = int(total["docs"]["count"])
        if count != indexed:
            raise RuntimeError(f"bulk reported {indexed:,} documents indexed, the index holds {count:,}")
        print(f"indexed {count:,} documents in {wall:.1f}s ({count / wall:,.0f} docs/s)", file=sys.stderr)
        times, last = await run_queries(es, alias, now, runs, min(10, runs), query_seconds)
    finally:
        if not keep:
            await es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")
        await es.close()

    query_rows, worst = [], 0.0
    for kind, values in times.items():
        client = [c for c, _ in values]
        took = [t for _, t in values]
        p95 = report.percentile(client, 95)
        worst = max(worst, p95)
        query_rows.append([kind, f"{count:,}", len(values), f"{report.percentile(client, 50):,.1f}",
                           f"{p95:,.1f}",
                           f"{report.percentile(client, 99):,.1f}", f"{report.median(took):,.0f}",
                           report.verdict(p95 < TARGET_P95_MS)])
    spikes = read_spikes(last["spikes: category x district, 3 d vs 14 d"]["aggregations"])
    top = "; ".join(f"{s.category} in {s.district}: {s.recent} vs {s.baseline} (×{s.ratio})"
                    for s in spikes[:3])
    full_text_total = last["full text + filters (build_ticket_search)"]["hits"]["total"]["value"]
    rounds = len(next(iter(times.values())))
    sized = (f"{n_docs:,} tickets" if seconds is None else
             f"indexing sized to ~{seconds:g} s on this CPU, at most {n_docs:,}")
    queried = (f"{rounds} runs per query" if query_seconds is None else
               f"{rounds} runs per query in ~{query_seconds:g} s, at most {runs}")
    return "\n".join([
        f"## Search ({count:,} tickets over {DAYS} days: {sized}; {queried})",
        "",
        report.machine_line(),
        "",
        report.table(["bulk indexing", "value"], [
            ["documents indexed", f"{count:,}" + ("" if seconds is None else
                                                  f" (in {wall:.1f} s of a ~{seconds:g} s budget; cap {n_docs:,})")],
            ["docs/s (wall, async_bulk, refresh off)", f"{count / wall:,.0f}"],
            ["streams × chunk size", f"{streams} × {chunk_size:,}"],
            ["share of wall time building documents in Python", f"{building / wall:.0%}"],
            ["refresh after load", f"{refresh_s:.1f} s"],
            ["index size (primaries)", f"{int(total['store']['size_in_bytes']) / 2**20:,.0f} MiB, "
                                       f"{int(total['segments']['count'])} segments"],
            ["text pool", f"{pool_size:,} normalised texts ({pool_s:.1f} s to normalise)"],
        ]),
        "",
        report.table(["query", "tickets indexed", "runs", "p50 ms", "p95 ms", "p99 ms", "ES took p50 ms",
                      f"p95 < {TARGET_P95_MS:.0f} ms"], query_rows),
        "",
        f"Target p95 < {TARGET_P95_MS:.0f} ms for every query: worst p95 {worst:,.1f} ms → "
        f"{report.verdict(worst < TARGET_P95_MS)} over {count:,} tickets. "
        "Latency is client-side (request to parsed response); "
        "`took` is Elasticsearch's own time.",
        "",
        f"Checks: the last full-text query matched {full_text_total:,} tickets; "
        f"spikes found: {top or 'none'} "
        f"(the generator plants {SPIKE[0]} in {SPIKE[1]}).",
    ])


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, run, print the tables and append them to the results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90.0,
                        help="seconds of bulk indexing: the index holds what this CPU loads in that time, "
                             "at most --docs (default 90; 0 indexes exactly --docs)")
    parser.add_argument("--docs", type=int, default=1_000_000,
                        help="the most tickets to index (default 1,000,000)")
    parser.add_argument("--query-seconds", type=float, default=30.0,
                        help=f"seconds of measured query rounds, at least {MIN_RUNS} rounds and at most --runs "
                             "(default 30; 0 runs exactly --runs)")
    parser.add_argument("--runs", type=int, default=200,
                        help="the most measured runs of each query (default 200)")
    parser.add_argument("--pool", type=int, default=5000,
                        help="normalised texts the documents reuse (default 5,000)")
    parser.add_argument("--streams", type=int, default=2, help="concurrent async_bulk streams (default 2)")
    parser.add_argument("--chunk-size", type=int, default=1000,
                        help="documents per bulk request (default 1,000)")
    parser.add_argument("--seed", type=int, default=1022, help="seed of the generator")
    parser.add_argument("--keep", action="store_true", help="keep the bench index afterwards (with --es-url)")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g",
                        help="heap of the throw-away search node (default 1g; 2g for 1M+)")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args(argv)
    if args.docs < 1 or args.runs < 1 or args.streams < 1 or args.seconds < 0 or args.query_seconds < 0:
        parser.error("--docs, --runs and --streams must be at least 1; --seconds and --query-seconds at least 0")
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = asyncio.run(run(es_url, args.docs, args.runs, args.pool, args.streams, args.chunk_size,
                                  args.seed, args.keep, args.seconds or None, args.query_seconds or None))
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
