"""The durable journal: every accepted webhook is written here (fsync'd) before Twilio gets its answer.

A background worker moves entries into Elasticsearch and marks them done only once Elasticsearch has
acknowledged, so a crash or an Elasticsearch outage loses nothing: pending entries are replayed on start.
The unique `key` (CallSid, MessageSid, RecordingSid, CallSid+SequenceId) makes Twilio's retries and
duplicate deliveries harmless: the second copy is recognised at the door and never becomes a second ticket.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

MAX_ATTEMPTS: Final = 8
"""Failures other than Elasticsearch being unreachable park an entry after this many tries."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS entries_state ON entries (state, id);
"""

_TICKET_COLUMNS: Final = ("party", "ticket_id", "ticket_number")
"""Added for the SMS join lookup (issue 7); a journal from before gets them on open, empty for old rows."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One accepted webhook or report."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    ticket_number: str | None = None
    """The ticket's number as journaled; kept after the payload is cleared, for repeat deliveries (issue 14, #8)."""


@dataclass(frozen=True, slots=True)
class TicketRef:
    """Which ticket an entry belongs to, and who (caller or sender) it came from."""

    party: str
    ticket_id: str
    number: str


@dataclass(frozen=True, slots=True)
class RecentTicket:
    """A party's newest journaled ticket; `pending` means Elasticsearch does not have the entry yet."""

    ticket_id: str
    number: str
    received_at: datetime
    pending: bool


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append."""

    kind: str
    key: str
    payload: dict[str, Any]
    received_at: datetime
    ticket: TicketRef | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    """The result of `append`: the stored entry, and whether this call created it."""

    entry: JournalEntry
    created: bool


class Journal:
    """A SQLite database in WAL mode with synchronous=FULL: a commit is on disk when it returns."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(entries)")}
        for column in _TICKET_COLUMNS:
            if column not in columns:
                self._db.execute(f"ALTER TABLE entries ADD COLUMN {column} TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS entries_party ON entries (party, received_at)")
        # Lookups read through their own connection: in WAL mode a reader never waits for the writer's fsync.
        self._read_lock = threading.Lock()
        self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def append(self, kind: str, key: str, payload: dict[str, Any], received_at: datetime, *,
               ticket: TicketRef | None = None) -> Appended:
        """Store an entry durably; a key seen before returns the first entry with created=False."""
        return self.append_many([NewEntry(kind, key, payload, received_at, ticket)])[0]

    def append_many(self, entries: list[NewEntry]) -> list[Appended]:
        """Store several entries in one transaction: one fsync for all of them (group commit)."""
        results = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for e in entries:
                    ref = e.ticket
                    cur = self._db.execute(
                        "INSERT OR IGNORE INTO entries (key, kind, payload, received_at, party, ticket_id, "
                        "ticket_number) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (e.key, e.kind, json.dumps(e.payload, ensure_ascii=False), _utc(e.received_at),
                         ref and ref.party, ref and ref.ticket_id, ref and ref.number))
                    row = self._db.execute("SELECT id, key, kind, payload, attempts, ticket_number FROM entries "
                                           "WHERE key = ?", (e.key,)).fetchone()
                    results.append(Appended(_entry(row), cur.rowcount == 1))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return results

    def recent_ticket_of(self, party: str, since: datetime) -> RecentTicket | None:
        """The ticket of `party`'s newest entry received since `since` (parked entries do not count).

        An indexed read on its own connection, well under a millisecond: webhooks call it on the event loop.
        """
        with self._read_lock:
            row = self._reader.execute(
                "SELECT ticket_id, ticket_number, received_at, state FROM entries "
                "WHERE party = ? AND received_at >= ? AND state != 'dead' AND ticket_id IS NOT NULL "
                "ORDER BY received_at DESC, id DESC LIMIT 1", (party, _utc(since))).fetchone()
        if row is None:
            return None
        return RecentTicket(row[0], row[1], datetime.fromisoformat(row[2]), row[3] == "pending")

    def pending(self, limit: int = 100) -> list[JournalEntry]:
        """The oldest entries not yet in Elasticsearch, in arrival order."""
        with self._lock:
            rows = self._db.execute("SELECT id, key, kind, payload, attempts FROM entries WHERE state = 'pending' "
                                    "ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [_entry(r) for r in rows]

    def mark_done(self, entry_ids: list[int]) -> None:
        """Elasticsearch acknowledged these entries; keep only their keys, for duplicate detection."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE entries SET state = 'done', payload = '{}', last_error = NULL WHERE id = ?",
                                 [(i,) for i in entry_ids])
            self._db.execute("COMMIT")

    def mark_failed(self, entry_id: int, error: str) -> bool:
        """Count a failed attempt; returns True when the entry is now parked (state 'dead')."""
        with self._lock:
            self._db.execute("UPDATE entries SET attempts = attempts + 1, last_error = ?, "
                             "state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE state END WHERE id = ?",
                             (error[:500], MAX_ATTEMPTS, entry_id))
            row = self._db.execute("SELECT state FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return bool(row and row[0] == "dead")

    def retry_dead(self) -> int:
        """Put parked entries back in the queue (after the cause was fixed)."""
        with self._lock:
            return self._db.execute("UPDATE entries SET state = 'pending', attempts = 0 WHERE state = 'dead'").rowcount

    def counts(self) -> dict[str, int]:
        """How many entries are pending, done and parked."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM entries GROUP BY state").fetchall()
        return {"pending": 0, "done": 0, "dead": 0, **{state: n for state, n in rows}}

    def prune(self, older_than: timedelta) -> int:
        """Forget done entries older than `older_than` (Twilio stops retrying within hours)."""
        cutoff = (datetime.now(timezone.utc) - older_than).isoformat()
        with self._lock:
            return self._db.execute("DELETE FROM entries WHERE state = 'done' AND received_at < ?",
                                    (cutoff,)).rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock, self._read_lock:
            self._reader.close()
            self._db.close()


def _utc(moment: datetime) -> str:
    """ISO 8601 in UTC, so that stored times compare as text (prune and lookups use string ranges)."""
    return moment.astimezone(timezone.utc).isoformat() if moment.tzinfo else moment.isoformat()


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5] if len(row) > 5 else None)


class JournalWriter:
    """Funnels concurrent appends from request handlers into batched transactions.

    Each webhook still waits until its entry is on disk, but a burst of them shares one fsync instead of
    queueing one fsync each behind a lock (measured: the per-request fsync capped webhooks at ~400/s).
    """

    def __init__(self, journal: Journal, *, max_batch: int = 500) -> None:
        self._journal = journal
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[NewEntry, asyncio.Future[Appended]]] = asyncio.Queue()

    async def append(self, kind: str, key: str, payload: dict[str, Any], received_at: datetime, *,
                     ticket: TicketRef | None = None) -> Appended:
        """Durably store one entry; returns once it is committed."""
        done: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        await self._queue.put((NewEntry(kind, key, payload, received_at, ticket), done))
        return await done

    async def run(self) -> None:
        """Commit whatever is waiting, in one transaction per round; run until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await asyncio.to_thread(self._journal.append_many, [e for e, _ in batch])
            except Exception as err:  # the handlers waiting on this batch answer 5xx; Twilio will retry
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)
