"""The shared kernel (issue 15): the outbox acknowledges a batch in one transaction, parks what cannot be read,
and its worker prunes done entries past the retention; errors get their status from their kernel base."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from hotline.kernel.drain import DrainWorker
from hotline.kernel.errors import Conflict, HotlineError, Invalid, SearchUnavailable, http_status
from hotline.kernel.outbox import Outbox, Row


class Numbers(Outbox[int]):
    """An outbox of numbers: the smallest domain there is."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, table="numbers", max_attempts=3)

    def decode(self, row: Row) -> int:
        value = json.loads(row.payload)["n"]
        if not isinstance(value, int):
            raise TypeError("not a number")
        return value

    def add(self, *values: Any, at: datetime | None = None) -> None:
        with self.transaction() as db:
            for i, v in enumerate(values):
                self.insert(db, f"n:{v!r}:{i}", json.dumps({"n": v}), at or datetime.now(timezone.utc))


def test_mark_done_acknowledges_a_batch_in_one_transaction(tmp_path: Path) -> None:
    outbox = Numbers(tmp_path / "o.sqlite3")
    outbox.add(*range(1000))
    ids = [r[0] for r in outbox.query("SELECT id FROM numbers")]
    commits: list[str] = []
    outbox._db.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)

    outbox.mark_done(ids)

    assert commits == ["COMMIT"]
    assert outbox.counts() == {"pending": 0, "done": 1000, "dead": 0}


def test_an_entry_that_no_longer_decodes_is_parked_and_does_not_hold_up_the_others(tmp_path: Path) -> None:
    outbox = Numbers(tmp_path / "o.sqlite3")
    outbox.add(1, "two", 3)

    assert outbox.pending(10) == [1, 3]
    assert [(p.key, p.error) for p in outbox.parked()] == [("n:'two':1", "unreadable journal entry: TypeError: "
                                                                          "not a number")]
    assert outbox.retry_dead() == 1 and outbox.counts()["pending"] == 3


def test_failures_park_an_entry_after_max_attempts(tmp_path: Path) -> None:
    outbox = Numbers(tmp_path / "o.sqlite3")
    outbox.add(7)
    (row_id,) = (r[0] for r in outbox.query("SELECT id FROM numbers"))

    assert [outbox.mark_failed(row_id, "boom") for _ in range(3)] == [False, False, True]


def test_a_table_name_is_checked_before_it_reaches_sql(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Outbox(tmp_path / "o.sqlite3", table="x; DROP TABLE y", max_attempts=1)


async def test_the_worker_prunes_done_entries_past_the_retention(tmp_path: Path) -> None:
    outbox = Numbers(tmp_path / "o.sqlite3")
    now = datetime.now(timezone.utc)
    outbox.add(1, at=now - timedelta(days=10))
    outbox.add(2, at=now - timedelta(days=1))
    outbox.mark_done([r[0] for r in outbox.query("SELECT id FROM numbers")])

    class Idle(DrainWorker):
        async def drain_once(self) -> int:
            return 0

    task = asyncio.create_task(Idle(outbox, idle_s=0.01, retention=timedelta(days=7)).run())
    try:
        for _ in range(500):
            if outbox.counts()["done"] == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()

    assert outbox.counts() == {"pending": 0, "done": 1, "dead": 0}
    with sqlite3.connect(tmp_path / "o.sqlite3") as db:
        assert [k for (k,) in db.execute("SELECT key FROM numbers")] == ["n:2:0"]


class DomainError(HotlineError):
    """A domain's base error."""


class BadDate(DomainError, Invalid):
    """A domain error: its own code, the kernel's status."""


class StillChanging(DomainError, Conflict):
    """Another one."""


@pytest.mark.parametrize(("error", "code", "status"), [
    (BadDate("x"), "bad_date", HTTPStatus.BAD_REQUEST), (StillChanging("x"), "still_changing", HTTPStatus.CONFLICT),
    (SearchUnavailable("x"), "search_unavailable", HTTPStatus.SERVICE_UNAVAILABLE),
    (DomainError("x"), "domain_error", HTTPStatus.BAD_REQUEST), (HotlineError("x"), "error", HTTPStatus.BAD_REQUEST)])
def test_an_error_gets_its_code_from_its_name_and_its_status_from_its_kernel_base(
        error: HotlineError, code: str, status: HTTPStatus) -> None:
    assert (error.code, http_status(error)) == (code, status)


# --- read, change, save ---------------------------------------------------------------------------------------

class _Box:
    """A document with a version, saved conditionally; `interfere` saves first, `n` times, like another writer."""

    def __init__(self, interfere: int = 0) -> None:
        self.value, self.version, self.interfere, self.saves = 1, 0, interfere, 0

    async def read(self) -> tuple[int, int]:
        return self.value, self.version

    async def save(self, value: int, version: int) -> str:
        if self.interfere:
            self.interfere -= 1
            self.value, self.version = self.value * 10, self.version + 1  # someone else's save lands first
        if version != self.version:
            raise Conflict("changed")
        self.value, self.version, self.saves = value, self.version + 1, self.saves + 1
        return f"v{self.version}"


async def test_change_saved_reapplies_the_change_to_what_is_there_after_a_conflict() -> None:
    from hotline.kernel.concurrency import change_saved
    box = _Box(interfere=2)

    async def plus_one(value: int) -> int:
        return value + 1
    before, after, saved = await change_saved(box.read, plus_one, box.save, conflict=Conflict, attempts=5,
                                              gave_up=lambda: Conflict("gave up"))
    # two other writers multiplied by 10 first: the change applies to their result, not to the first read
    assert (before, after, saved, box.value, box.saves) == (100, 101, "v3", 101, 1)


async def test_change_saved_writes_nothing_when_the_change_returns_the_same_record_and_gives_up_in_time() -> None:
    from hotline.kernel.concurrency import change_saved
    box = _Box()

    async def same(value: int) -> int:
        return value
    assert await change_saved(box.read, same, box.save, conflict=Conflict, attempts=3,
                              gave_up=lambda: Conflict("gave up")) == (1, None, None)
    assert box.saves == 0

    busy = _Box(interfere=3)

    async def plus_one(value: int) -> int:
        return value + 1
    with pytest.raises(Conflict, match="gave up"):
        await change_saved(busy.read, plus_one, busy.save, conflict=Conflict, attempts=3,
                           gave_up=lambda: Conflict("gave up"))
    assert busy.saves == 0
