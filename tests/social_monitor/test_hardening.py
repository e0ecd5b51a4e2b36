"""Issue 14 (security audit) rows of the social monitor: a bad post never blocks the others; numbers and dates
are bounded at the door."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_monitor.errors import DocumentRejected, InvalidPost
from social_monitor.journal import PostJournal
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore
from social_monitor.worker import IngestWorker


def _post(n: int, **fields: object) -> dict[str, object]:
    return {"id": f"p{n}", "text": f"tin đồn số {n} về phong tỏa Dĩ An", **fields}


async def test_a_post_that_fails_for_its_own_data_is_parked_and_the_others_go_through(
        store: SocialStore, tmp_path: Path) -> None:
    """#4: `likes: 1e30` overflowed a claim's reach; the batch retried for ever and blocked every later post."""
    journal = PostJournal(tmp_path / "social.sqlite3")
    good = [RawPost.from_json(_post(n), default_source="push:test") for n in range(3)]
    journal.accept(good[:1], datetime.now(timezone.utc))
    # A post journaled before the door refused such numbers (the journal survives upgrades and restarts).
    bad = RawPost.from_json(_post(99), default_source="push:test")
    with sqlite3.connect(tmp_path / "social.sqlite3") as db:
        db.execute("INSERT INTO posts (key, payload, received_at) VALUES (?, ?, ?)",
                   (bad.key, json.dumps({**bad.as_json(), "likes": 10**30}), datetime.now(timezone.utc).isoformat()))
    journal.accept(good[1:], datetime.now(timezone.utc))
    worker = IngestWorker(journal, SocialService(store=store))

    await worker.drain_once()

    counts = journal.counts()
    assert counts == {"pending": 0, "done": 3, "dead": 1}
    parked = journal.parked()
    assert [p.key for p in parked] == [bad.key] and "likes" in parked[0].error
    journal.close()


async def test_elasticsearch_refusing_a_claim_is_a_data_error_not_an_outage(store: SocialStore) -> None:
    """#4: a refused claim write was reported as StoreUnavailable, so the worker waited for ever."""
    await SocialService(store=store).ingest([RawPost.from_json(_post(1), default_source="push:test")])
    await store.refresh()
    (claim, version), = (await store.search_claims({"query": {"match_all": {}}, "size": 1}))[0]

    with pytest.raises(DocumentRejected, match="400"):
        await store.write_claims([], [(replace(claim, reach=10**30), version)])


@pytest.mark.parametrize(("field", "value"), [
    ("likes", 10**30), ("likes", 1e30), ("shares", -1), ("comments", "１２"), ("likes", "١٢"),
    ("published_at", "9999-12-31T00:00:00"), ("published_at", "0001-01-01"), ("published_at", 1e20),
    ("published_at", "２０２１-08-01"), ("text", "tin đồn \ud800"), ("author", "\udfff"),
])
def test_numbers_and_dates_out_of_range_are_refused_at_the_door(field: str, value: object) -> None:
    with pytest.raises(InvalidPost, match=field if field not in ("text", "author") else "surrogate"):
        RawPost.from_json(_post(1, **{field: value}), default_source="push:test")
