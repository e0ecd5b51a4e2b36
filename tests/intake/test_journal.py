"""The journal: durable appends, duplicate keys, group commit, done/parked states."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from intake.journal import MAX_ATTEMPTS, Journal, JournalWriter, RecentTicket, TicketRef

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def test_a_key_seen_before_returns_the_first_entry(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")

    first = journal.append("sms", "sms:SM1", {"body": "một"}, NOW)
    again = journal.append("sms", "sms:SM1", {"body": "hai"}, NOW)

    assert first.created and not again.created
    assert again.entry.payload == {"body": "một"}
    assert [e.key for e in journal.pending()] == ["sms:SM1"]


def test_entries_survive_reopening_until_marked_done(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    ids = [journal.append("call", f"call:CA{i}", {"i": i}, NOW).entry.id for i in range(3)]
    journal.close()

    reopened = Journal(path)
    reopened.mark_done(ids[:2])

    assert [e.payload for e in reopened.pending()] == [{"i": 2}]
    assert reopened.counts() == {"pending": 1, "done": 2, "dead": 0}
    assert not reopened.append("call", "call:CA0", {}, NOW).created  # still remembered after done


def test_repeated_failures_park_an_entry(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    entry = journal.append("sms", "sms:SM9", {}, NOW).entry

    parked = [journal.mark_failed(entry.id, "boom") for _ in range(MAX_ATTEMPTS)]

    assert parked == [False] * (MAX_ATTEMPTS - 1) + [True]
    assert journal.pending() == []
    assert journal.retry_dead() == 1 and len(journal.pending()) == 1


def test_prune_forgets_only_old_done_entries(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    old = journal.append("sms", "sms:old", {}, datetime.now(timezone.utc) - timedelta(days=40)).entry
    journal.append("sms", "sms:new", {}, datetime.now(timezone.utc))
    journal.mark_done([old.id])

    assert journal.prune(timedelta(days=30)) == 1
    assert journal.counts() == {"pending": 1, "done": 0, "dead": 0}


@pytest.mark.asyncio
async def test_concurrent_writers_share_transactions_and_lose_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    writer = JournalWriter(journal)
    task = asyncio.create_task(writer.run())
    try:
        results = await asyncio.gather(*(writer.append("sms", f"sms:SM{i % 150}", {"i": i}, NOW) for i in range(300)))
    finally:
        task.cancel()

    assert sum(r.created for r in results) == 150
    assert journal.counts()["pending"] == 150
    assert {r.entry.key for r in results} == {f"sms:SM{i}" for i in range(150)}


def test_recent_ticket_of_a_party_is_the_newest_in_the_window_and_says_if_it_is_stored(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    old = journal.append("call", "call:CA0", {}, NOW - timedelta(hours=30),
                         ticket=TicketRef("+84911111111", "call-CA0", "261126-AAAAA")).entry
    call = journal.append("call", "call:CA1", {}, NOW - timedelta(hours=2),
                          ticket=TicketRef("+84911111111", "call-CA1", "261127-BBBBB")).entry
    journal.append("sms", "sms:SM1", {}, NOW - timedelta(hours=1),
                   ticket=TicketRef("+84922222222", "sms-SM1", "261127-CCCCC"))
    journal.append("transcription", "transcript:CA1:1", {}, NOW)  # no party: never a match
    since = NOW - timedelta(hours=24)

    before = journal.recent_ticket_of("+84911111111", since)
    journal.mark_done([old.id, call.id])
    after = journal.recent_ticket_of("+84911111111", since)

    assert before == RecentTicket("call-CA1", "261127-BBBBB", NOW - timedelta(hours=2), pending=True)
    assert after is not None and (after.ticket_id, after.pending) == ("call-CA1", False)
    assert journal.recent_ticket_of("+84933333333", since) is None
    assert journal.recent_ticket_of("+84911111111", NOW - timedelta(hours=1)) is None


def test_a_journal_from_before_the_ticket_columns_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, "
                         "kind TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL, "
                         "state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, "
                         "last_error TEXT);"
                         "INSERT INTO entries (key, kind, payload, received_at) "
                         "VALUES ('sms:SM0', 'sms', '{}', '2026-11-27T02:00:00+00:00');")

    journal = Journal(path)
    journal.append("sms", "sms:SM1", {}, NOW, ticket=TicketRef("+84922222222", "sms-SM1", "261127-CCCCC"))

    assert [e.key for e in journal.pending()] == ["sms:SM0", "sms:SM1"]
    recent = journal.recent_ticket_of("+84922222222", NOW - timedelta(hours=24))
    assert recent is not None and recent.ticket_id == "sms-SM1"
