"""Ingest throughput: our whole social-post path against Elasticsearch's own bulk rate, in one run.

(a) raw: the documents our path produced, re-sent with the Python client's `async_bulk` at the best of a
    few chunk sizes; (b) ours: `SocialService.ingest` in batches — normalise (pyvi), score with the
    misinformation model, group into claims (MinHash LSH), build documents, bulk index. Prints both rates,
    the ratio (b)/(a), and where (b)'s time goes, stage by stage.
"""
from __future__ import annotations

import argparse
import asyncio
import random
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
from social_monitor.records import RawPost
from social_monitor.scoring import MisinformationScorer
from social_monitor.service import SocialService
from social_monitor.similarity import signature
from social_monitor.store import SocialStore

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
    return {k: v / len(posts) for k, v in timings.items()}


async def _ours(es: AsyncElasticsearch, posts: list[RawPost], batch: int, scorer: MisinformationScorer) -> float:
    service = SocialService(store=SocialStore(es, PREFIX), scorer=scorer)
    started = time.perf_counter()
    for i in range(0, len(posts), batch):
        await service.ingest(posts[i:i + batch])
    return len(posts) / (time.perf_counter() - started)


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


async def run(es_url: str, n: int, batch: int) -> str:
    es = AsyncElasticsearch(es_url, request_timeout=120)
    try:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await indices.ensure_all(es, PREFIX)
        posts = _posts(n)
        scorer = MisinformationScorer(registry.load("misinformation"))
        ours = await _ours(es, posts, batch, scorer)
        stages = _stages(posts[: min(n, 2000)], scorer)
        await es.indices.refresh(index=f"{PREFIX}posts")
        docs = [{"_id": h["_id"], "_source": h["_source"]} async for h in _scan(es, f"{PREFIX}posts")]
        raw = {chunk: await _raw(es, docs, chunk) for chunk in (500, 1000, 2000)}
        best_chunk = max(raw, key=lambda c: raw[c])
        per_post = 1 / ours
        cost_rows = [[name, f"{sec * 1000:.2f}", f"{sec / per_post:.0%}"] for name, sec in stages.items()]
        cost_rows.append(["everything else (claims in ES, documents, bulk, event loop)",
                          f"{(per_post - sum(stages.values())) * 1000:.2f}",
                          f"{1 - sum(stages.values()) / per_post:.0%}"])
        rows = [["(a) raw async_bulk of the same documents", f"{raw[best_chunk]:,.0f}", f"chunk {best_chunk}"],
                ["(b) SocialService.ingest (normalise, score, cluster, index)", f"{ours:,.0f}", f"batches of {batch}"],
                ["ratio (b)/(a)", f"{ours / raw[best_chunk]:.3f}", "target ≥ 0.5 → "
                 + report.verdict(ours / raw[best_chunk] >= 0.5)]]
        return (f"## Ingest throughput ({n:,} posts)\n\n" + report.table(["path", "posts/s", "note"], rows)
                + "\n\nRaw rates by chunk size: " + ", ".join(f"{c}: {r:,.0f}/s" for c, r in raw.items())
                + "\n\nWhere (b)'s time goes (ms per post):\n\n"
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
    parser.add_argument("--posts", type=int, default=100_000, help="posts to ingest (default 100,000)")
    parser.add_argument("--batch", type=int, default=500, help="posts per ingest batch (default 500)")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args()
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = asyncio.run(run(es_url, args.posts, args.batch))
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
