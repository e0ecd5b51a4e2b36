"""Runs every collector on its own interval, journals what it finds with its cursor, and backs off on errors.

One task per source, so a source that hangs or fails never delays the others (issue 5: "a malformed feed,
an expired token or a 500 marks that source unhealthy and does not stop the other sources").
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Final

from social_monitor.collectors import Collector, scrub_secrets
from social_monitor.errors import SourceFailed
from social_monitor.journal import PostJournal

log = logging.getLogger(__name__)

MAX_BACKOFF_S: Final = 3600.0


class CollectorScheduler:
    """Owns the collection tasks; `run_once` is the same step the tasks repeat (used by tests and the CLI)."""

    def __init__(self, journal: PostJournal, collectors: Sequence[Collector], *, on_accept: Callable[[], None],
                 max_backoff_s: float = MAX_BACKOFF_S) -> None:
        self._journal = journal
        self._collectors = {c.name: c for c in collectors}
        self._on_accept = on_accept
        self._max_backoff_s = max_backoff_s
        self._failures: dict[str, int] = {}
        for collector in collectors:
            journal.register_source(collector.name, collector.kind)

    async def run_once(self, name: str) -> float:
        """Collect from one source once; returns the seconds to wait before the next run."""
        collector = self._collectors[name]
        now = datetime.now(timezone.utc)
        try:
            cursor = await asyncio.to_thread(self._journal.cursor, name)
            batch = await collector.collect(cursor)
            created = await asyncio.to_thread(self._journal.accept, batch.posts, now, source=name, cursor=batch.cursor)
        except SourceFailed as err:
            return await self._failed(name, str(err), now)
        except Exception as err:  # a task boundary: an unexpected bug in one collector must not end its loop
            log.error("source %s failed unexpectedly: %s", name, type(err).__name__)  # no message: it may hold a URL
            return await self._failed(name, f"unexpected error: {type(err).__name__}", now)
        self._failures.pop(name, None)
        if created:
            log.info("source %s: %d new posts", name, created)
            self._on_accept()
        wait = collector.interval_s
        await asyncio.to_thread(self._journal.schedule, name, now + timedelta(seconds=wait))
        return wait

    async def _failed(self, name: str, message: str, now: datetime) -> float:
        message = scrub_secrets(message)  # shown in GET /api/sources and the log: never a token
        failures = self._failures[name] = self._failures.get(name, 0) + 1
        wait = min(self._collectors[name].interval_s * 2.0 ** (failures - 1), self._max_backoff_s)
        log.warning("source %s unhealthy (%d in a row), next try in %.0fs: %s", name, failures, wait, message)
        await asyncio.to_thread(self._journal.record_failure, name, message, now, now + timedelta(seconds=wait))
        return wait

    async def run_source(self, name: str) -> None:
        """Collect from one source until cancelled."""
        while True:
            await asyncio.sleep(await self.run_once(name))

    def start(self) -> list[asyncio.Task[None]]:
        """One task per source."""
        return [asyncio.create_task(self.run_source(name), name=f"collect-{name}") for name in self._collectors]
