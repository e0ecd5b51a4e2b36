"""The durable journal: every accepted webhook is written here (fsync'd) before Twilio gets its answer.

A thin user of the kernel's outbox (hotline/kernel/outbox.py), which stores, acknowledges, parks and prunes.
What is intake's own: the entry's `kind` and JSON payload (a typed command, intake/commands.py), and the
ticket-join columns, by which an SMS finds its sender's recent ticket before Elasticsearch has it. The unique
key (CallSid, MessageSid, RecordingSid, CallSid+SequenceId) makes Twilio's retries and duplicate deliveries
harmless: the second copy is recognised at the door and never becomes a second ticket.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from hotline.kernel.outbox import Outbox, Row, utc_text

MAX_ATTEMPTS: Final = 8
"""Failures other than Elasticsearch being unreachable park an entry after this many tries."""

COLUMNS: Final = {"kind": "TEXT NOT NULL DEFAULT ''", "party": "TEXT", "ticket_id": "TEXT", "ticket_number": "TEXT"}
"""`kind` was in the first schema; the ticket columns came with the SMS join lookup (issue 7): a journal from
before gets them on open, empty for old rows."""


@dataclass(frozen=True, slots=True)
class TicketRef:
    """Which ticket an entry belongs to, and who (caller or sender) it came from."""

    party: str
    ticket_id: str
    number: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One accepted webhook or request, as stored (`commands.decode` makes it a typed command)."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    ticket_number: str | None = None
    """The ticket's number as journaled; kept after the payload is cleared, for repeat deliveries (issue 14, #8)."""


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


class Journal(Outbox[JournalEntry]):
    """Intake's outbox: the table `entries` with its kind and ticket-join columns."""

    def __init__(self, path: Path, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        super().__init__(path, table="entries", max_attempts=max_attempts, columns=COLUMNS,
                         schema="CREATE INDEX IF NOT EXISTS entries_party ON entries (party, received_at);")

    def decode(self, row: Row) -> JournalEntry:
        """The stored row as an entry; a payload that is not JSON raises ValueError (the entry is parked)."""
        kind, _party, _ticket_id, number = row.columns
        return JournalEntry(row.id, row.key, kind, json.loads(row.payload), row.attempts, number)

    def append(self, kind: str, key: str, payload: dict[str, Any], received_at: datetime, *,
               ticket: TicketRef | None = None) -> Appended:
        """Store an entry durably; a key seen before returns the first entry with created=False."""
        return self.append_many([NewEntry(kind, key, payload, received_at, ticket)])[0]

    def append_many(self, entries: list[NewEntry]) -> list[Appended]:
        """Store several entries in one transaction: one fsync for all of them (group commit)."""
        results = []
        with self.transaction() as db:
            for e in entries:
                ref = e.ticket
                created = self.insert(db, e.key, json.dumps(e.payload, ensure_ascii=False), e.received_at,
                                      kind=e.kind, party=ref and ref.party, ticket_id=ref and ref.ticket_id,
                                      ticket_number=ref and ref.number)
                results.append(Appended(self.decode(self.by_key(db, e.key)), created))
        return results

    def recent_ticket_of(self, party: str, since: datetime) -> RecentTicket | None:
        """The ticket of `party`'s newest entry received since `since` (parked entries do not count).

        An indexed read on the reader connection, well under a millisecond: webhooks call it on the event loop.
        """
        rows = self.query("SELECT ticket_id, ticket_number, received_at, state FROM entries "
                          "WHERE party = ? AND received_at >= ? AND state != 'dead' AND ticket_id IS NOT NULL "
                          "ORDER BY received_at DESC, id DESC LIMIT 1", (party, utc_text(since)))
        if not rows:
            return None
        ticket_id, number, received_at, state = rows[0]
        return RecentTicket(ticket_id, number, datetime.fromisoformat(received_at), state == "pending")


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
