"""The durable outbox: accepted work waits in SQLite (fsync'd) until its worker has stored it elsewhere.

One table per domain (its name is a parameter; a domain may add columns of its own). A row is appended
once per unique `key`, so a re-delivery is recognised at the door; the worker reads pending rows in arrival
order, acknowledges them in batches (one transaction each), counts failures and parks a row after
`max_attempts`, so one bad entry never holds up the ones behind it. Done rows keep only their key, for
duplicate detection, until `prune` forgets them after the retention period.

Every method blocks (call it through asyncio.to_thread); a lock serialises writers, and lookups use their own
connection, which in WAL mode never waits for the writer's fsync.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from hotline.kernel.errors import Invalid

_NAME: Final = re.compile(r"[a-z_][a-z0-9_]*")
ERROR_CHARS: Final = 500
"""How much of an error message a row keeps (one line for operators, never a whole document)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One stored entry; `columns` holds the domain's own columns, in the order the outbox was given them."""

    id: int
    key: str
    payload: str
    """The payload as the domain wrote it (JSON text); '{}' once the entry is done."""
    received_at: datetime
    attempts: int
    error: str | None
    columns: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Parked:
    """An entry the worker gave up on, and why."""

    key: str
    attempts: int
    error: str
    received_at: datetime

    def as_json(self) -> dict[str, Any]:
        """JSON form for the API and the CLI."""
        return {"key": self.key, "attempts": self.attempts, "error": self.error,
                "received_at": self.received_at.isoformat()}


E = TypeVar("E")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pending(Generic[T]):
    """A decoded entry waiting for its worker: its row id, what it holds, and when it was accepted."""

    id: int
    item: T
    received_at: datetime


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC, so that stored times compare as text (prune and lookups use string ranges)."""
    return moment.astimezone(timezone.utc).isoformat() if moment.tzinfo else moment.isoformat()


class Outbox(Generic[E]):
    """A SQLite table of entries in WAL mode with synchronous=FULL: a commit is on disk when it returns.

    A domain subclasses it with `decode`, which turns a stored row into the domain's typed entry.
    """

    def __init__(self, path: Path, *, table: str, max_attempts: int, columns: Mapping[str, str] | None = None,
                 schema: str = "") -> None:
        """Open (or create) `path`; `columns` (name -> SQL type) are added to a table made before they existed,
        and `schema` is the domain's own DDL (other tables, indexes), run once the table exists."""
        if not _NAME.fullmatch(table) or not all(_NAME.fullmatch(c) for c in columns or {}):
            raise ValueError(f"not a table or column name: {table!r} {list(columns or {})!r}")
        self.table, self.max_attempts = table, max_attempts
        self._columns = tuple(columns or {})
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # The same table and index the domains' journals created before the kernel: old files open unchanged.
        self._db.executescript(f"""
            CREATE TABLE IF NOT EXISTS {table} (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL UNIQUE,
                payload TEXT NOT NULL,
                received_at TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            );
            CREATE INDEX IF NOT EXISTS {table}_state ON {table} (state, id);
        """)
        existing = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        for name, sql_type in (columns or {}).items():
            if name not in existing:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
        if schema:
            self._db.executescript(schema)
        self._read_lock = threading.Lock()
        self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._select = ", ".join(("id", "key", "payload", "received_at", "attempts", "last_error", *self._columns))

    # --- writing ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (one fsync): appends and the domain's own updates commit together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(self, db: sqlite3.Connection, key: str, payload: str, received_at: datetime,
               **columns: Any) -> bool:
        """Append one entry inside `transaction()`; False if its key was seen before (the first one stays)."""
        names = ("key", "payload", "received_at", *columns)
        cur = db.execute(f"INSERT OR IGNORE INTO {self.table} ({', '.join(names)}) VALUES "
                         f"({', '.join('?' * len(names))})", (key, payload, utc_text(received_at), *columns.values()))
        return cur.rowcount == 1

    def by_key(self, db: sqlite3.Connection, key: str) -> Row:
        """The stored row of `key`, inside `transaction()`."""
        return self._row(db.execute(f"SELECT {self._select} FROM {self.table} WHERE key = ?", (key,)).fetchone())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement of the domain's own (its other tables), under the write lock; returns the rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    # --- the worker's side --------------------------------------------------------------------
    def decode(self, row: Row) -> E:
        """The domain's entry for a stored row; raises ValueError, KeyError, TypeError or Invalid if unreadable."""
        raise NotImplementedError

    def pending(self, limit: int = 100, after: int = 0) -> list[E]:
        """The oldest entries not yet stored, in arrival order (those after entry `after`).

        An entry that no longer decodes (written before a validation rule existed) is parked at once with
        its error: it would fail every time, and must not hold up the entries behind it (issue 14, #4).
        """
        with self._lock:
            rows = self._db.execute(f"SELECT {self._select} FROM {self.table} WHERE state = 'pending' AND id > ? "
                                    "ORDER BY id LIMIT ?", (after, limit)).fetchall()
        out = []
        for raw in rows:
            row = self._row(raw)
            try:
                out.append(self.decode(row))
            except (ValueError, KeyError, TypeError, Invalid) as err:
                self.park(row.id, f"unreadable journal entry: {type(err).__name__}: {err}")
        return out

    def mark_done(self, ids: Sequence[int]) -> None:
        """These entries are stored: keep only their keys, all in one transaction (one fsync for the batch)."""
        if not ids:
            return
        with self.transaction() as db:
            db.executemany(f"UPDATE {self.table} SET state = 'done', payload = '{{}}', last_error = NULL "
                           "WHERE id = ?", [(i,) for i in ids])

    def mark_failed(self, entry_id: int, error: str) -> bool:
        """Count a failed attempt; returns True when the entry is now parked (state 'dead')."""
        with self._lock:
            self._db.execute(f"UPDATE {self.table} SET attempts = attempts + 1, last_error = ?, "
                             "state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE state END WHERE id = ?",
                             (error[:ERROR_CHARS], self.max_attempts, entry_id))
            row = self._db.execute(f"SELECT state FROM {self.table} WHERE id = ?", (entry_id,)).fetchone()
        return bool(row and row[0] == "dead")

    def park(self, entry_id: int, error: str) -> None:
        """Give up on an entry at once (its data can never be stored); kept, with its error, for `retry_dead`."""
        with self._lock:
            self._db.execute(f"UPDATE {self.table} SET state = 'dead', attempts = attempts + 1, last_error = ? "
                             "WHERE id = ?", (error[:ERROR_CHARS], entry_id))

    def parked(self, limit: int = 20) -> list[Parked]:
        """The most recently parked entries, with their errors."""
        with self._lock:
            rows = self._db.execute(f"SELECT {self._select} FROM {self.table} WHERE state = 'dead' "
                                    "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Parked(r.key, r.attempts, r.error or "", r.received_at) for r in map(self._row, rows)]

    def retry_dead(self) -> int:
        """Queue parked entries again (after the cause was fixed); returns how many."""
        with self._lock:
            return self._db.execute(f"UPDATE {self.table} SET state = 'pending', attempts = 0 "
                                    "WHERE state = 'dead'").rowcount

    def prune(self, older_than: timedelta) -> int:
        """Forget done entries received more than `older_than` ago (re-deliveries stop within hours)."""
        cutoff = utc_text(datetime.now(timezone.utc) - older_than)
        with self._lock:
            return self._db.execute(f"DELETE FROM {self.table} WHERE state = 'done' AND received_at < ?",
                                    (cutoff,)).rowcount

    def counts(self) -> dict[str, int]:
        """How many entries are pending, done and parked ('dead')."""
        with self._lock:
            rows = self._db.execute(f"SELECT state, COUNT(*) FROM {self.table} GROUP BY state").fetchall()
        return {"pending": 0, "done": 0, "dead": 0, **{state: n for state, n in rows}}

    # --- reading ------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read of the domain's own, on the reader connection (it never waits for a commit's fsync)."""
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the database."""
        with self._lock, self._read_lock:
            self._reader.close()
            self._db.close()

    def _row(self, row: tuple[Any, ...]) -> Row:
        return Row(row[0], row[1], row[2], datetime.fromisoformat(row[3]), row[4], row[5], tuple(row[6:]))
