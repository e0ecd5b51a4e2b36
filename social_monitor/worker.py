"""Moves journaled posts into Elasticsearch through the service (the kernel's drain loop); nothing is lost."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Final

from classifier.text import redact
from hotline.kernel.drain import MAX_BACKOFF_S, PAUSES, RETENTION, DrainWorker, describe_error
from hotline.kernel.outbox import Pending
from social_monitor.journal import PostJournal
from social_monitor.records import RawPost
from social_monitor.service import IngestReport, PreparedBatch, SocialService

log = logging.getLogger(__name__)

BATCH: Final = 1000
"""Posts per ingest batch at most: every batch reads its candidate claims and refreshes once, so a backlog
drains much faster in big batches (bench/ingest.py); a quiet stream still goes through post by post."""


class IngestWorker(DrainWorker):
    """Drains the post journal in arrival order; an unreachable Elasticsearch pauses it, never drops a post."""

    name = "post ingest"

    def __init__(self, journal: PostJournal, service: SocialService, *, batch: int = BATCH, idle_s: float = 1.0,
                 first_backoff_s: float = 0.5, max_backoff_s: float = MAX_BACKOFF_S,
                 retention: timedelta = RETENTION) -> None:
        super().__init__(journal, idle_s=idle_s, first_backoff_s=first_backoff_s, max_backoff_s=max_backoff_s,
                         retention=retention)
        self._journal, self._service, self._batch = journal, service, batch

    async def drain_once(self) -> int:
        """Ingest everything pending now; returns how many posts were processed. Raises the kernel's PAUSES.

        Pipelined: while one batch is committed (claims and posts written), the next one is prepared
        (normalised, scored, signed) in a thread, so the CPU work overlaps the waits on Elasticsearch.
        """
        done = 0
        batch = await asyncio.to_thread(self._journal.pending, self._batch)
        preparing = self._prepare(batch)
        try:
            while batch and preparing is not None:
                prepared = await self._prepared(preparing, len(batch))
                following = await asyncio.to_thread(self._journal.pending, self._batch, batch[-1].id)
                preparing = self._prepare(following)
                await self._commit(batch, prepared)
                done += len(batch)
                batch = following
        finally:
            if preparing is not None:
                preparing.cancel()
                with contextlib.suppress(BaseException):
                    await preparing
        return done

    def _prepare(self, batch: list[Pending[RawPost]]) -> asyncio.Future[PreparedBatch] | None:
        return asyncio.ensure_future(self._service.prepare([p.item for p in batch])) if batch else None

    @staticmethod
    async def _prepared(preparing: asyncio.Future[PreparedBatch], size: int) -> PreparedBatch | None:
        try:
            return await preparing
        except PAUSES:
            raise
        except Exception:  # e.g. a text the model cannot take: found post by post in _commit
            log.exception("batch of %d posts could not be prepared; ingesting them one by one", size)
            return None

    async def _commit(self, batch: list[Pending[RawPost]], prepared: PreparedBatch | None) -> None:
        if prepared is not None:
            try:
                await self._service.commit(prepared)
            except PAUSES:
                raise
            except Exception as err:  # isolate the post that breaks the batch, so the others go through
                log.warning("batch of %d posts failed (%s); retrying one by one", len(batch),
                            describe_error(err, redact))
            else:
                await asyncio.to_thread(self._journal.mark_done, [p.id for p in batch])
                return
        await self._one_by_one(batch)

    async def _one_by_one(self, batch: list[Pending[RawPost]]) -> None:
        done: list[int] = []
        try:
            for pending in batch:
                try:
                    await self._service.ingest([pending.item])
                except PAUSES:
                    raise
                except Exception as err:  # the post's own data: counted, parked after MAX_ATTEMPTS, others go on
                    error = describe_error(err, redact)
                    parked = await asyncio.to_thread(self._journal.mark_failed, pending.id, error)
                    log.warning("post %s failed%s: %s", pending.item.key, "; parked" if parked else "; will retry",
                                error)
                    continue
                done.append(pending.id)
        finally:
            # One transaction for the posts that went through, even when an outage stops the pass.
            await asyncio.to_thread(self._journal.mark_done, done)


__all__ = ["IngestReport", "IngestWorker"]
