"""Moves journaled posts into Elasticsearch through the service, with backoff; nothing accepted is lost."""
from __future__ import annotations

import asyncio
import logging
from typing import Final

from social_monitor.errors import ClaimConflict, StoreUnavailable
from social_monitor.journal import PendingPost, PostJournal
from social_monitor.service import IngestReport, SocialService

log = logging.getLogger(__name__)

BATCH: Final = 200
MAX_BACKOFF_S: Final = 30.0


class IngestWorker:
    """Drains the post journal in arrival order; an unreachable Elasticsearch pauses it, never drops a post."""

    def __init__(self, journal: PostJournal, service: SocialService, *, idle_s: float = 1.0,
                 first_backoff_s: float = 0.5, max_backoff_s: float = MAX_BACKOFF_S) -> None:
        self._journal, self._service = journal, service
        self._idle_s, self._first_backoff_s, self._max_backoff_s = idle_s, first_backoff_s, max_backoff_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """New posts were journaled: skip the idle wait."""
        self._wake.set()

    async def drain_once(self) -> int:
        """Ingest everything pending now; returns how many posts were processed. Raises StoreUnavailable."""
        done = 0
        while batch := await asyncio.to_thread(self._journal.pending, BATCH):
            try:
                await self._service.ingest([p.post for p in batch])
            except (StoreUnavailable, ClaimConflict):
                raise
            except Exception:  # isolate the post that breaks the batch, so the others go through
                log.exception("batch of %d posts failed; retrying one by one", len(batch))
                await self._one_by_one(batch)
            else:
                await asyncio.to_thread(self._journal.mark_done, [p.id for p in batch])
            done += len(batch)
        return done

    async def _one_by_one(self, batch: list[PendingPost]) -> None:
        for pending in batch:
            try:
                await self._service.ingest([pending.post])
            except (StoreUnavailable, ClaimConflict):
                raise
            except Exception as err:
                parked = await asyncio.to_thread(self._journal.mark_failed, pending.id, repr(err))
                log.warning("post %s failed%s", pending.post.key, "; parked" if parked else "; will retry")
                continue
            await asyncio.to_thread(self._journal.mark_done, [pending.id])

    async def run(self) -> None:
        """Run until cancelled."""
        backoff = self._first_backoff_s
        while True:
            try:
                await self.drain_once()
                backoff = self._first_backoff_s
            except (StoreUnavailable, ClaimConflict) as err:
                log.warning("post ingest paused for %.1fs: %s", backoff, type(err).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._idle_s)
            except TimeoutError:
                pass


__all__ = ["IngestReport", "IngestWorker"]
