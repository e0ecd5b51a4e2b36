"""The background worker that moves journal entries into Elasticsearch (the kernel's drain loop)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from classifier.text import redact
from hotline.kernel.drain import (MAX_BACKOFF_S, PAUSES, RETENTION, DrainWorker, describe_error,
                                  from_elasticsearch)
from intake.journal import Journal, JournalEntry

if TYPE_CHECKING:
    from intake.service import BatchOutcome

log = logging.getLogger(__name__)


class JournalWorker(DrainWorker):
    """Drain the journal in arrival order; an unreachable Elasticsearch pauses it, never drops an entry."""

    name = "journal"

    def __init__(self, journal: Journal, apply: Callable[[JournalEntry], Awaitable[None]], *,
                 idle_s: float = 1.0, first_backoff_s: float = 0.5, max_backoff_s: float = MAX_BACKOFF_S,
                 apply_sms_batch: Callable[[list[JournalEntry]], Awaitable[BatchOutcome]] | None = None,
                 batch_size: int = 100, retention: timedelta = RETENTION) -> None:
        super().__init__(journal, idle_s=idle_s, first_backoff_s=first_backoff_s, max_backoff_s=max_backoff_s,
                         retention=retention)
        self._journal = journal
        self._apply = apply
        self._apply_sms_batch = apply_sms_batch
        self._batch_size = batch_size

    async def drain_once(self) -> int:
        """Apply what is pending now; returns how many entries were stored. Raises the kernel's PAUSES.

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
        except PAUSES:
            raise
        except Exception as err:  # a bad entry must not block the ones behind it
            error = describe_error(err, redact)
            parked = await asyncio.to_thread(self._journal.mark_failed, entry.id, error)
            # An Elasticsearch refusal quotes the document (caller, text): its kind is logged,
            # never its message or a traceback ending in it (issue 14, #10).
            log.error("journal entry %s (%s) failed%s: %s", entry.id, entry.kind,
                      "; parked after too many attempts" if parked else "; will retry", error,
                      exc_info=None if from_elasticsearch(err) else err)
            return
        done.append(entry.id)
