"""`hotline claims rebuild` throughput: posts regrouped per second, end to end (new indices, replay through the
ingest with the misinformation model, carry-over of reviews, growth refresh, alias swap).

Run: `ES_URL=... python -m bench.rebuild --posts 5000` (the bench's synthetic corpus, ingested in batches of
1,000 first; a tenth of the claims get a review so that the carry-over has work to do).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import replace

from bench.corpus import make_texts
from hotline import indices
from hotline.claims_rebuild import rebuild_claims
from hotline.es import make_es
from hotline.settings import Settings
from social_monitor.claims import ClaimPatch
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore

PREFIX = "bench-rebuild-"


async def main(n: int) -> None:
    settings = replace(Settings.from_env(), index_prefix=PREFIX)
    es = make_es(settings)
    try:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await indices.ensure_all(es, PREFIX)
        service = SocialService(store=SocialStore(es, PREFIX))
        posts = [RawPost("zalo", f"b{i}", text) for i, text in enumerate(make_texts(n))]
        for start in range(0, n, 1000):
            await service.ingest(posts[start:start + 1000])
        claims = [(c.id, v) async for c, v in service.store.scan_claims()]
        for claim_id, version in claims[::10]:
            await service.review(claim_id, ClaimPatch(str(version), note="đã xem"), "bench")
        reviewed = len(claims[::10])
        started = time.perf_counter()
        report = await rebuild_claims(settings, es, on_start=lambda total: None, on_progress=lambda done: None)
        elapsed = time.perf_counter() - started
        print(f"rebuilt {report.posts} posts into {report.claims} claims in {elapsed:.1f}s "
              f"({report.posts / elapsed:.0f} posts/s); {report.reviews_carried} of {reviewed} reviews carried")
    finally:
        await es.indices.delete(index=f"{PREFIX}*", ignore_unavailable=True, expand_wildcards="all")
        await es.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=5000)
    if not os.environ.get("ES_URL"):
        raise SystemExit("set ES_URL")
    asyncio.run(main(parser.parse_args().posts))
