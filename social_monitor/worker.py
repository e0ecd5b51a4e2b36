"""Moves journaled posts into Elasticsearch through the service, with backoff; nothing accepted is lost."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final

from classifier.text import redact
from social_monitor.errors import ClaimConflict, StoreUnavailable
from social_monitor.journal import PendingPost, PostJournal
from social_monitor.service import IngestReport, PreparedBatch, SocialService

log = logging.getLogger(__name__)

BATCH: Final = 1000
"""Posts per ingest batch at most: every batch reads its candidate claims and refreshes once, so a backlog
drains much faster in big batches (bench/ingest.py); a quiet stream still goes through post by post."""
MAX_BACKOFF_S: Final = 30.0


def describe_error(err: BaseException) -> str:
    """One line for the journal and the log: the error's kind and, for Elasticsearch, its status and type.

    Never the message of an Elasticsearch refusal: it quotes the document ("Preview of field's value"), and
    posts may hold phone numbers (issue 14, #10). Other messages pass through `redact`.
    """
    status, kind = getattr(err, "status_code", None), getattr(err, "message", None)
    if isinstance(status, int):
        return f"{type(err).__name__}({status}, {kind})"
    if type(err).__name__ == "BulkIndexError":
        items = getattr(err, "errors", None) or [{}]
        first: Any = next(iter(items[0].values()), {}) if isinstance(items[0], dict) else {}
        error = first.get("error") if isinstance(first, dict) else None
        return f"BulkIndexError({first.get('status') if isinstance(first, dict) else None}, " \
               f"{error.get('type') if isinstance(error, dict) else None})"
    return f"{type(err).__name__}: {redact(str(err))}"[:500]


class IngestWorker:
    """Drains the post journal in arrival order; an unreachable Elasticsearch pauses it, never drops a post."""

    def __init__(self, journal: PostJournal, service: SocialService, *, batch: int = BATCH, idle_s: float = 1.0,
                 first_backoff_s: float = 0.5, max_backoff_s: float = MAX_BACKOFF_S) -> None:
        self._journal, self._service, self._batch = journal, service, batch
        self._idle_s, self._first_backoff_s, self._max_backoff_s = idle_s, first_backoff_s, max_backoff_s
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """New posts were journaled: skip the idle wait."""
        self._wake.set()

    async def drain_once(self) -> int:
        """Ingest everything pending now; returns how many posts were processed. Raises StoreUnavailable.

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

    def _prepare(self, batch: list[PendingPost]) -> asyncio.Future[PreparedBatch] | None:
        return asyncio.ensure_future(self._service.prepare([p.post for p in batch])) if batch else None

    @staticmethod
    async def _prepared(preparing: asyncio.Future[PreparedBatch], size: int) -> PreparedBatch | None:
        try:
            return await preparing
        except (StoreUnavailable, ClaimConflict):
            raise
        except Exception:  # e.g. a text the model cannot take: found post by post in _commit
            log.exception("batch of %d posts could not be prepared; ingesting them one by one", size)
            return None

    async def _commit(self, batch: list[PendingPost], prepared: PreparedBatch | None) -> None:
        if prepared is not None:
            try:
                await self._service.commit(prepared)
            except (StoreUnavailable, ClaimConflict):
                raise
            except Exception as err:  # isolate the post that breaks the batch, so the others go through
                log.warning("batch of %d posts failed (%s); retrying one by one", len(batch), describe_error(err))
            else:
                await asyncio.to_thread(self._journal.mark_done, [p.id for p in batch])
                return
        await self._one_by_one(batch)

    async def _one_by_one(self, batch: list[PendingPost]) -> None:
        for pending in batch:
            try:
                await self._service.ingest([pending.post])
            except (StoreUnavailable, ClaimConflict):
                raise
            except Exception as err:  # the post's own data: counted, parked after MAX_ATTEMPTS, others go on
                error = describe_error(err)
                parked = await asyncio.to_thread(self._journal.mark_failed, pending.id, error)
                log.warning("post %s failed%s: %s", pending.post.key, "; parked" if parked else "; will retry", error)
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
