"""Posts pending on disk at the upgrade to the kernel's outbox replay unchanged (issue 15):
tests/data/journals/social-d531065.sqlite3 was written by the post journal of commit d531065 (see
make_old_journals.py there); today's code opens it, keeps the collector's cursor and ingests the posts."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_monitor.journal import PostJournal
from social_monitor.records import RawPost, post_id
from social_monitor.service import SocialService
from social_monitor.store import SocialStore
from social_monitor.worker import IngestWorker

OLD = Path(__file__).parent.parent / "data" / "journals" / "social-d531065.sqlite3"


@pytest.fixture
def journal(tmp_path: Path) -> PostJournal:
    shutil.copy(OLD, tmp_path / "social.sqlite3")
    return PostJournal(tmp_path / "social.sqlite3")


def test_the_old_post_journal_opens_with_its_cursor_counts_and_parked_posts(journal: PostJournal) -> None:
    pending = journal.pending(100)

    assert journal.counts() == {"pending": 4, "done": 1, "dead": 1}
    assert [(p.item.source, p.item.source_id) for p in pending] == [
        ("rss-old", "old0"), ("rss-old", "old1"), ("rss-old", "old2"), ("push:partner", "push1")]
    assert pending[0].item.text == "Tin đồn: tối nay trực thăng rải thuốc khử trùng toàn tỉnh"
    assert journal.cursor("rss-old") == "cursor-old-3"
    (source,) = journal.statuses()
    assert (source.name, source.healthy, source.collected) == ("rss-old", True, 3)
    assert [(p.key, p.error) for p in journal.parked()] == [
        (post_id("push:partner", "parked1"), "DocumentRejected: 400 mapper_parsing_exception")]
    # A post done before the upgrade is still recognised as a re-delivery; a parked one can be queued again.
    done = RawPost.from_json({"id": "done1", "text": "lại lần nữa"}, default_source="push:partner")
    assert journal.accept([done], datetime.now(timezone.utc)) == 0
    assert journal.retry_dead() == 1 and journal.counts()["pending"] == 5


async def test_the_pending_posts_of_the_old_journal_are_ingested(journal: PostJournal, store: SocialStore) -> None:
    processed = await IngestWorker(journal, SocialService(store=store)).drain_once()

    await store.refresh()
    posts, total = await store.search_posts({"query": {"match_all": {}}, "size": 10})
    assert processed == 4 and journal.counts() == {"pending": 0, "done": 5, "dead": 1}
    assert total == 4 and {p.source_id for p in posts} == {"old0", "old1", "old2", "push1"}
