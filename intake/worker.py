"""The background worker that moves journal entries into Elasticsearch, with retries and backoff."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from classifier.text import redact
from intake.errors import TicketConflict
from intake.journal import Journal, JournalEntry
from intake.store import StoreUnavailable

if TYPE_CHECKING:
    from intake.service import BatchOutcome

log = logging.getLogger(__name__)

MAX_BACKOFF_S: Final = 30.0


def _from_elasticsearch(err: BaseException) -> bool:
    return type(err).__module__.startswith(("elasticsearch", "elastic_transport"))


def describe_error(err: BaseException) -> str:
    """One line for the journal and the log: the error's kind and, for Elasticsearch, its status and type only.

    An Elasticsearch refusal's message quotes the document ("Preview of field's value"); other messages pass
    through `redact`, so phone and ID numbers in them are not kept either.
    """
    if _from_elasticsearch(err):
        return f"{type(err).__name__}({getattr(err, 'status_code', None)}, {getattr(err, 'message', None)})"
    return f"{type(err).__name__}: {redact(str(err))}"[:500]


class JournalWorker:
    """Drain the journal in arrival order; an unreachable Elasticsearch pauses it, never drops an entry."""

    def __init__(self, journal: Journal, apply: Callable[[JournalEntry], Awaitable[None]], *,
                 idle_s: float = 1.0, first_backoff_s: float = 0.5, max_backoff_s: float = MAX_BACKOFF_S,
                 apply_sms_batch: Callable[[list[JournalEntry]], Awaitable[BatchOutcome]] | None = None,
                 batch_size: int = 100) -> None:
        self._journal = journal
        self._apply = apply
        self._apply_sms_batch = apply_sms_batch
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """A new entry arrived: skip the idle wait."""
        self._wake.set()

    async def drain_once(self) -> int:
        """Apply what is pending now; returns how many entries were stored. Raises StoreUnavailable.

        With `apply_sms_batch`, each run of consecutive SMS entries is applied as one batch (issue 16); the
        entries it hands back, and every other kind, are applied one at a time, so journal order holds per
        ticket (a run ends at the first entry of another kind).
        """
        stored = 0
        while batch := await asyncio.to_thread(self._journal.pending, self._batch_size):
            done: list[int] = []
            try:
                i = 0
                while i < len(batch):
                    if self._apply_sms_batch is None or batch[i].kind != "sms":
                        await self._apply_one(batch[i], done)
                        i += 1
                        continue
                    j = i
                    while j < len(batch) and batch[j].kind == "sms":
                        j += 1
                    outcome = await self._apply_sms_batch(batch[i:j])
                    done.extend(outcome.done)
                    for entry in outcome.fallback:
                        await self._apply_one(entry, done)
                    i = j
            finally:
                # One write for the whole batch; entries applied before an outage are not applied twice.
                if done:
                    await asyncio.to_thread(self._journal.mark_done, done)
                    stored += len(done)
        return stored

    async def _apply_one(self, entry: JournalEntry, done: list[int]) -> None:
        try:
            await self._apply(entry)
        except (StoreUnavailable, TicketConflict):
            raise
        except Exception as err:  # a bad entry must not block the ones behind it
            error = describe_error(err)
            parked = await asyncio.to_thread(self._journal.mark_failed, entry.id, error)
            # An Elasticsearch refusal quotes the document (caller, text): its kind is logged,
            # never its message or a traceback ending in it (issue 14, #10).
            log.error("journal entry %s (%s) failed%s: %s", entry.id, entry.kind,
                      "; parked after too many attempts" if parked else "; will retry", error,
                      exc_info=None if _from_elasticsearch(err) else err)
            return
        done.append(entry.id)

    async def run(self) -> None:
        """Run until cancelled."""
        backoff = self._first_backoff_s
        while True:
            try:
                await self.drain_once()
                backoff = self._first_backoff_s
            except (StoreUnavailable, TicketConflict) as err:
                log.warning("journal paused for %.1fs: %s", backoff, type(err).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._idle_s)
            except TimeoutError:
                pass
