"""The durable side of collection: accepted posts and each source's cursor and status, in one SQLite file.

A collector's batch and its new cursor are committed in one transaction (WAL, synchronous=FULL), so a crash
either keeps both or neither: a restart resumes from the cursor without re-reading or losing posts. The
unique post key (source + id at the origin) drops re-deliveries at the door. A worker then moves pending
posts into Elasticsearch and marks them done only after Elasticsearch acknowledged (as intake's journal).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from social_monitor.errors import InvalidPost
from social_monitor.records import RawPost

MAX_ATTEMPTS: Final = 5
"""Failed ingests of one post before it is parked: the worker retries it on each pass, others go ahead."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS posts_state ON posts (state, id);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    cursor TEXT,
    healthy INTEGER NOT NULL DEFAULT 1,
    last_run_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    collected INTEGER NOT NULL DEFAULT 0,
    next_run_at TEXT
);
"""


@dataclass(frozen=True, slots=True)
class PendingPost:
    """A journaled post not yet in Elasticsearch."""

    id: int
    post: RawPost
    received_at: datetime


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What GET /api/sources shows of one source."""

    name: str
    kind: str
    healthy: bool
    cursor: str | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    failures: int
    collected: int
    next_run_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """JSON form for the API."""
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None
        return {"name": self.name, "kind": self.kind, "healthy": self.healthy, "cursor": self.cursor,
                "last_run_at": iso(self.last_run_at), "last_success_at": iso(self.last_success_at),
                "last_error": self.last_error, "consecutive_failures": self.failures, "collected": self.collected,
                "next_run_at": iso(self.next_run_at)}


@dataclass(frozen=True, slots=True)
class ParkedPost:
    """A post the worker gave up on, and why."""

    key: str
    attempts: int
    error: str
    received_at: datetime

    def as_json(self) -> dict[str, Any]:
        """JSON form for the API and the CLI."""
        return {"key": self.key, "attempts": self.attempts, "error": self.error,
                "received_at": self.received_at.isoformat()}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PostJournal:
    """Thread-safe access to the journal file; every method is blocking (call it through asyncio.to_thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def register_source(self, name: str, kind: str) -> None:
        """Make a configured source known (keeps its cursor and counters if it existed)."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO sources (name, kind) VALUES (?, ?)", (name, kind))

    def cursor(self, name: str) -> str | None:
        """Where the source's next read starts (None: from the beginning)."""
        with self._lock:
            row = self._db.execute("SELECT cursor FROM sources WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def accept(self, posts: Sequence[RawPost], received_at: datetime, *, source: str | None = None,
               cursor: str | None = None) -> int:
        """Store posts (and, for a collector, its new cursor) in one transaction; returns how many were new."""
        rows = [(p.key, json.dumps(p.as_json(), ensure_ascii=False), received_at.isoformat()) for p in posts]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("INSERT OR IGNORE INTO posts (key, payload, received_at) VALUES (?, ?, ?)", rows)
                created = self._db.total_changes - before
                if source is not None:
                    self._db.execute(
                        "UPDATE sources SET cursor = COALESCE(?, cursor), healthy = 1, last_run_at = ?, "
                        "last_success_at = ?, last_error = NULL, failures = 0, collected = collected + ? "
                        "WHERE name = ?", (cursor, received_at.isoformat(), received_at.isoformat(), created, source))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return created

    def record_failure(self, name: str, error: str, at: datetime, next_run_at: datetime) -> None:
        """The source failed: unhealthy, with a one-line message for the operators."""
        with self._lock:
            self._db.execute("UPDATE sources SET healthy = 0, last_run_at = ?, last_error = ?, failures = failures + 1, "
                             "next_run_at = ? WHERE name = ?", (at.isoformat(), error[:500], next_run_at.isoformat(),
                                                                name))

    def schedule(self, name: str, next_run_at: datetime) -> None:
        """When the source runs next (shown in its status)."""
        with self._lock:
            self._db.execute("UPDATE sources SET next_run_at = ? WHERE name = ?", (next_run_at.isoformat(), name))

    def statuses(self) -> list[SourceStatus]:
        """Every source's status, by name."""
        with self._lock:
            rows = self._db.execute("SELECT name, kind, healthy, cursor, last_run_at, last_success_at, last_error, "
                                    "failures, collected, next_run_at FROM sources ORDER BY name").fetchall()
        return [SourceStatus(r[0], r[1], bool(r[2]), r[3], _time(r[4]), _time(r[5]), r[6], r[7], r[8], _time(r[9]))
                for r in rows]

    def pending(self, limit: int = 200, after: int = 0) -> list[PendingPost]:
        """The oldest posts not yet in Elasticsearch, in arrival order (those after entry `after`).

        A payload that no longer parses (journaled before a validation rule existed) is parked at once with
        its error: it would fail every time, and must not hold up the posts behind it (issue 14, #4).
        """
        with self._lock:
            rows = self._db.execute("SELECT id, payload, received_at FROM posts WHERE state = 'pending' AND id > ? "
                                    "ORDER BY id LIMIT ?", (after, limit)).fetchall()
        out = []
        for row_id, payload, received_at in rows:
            try:
                data = json.loads(payload)
                post = RawPost.from_json(data, default_source=data["source"])
            except (ValueError, KeyError, TypeError, InvalidPost) as err:
                self.park(row_id, f"unreadable journal entry: {err}")
                continue
            out.append(PendingPost(row_id, post, datetime.fromisoformat(received_at)))
        return out

    def park(self, entry_id: int, error: str) -> None:
        """Give up on a post at once (its data can never be ingested); kept, with its error, for `retry`."""
        with self._lock:
            self._db.execute("UPDATE posts SET state = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
                             (error[:500], entry_id))

    def parked(self, limit: int = 20) -> list[ParkedPost]:
        """The most recently parked posts with their errors (GET /api/sources, `hotline journal posts`)."""
        with self._lock:
            rows = self._db.execute("SELECT key, attempts, last_error, received_at FROM posts WHERE state = 'dead' "
                                    "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [ParkedPost(r[0], r[1], r[2] or "", datetime.fromisoformat(r[3])) for r in rows]

    def retry_dead(self) -> int:
        """Queue parked posts again (after fixing what made them fail)."""
        with self._lock:
            return self._db.execute("UPDATE posts SET state = 'pending', attempts = 0 WHERE state = 'dead'").rowcount

    def mark_done(self, ids: Sequence[int]) -> None:
        """Elasticsearch acknowledged these posts; keep only their keys, for duplicate detection."""
        with self._lock:
            self._db.executemany("UPDATE posts SET state = 'done', payload = '{}', last_error = NULL WHERE id = ?",
                                 [(i,) for i in ids])

    def mark_failed(self, entry_id: int, error: str) -> bool:
        """Count a failed attempt; returns True when the post is now parked (state 'dead')."""
        with self._lock:
            self._db.execute("UPDATE posts SET attempts = attempts + 1, last_error = ?, "
                             "state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE state END WHERE id = ?",
                             (error[:500], MAX_ATTEMPTS, entry_id))
            row = self._db.execute("SELECT state FROM posts WHERE id = ?", (entry_id,)).fetchone()
        return bool(row and row[0] == "dead")

    def counts(self) -> dict[str, int]:
        """How many posts are pending, done and parked."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM posts GROUP BY state").fetchall()
        return {"pending": 0, "done": 0, "dead": 0, **{state: n for state, n in rows}}

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
