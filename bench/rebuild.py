"""`hotline claims rebuild` throughput: posts regrouped per second, end to end (new indices, replay through the
ingest with the misinformation model, carry-over of reviews, growth refresh, alias swap).

    .venv/bin/python -m bench.rebuild --seconds 60 --es-url http://127.0.0.1:9200

The bench's synthetic corpus is ingested first through `SocialService.ingest` and a tenth of the claims get a
review, so that the carry-over has work to do; then the rebuild is timed. Sized by time, not by count
(issue 16): `--seconds` is about the time of the ingest and the rebuild together. The posts are ingested in
chunks, a probe of PROBE posts first and then what the ingest rate so far gets through in the time left (at
most 1,000 a chunk), until INGEST_SHARE of `--seconds` has passed or `--posts` are in. The rebuild replays
the same posts through the ingest and does more besides: it ran at 0.18–0.36 of the ingest's rate in two
runs on 2026-12-02 (155 vs 857 and 137 vs 380 posts/s), so it takes most of the rest, or less. A slower CPU regroups fewer posts instead of running long.
The rebuild's rate over the ingest's, measured in the same run, is the headline ratio.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bench import report
from bench.corpus import make_texts
from bench.node import search_node_url
from bench.sizing import items_for
from hotline import indices
from hotline.claims_rebuild import rebuild_claims
from hotline.es import make_es
from hotline.settings import Settings
from social_monitor.claims import ClaimPatch
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore

PREFIX: Final = "bench-rebuild-"
WARMUP: Final = 20
"""Posts ingested untimed first: the first ingest loads the models."""
PROBE: Final = 200
"""Posts of the first timed chunk, which sizes the next ones to the time left."""
CHUNK: Final = 1000
INGEST_SHARE: Final = 0.15
"""Share of `--seconds` spent ingesting; the rebuild, 3-6 times slower per post, takes the rest (or less)."""


async def run(es_url: str, seconds: float, most: int) -> str:
    """Ingest for INGEST_SHARE of `seconds` (at most `most` posts), review a tenth of the claims, time the
    rebuild."""
    settings = Settings.from_env({**os.environ, "ES_URL": es_url, "INDEX_PREFIX": PREFIX})
    es = make_es(settings)
    try:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await indices.ensure_all(es, PREFIX)
        service = SocialService(store=SocialStore(es, PREFIX))
        texts = make_texts(WARMUP + most)
        posts = [RawPost("zalo", f"b{i}", text) for i, text in enumerate(texts)]
        await service.ingest(posts[:WARMUP])
        ingested, ingest_s, chunk, budget = 0, 0.0, min(PROBE, most), seconds * INGEST_SHARE
        while ingest_s < budget and ingested < most:
            started = time.perf_counter()
            await service.ingest(posts[WARMUP + ingested:WARMUP + ingested + chunk])
            ingest_s += time.perf_counter() - started
            ingested += chunk
            chunk = items_for(ingested, ingest_s, budget - ingest_s, least=PROBE,
                              most=min(CHUNK, most - ingested))
        claims = [(c.id, v) async for c, v in service.store.scan_claims()]
        for claim_id, version in claims[::10]:
            await service.review(claim_id, ClaimPatch(str(version), note="đã xem"), "bench")
        reviewed = len(claims[::10])
        started = time.perf_counter()
        rebuilt = await rebuild_claims(settings, es, on_start=lambda total: None, on_progress=lambda done: None)
        elapsed = time.perf_counter() - started
    finally:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await es.close()
    ingest_rate, rebuild_rate = ingested / ingest_s, rebuilt.posts / elapsed
    rows = [["ingest (`SocialService.ingest`, timed chunks)", f"{ingested:,}", "", f"{ingest_s:.1f}",
             f"{ingest_rate:,.0f}"],
            ["`hotline claims rebuild`, end to end", f"{rebuilt.posts:,}", f"{rebuilt.claims:,}", f"{elapsed:.1f}",
             f"{rebuild_rate:,.0f}"]]
    return (f"## Claims rebuild (sized to ~{seconds:g} s of ingest and rebuild on this CPU, "
            f"at most {most:,} posts)\n\n"
            f"{report.machine_line()}\n\n"
            + report.table(["step", "posts", "claims", "seconds", "posts/s"], rows)
            + f"\n\nRebuild / ingest rate, same posts, same run: **{rebuild_rate / ingest_rate:.2f}**. "
              f"{rebuilt.reviews_carried} of {reviewed} reviews carried over. The rebuild counts the "
              f"{WARMUP} warm-up posts too.\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, run, print the section and append it to the results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="about the seconds of ingest and rebuild together, at most; 15 %% ingests the corpus "
                             "(default 60)")
    parser.add_argument("--posts", type=int, default=20_000, help="the most posts to ingest (default 20,000)")
    parser.add_argument("--es-url", default=os.environ.get("ES_URL"),
                        help="use this Elasticsearch (default $ES_URL) instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node (default 1g)")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.posts < 1:
        parser.error("--seconds must be positive and --posts at least 1")
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = asyncio.run(run(es_url, args.seconds, args.posts))
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
