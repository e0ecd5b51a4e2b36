"""Ingest throughput: our whole social-post path against Elasticsearch's own bulk rate, in one run.

(a) raw: the documents our path produced, re-sent with the Python client's `async_bulk` at the best of a
    few chunk sizes; (b) ours: the posts accepted into the social journal, then drained by the real
    `IngestWorker` (pipelined batches: normalise with pyvi, score with the misinformation model, MinHash,
    group into claims with the paraphrase matcher (candidates from Elasticsearch, pair scores), match
    known claims, build documents, bulk index), once with the analysis in a
    thread (the default) and once in one worker process (SOCIAL_ANALYSIS_PROCESSES=1), each on fresh
    indices; (c) the CPU stages of (b) alone, with no Elasticsearch at all: (c)/(a) bounds what one
    process of this design can reach on this machine.
Prints the rates, the ratio (b)/(a), and where (b)'s time goes, stage by stage.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_bulk

from bench import report
from bench.corpus import make_texts
from bench.node import search_node_url
from hotline import indices
from classifier.text import normalise
from models import registry
import social_monitor.index
from social_monitor.analysis import Analyser, ProcessAnalyser
from social_monitor.journal import PostJournal
from social_monitor.matching import ClaimMatcher
from social_monitor.pairs import PairScorer
from social_monitor.records import RawPost
from social_monitor.scoring import MisinformationScorer
from social_monitor.service import SocialService
from social_monitor.similarity import signature
from social_monitor.store import SocialStore
from social_monitor.worker import BATCH, IngestWorker

PREFIX = "bench-ingest-"


def _posts(n: int, seed: int = 7) -> list[RawPost]:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    return [RawPost(source=rng.choice(["facebook", "zalo", "rss"]), source_id=f"b{i}", text=text,
                    published_at=now - timedelta(minutes=rng.uniform(0, 2880)), likes=rng.randrange(0, 400),
                    comments=rng.randrange(0, 80), shares=rng.randrange(0, 300))
            for i, text in enumerate(make_texts(n, seed=seed))]


def _stages(posts: list[RawPost], scorer: MisinformationScorer) -> dict[str, float]:
    """Seconds per post of the CPU stages, measured alone on the same posts (the path runs them in threads)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    forms = [normalise(p.text) for p in posts]
    timings["normalise (NFC, teencode, pyvi, folding)"] = time.perf_counter() - started
    started = time.perf_counter()
    scorer.score(posts)
    timings["misinformation score (TF-IDF + logistic + trees)"] = time.perf_counter() - started
    started = time.perf_counter()
    for f in forms:
        signature(f.folded)
    timings["MinHash signature"] = time.perf_counter() - started
    matcher = PairScorer(registry.load("claim_matcher"))
    started = time.perf_counter()
    matcher.views(forms, [p.published_at for p in posts])
    timings["claim matcher views (lexicon, slots, TF-IDF)"] = time.perf_counter() - started
    return {k: v / len(posts) for k, v in timings.items()}


async def _ours(es: AsyncElasticsearch, posts: list[RawPost], batch: int, scorer: MisinformationScorer,
                analyser: Analyser | None = None) -> tuple[float, float]:
    """(posts/s accepted into the journal, posts/s drained from the journal into Elasticsearch)."""
    await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
    await indices.ensure_all(es, PREFIX)
    service = SocialService(store=SocialStore(es, PREFIX), scorer=scorer, analyser=analyser,
                            claim_matcher=ClaimMatcher(PairScorer(registry.load("claim_matcher"))))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        journal = PostJournal(Path(tmp) / "social.sqlite3")
        try:
            started = time.perf_counter()
            for i in range(0, len(posts), 1000):
                journal.accept(posts[i:i + 1000], datetime.now(timezone.utc))
            accepted = len(posts) / (time.perf_counter() - started)
            started = time.perf_counter()
            drained = await IngestWorker(journal, service, batch=batch).drain_once()
            rate = drained / (time.perf_counter() - started)
            assert drained == len(posts) and journal.counts()["pending"] == 0, journal.counts()
        finally:
            journal.close()
    return accepted, rate


async def _raw(es: AsyncElasticsearch, docs: list[dict[str, Any]], chunk: int) -> float:
    index = f"{PREFIX}raw-{chunk}"
    body = indices.IndexSpec.from_module(social_monitor.index).body()  # the same mapping and analyzers
    body["settings"].update({"number_of_replicas": 0, "refresh_interval": "-1"})
    await es.indices.create(index=index, **body)
    started = time.perf_counter()
    await async_bulk(es, ({"_index": index, "_id": d["_id"], "_source": d["_source"]} for d in docs),
                     chunk_size=chunk, max_retries=3)
    rate = len(docs) / (time.perf_counter() - started)
    await es.indices.delete(index=index)
    return rate


PROBE = 300
"""Posts whose CPU stages, timed first, size the run to `--seconds` (a slower CPU ingests fewer posts)."""


def _sized(seconds: float, most: int, scorer: MisinformationScorer) -> int:
    """How many posts make each drain of (b) last about `seconds`, from the CPU stages' rate on a probe.

    (b) runs at a fraction of (c) (0.23 before issue 16, 0.7 its target): half of (c)'s rate is the guess.
    """
    rate = 1 / sum(_stages(_posts(PROBE, seed=11), scorer).values())
    return max(PROBE, min(most, int(rate * seconds / 2)))


async def run(es_url: str, most: int, batch: int, seconds: float | None) -> str:
    es = AsyncElasticsearch(es_url, request_timeout=120)
    try:
        scorer = MisinformationScorer(registry.load("misinformation"))
        n = most if seconds is None else _sized(seconds, most, scorer)
        posts = _posts(n)
        accepted, ours = await _ours(es, posts, batch, scorer)
        analyser = ProcessAnalyser(scorer, 1)
        try:
            await analyser(posts[:10])  # started and warm, as in a running app
            _, in_process = await _ours(es, posts, batch, scorer, analyser)
        finally:
            analyser.close()
        stages = _stages(posts[: min(n, 2000)], scorer)
        cpu_only = 1 / sum(stages.values())
        await es.indices.refresh(index=f"{PREFIX}posts")
        docs = [{"_id": h["_id"], "_source": h["_source"]} async for h in _scan(es, f"{PREFIX}posts")]
        raw = {chunk: await _raw(es, docs, chunk) for chunk in (500, 1000, 2000)}
        best_chunk = max(raw, key=lambda c: raw[c])
        per_post = 1 / ours
        cost_rows = [[name, f"{sec * 1000:.2f}", f"{sec / per_post:.0%}"] for name, sec in stages.items()]
        cost_rows.append(["everything else (claims in ES, documents, bulk, refresh, event loop)",
                          f"{max(per_post - sum(stages.values()), 0) * 1000:.2f}",
                          f"{max(1 - sum(stages.values()) / per_post, 0):.0%}"])
        best = raw[best_chunk]
        rows = [["(a) raw async_bulk of the same documents", f"{best:,.0f}", f"chunk {best_chunk}", "1.000"],
                ["(b) journal drained by IngestWorker (normalise, score, cluster, index)", f"{ours:,.0f}",
                 f"batches of {batch}, pipelined, analysis in a thread", f"{ours / best:.3f}"],
                ["(b′) the same, analysis in 1 worker process", f"{in_process:,.0f}",
                 "SOCIAL_ANALYSIS_PROCESSES=1", f"{in_process / best:.3f}"],
                ["(c) CPU stages of (b) alone, no Elasticsearch", f"{cpu_only:,.0f}", "one thread",
                 f"{cpu_only / best:.3f}"],
                ["accepting into the journal (before (b); SQLite, fsync)", f"{accepted:,.0f}", "1000 per call", ""]]
        sizing = f"{n:,} posts" + ("" if seconds is None else f", sized to ~{seconds:.0f} s a drain on this CPU")
        return (f"## Ingest throughput ({sizing})\n\n{report.machine_line()}\n\n"
                + report.table(["path", "posts/s", "note", "ratio to (a)"], rows)
                + f"\n\nOur path against its own CPU stages alone, measured in this run: (b)/(c) = "
                + f"**{ours / cpu_only:.2f}**, (b′)/(c) = **{in_process / cpu_only:.2f}** (target ≥ 0.7 → "
                + f"{report.verdict(max(ours, in_process) / cpu_only >= 0.7)}).\n\n"
                + f"Ratio (b)/(a) = **{ours / best:.3f}**, (b′)/(a) = **{in_process / best:.3f}**, target ≥ 0.5 → "
                + f"{report.verdict(max(ours, in_process) / best >= 0.5)}. "
                + f"(c)/(a) = {cpu_only / best:.3f} bounds (b)/(a) on this machine: the per-post CPU work alone "
                + "(pyvi segmentation, the model, MinHash) is slower than Elasticsearch indexing the finished document."
                + "\n\nRaw rates by chunk size: " + ", ".join(f"{c}: {r:,.0f}/s" for c, r in raw.items())
                + f"\n\nWhere (b)'s time goes (ms per post; the CPU stages measured alone on {min(n, 2000):,} of the posts):\n\n"
                + report.table(["stage", "ms/post", "share of (b)"], cost_rows) + "\n")
    finally:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await es.close()


async def _scan(es: AsyncElasticsearch, index: str) -> Any:
    from elasticsearch.helpers import async_scan
    async for hit in async_scan(es, index=index, query={"query": {"match_all": {}}}):
        yield hit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000,
                        help="posts to ingest (default 100,000); with --seconds, the most to ingest")
    parser.add_argument("--seconds", type=float,
                        help="size the run by time: about this many seconds per drain on this CPU")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"posts per ingest batch (default {BATCH}, the worker's)")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args()
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = asyncio.run(run(es_url, args.posts, args.batch, args.seconds))
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
