"""The durable side of collection: accepted posts and each source's cursor and status, in one SQLite file.

A thin user of the kernel's outbox (hotline/kernel/outbox.py), which stores, acknowledges, parks and prunes
the posts. What is the social monitor's own: the `sources` table, and a collector's batch committed with its
new cursor in one transaction, so a crash either keeps both or neither: a restart resumes from the cursor
without re-reading or losing posts. The unique post key (source + id at the origin) drops re-deliveries at
the door.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from hotline.kernel.outbox import Outbox, Pending, Row, utc_text
from social_monitor.records import RawPost

MAX_ATTEMPTS: Final = 5
"""Failed ingests of one post before it is parked: the worker retries it on each pass, others go ahead."""

_SOURCES: Final = """
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


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PostJournal(Outbox[Pending[RawPost]]):
    """The posts outbox and the sources table; every method is blocking (call it through asyncio.to_thread)."""

    def __init__(self, path: Path, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        super().__init__(path, table="posts", max_attempts=max_attempts, schema=_SOURCES)

    def decode(self, row: Row) -> Pending[RawPost]:
        """The stored post; raises InvalidPost (and the outbox parks it) if it no longer validates."""
        data = json.loads(row.payload)
        return Pending(row.id, RawPost.from_json(data, default_source=data["source"]), row.received_at)

    def register_source(self, name: str, kind: str) -> None:
        """Make a configured source known (keeps its cursor and counters if it existed)."""
        self.execute("INSERT OR IGNORE INTO sources (name, kind) VALUES (?, ?)", (name, kind))

    def cursor(self, name: str) -> str | None:
        """Where the source's next read starts (None: from the beginning)."""
        rows = self.query("SELECT cursor FROM sources WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def accept(self, posts: Sequence[RawPost], received_at: datetime, *, source: str | None = None,
               cursor: str | None = None) -> int:
        """Store posts (and, for a collector, its new cursor) in one transaction; returns how many were new."""
        at = utc_text(received_at)
        with self.transaction() as db:
            created = sum(self.insert(db, p.key, json.dumps(p.as_json(), ensure_ascii=False), received_at)
                          for p in posts)
            if source is not None:
                db.execute("UPDATE sources SET cursor = COALESCE(?, cursor), healthy = 1, last_run_at = ?, "
                           "last_success_at = ?, last_error = NULL, failures = 0, collected = collected + ? "
                           "WHERE name = ?", (cursor, at, at, created, source))
        return created

    def record_failure(self, name: str, error: str, at: datetime, next_run_at: datetime) -> None:
        """The source failed: unhealthy, with a one-line message for the operators."""
        self.execute("UPDATE sources SET healthy = 0, last_run_at = ?, last_error = ?, failures = failures + 1, "
                     "next_run_at = ? WHERE name = ?", (at.isoformat(), error[:500], next_run_at.isoformat(), name))

    def schedule(self, name: str, next_run_at: datetime) -> None:
        """When the source runs next (shown in its status)."""
        self.execute("UPDATE sources SET next_run_at = ? WHERE name = ?", (next_run_at.isoformat(), name))

    def statuses(self) -> list[SourceStatus]:
        """Every source's status, by name."""
        rows = self.query("SELECT name, kind, healthy, cursor, last_run_at, last_success_at, last_error, "
                          "failures, collected, next_run_at FROM sources ORDER BY name")
        return [SourceStatus(r[0], r[1], bool(r[2]), r[3], _time(r[4]), _time(r[5]), r[6], r[7], r[8], _time(r[9]))
                for r in rows]
