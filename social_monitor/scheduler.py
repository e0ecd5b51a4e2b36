"""Runs every collector on its own interval, journals what it finds with its cursor, and backs off on errors.

One task per source, so a source that hangs or fails never delays the others (issue 5: "a malformed feed,
an expired token or a 500 marks that source unhealthy and does not stop the other sources").

With several replicas (issue 16), each source's task first takes the source's lease (social_monitor/leases.py):
only the holder polls, and the lease carries the cursor and the time the source is next due, so the fleet polls
each source once per interval and a replica taking over from a dead one neither repeats nor skips a run. The
holder renews the lease at least every third of its time, also while it waits for the next run.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Final

from social_monitor.collectors import Collector, scrub_secrets
from social_monitor.errors import SourceFailed
from social_monitor.journal import PostJournal
from social_monitor.leases import Lease, LeaseStore

log = logging.getLogger(__name__)

MAX_BACKOFF_S: Final = 3600.0
LEASE_PREFIX: Final = "source:"


def lease_name(source: str) -> str:
    """The lease that says which replica polls `source`."""
    return f"{LEASE_PREFIX}{source}"


class CollectorScheduler:
    """Owns the collection tasks; `run_once` is the same step the tasks repeat (used by tests and the CLI)."""

    def __init__(self, journal: PostJournal, collectors: Sequence[Collector], *, on_accept: Callable[[], None],
                 max_backoff_s: float = MAX_BACKOFF_S, leases: LeaseStore | None = None,
                 lease_ttl: timedelta = timedelta(seconds=60)) -> None:
        self._journal = journal
        self._leases, self._lease_ttl = leases, lease_ttl
        self._collectors = {c.name: c for c in collectors}
        self._on_accept = on_accept
        self._max_backoff_s = max_backoff_s
        self._failures: dict[str, int] = {}
        for collector in collectors:
            journal.register_source(collector.name, collector.kind)

    async def run_once(self, name: str) -> float:
        """Collect from one source once; returns the seconds to wait before the next run."""
        cursor = await asyncio.to_thread(self._journal.cursor, name)
        wait, _ = await self._collect(name, cursor)
        return wait

    async def _collect(self, name: str, cursor: str | None) -> tuple[float, str | None]:
        """One run from `cursor`: the seconds to wait before the next run and the cursor to start from then."""
        collector = self._collectors[name]
        now = datetime.now(timezone.utc)
        try:
            batch = await collector.collect(cursor)
            created = await asyncio.to_thread(self._journal.accept, batch.posts, now, source=name, cursor=batch.cursor)
        except SourceFailed as err:
            return await self._failed(name, str(err), now), cursor
        except Exception as err:  # a task boundary: an unexpected bug in one collector must not end its loop
            log.error("source %s failed unexpectedly: %s", name, type(err).__name__)  # no message: it may hold a URL
            return await self._failed(name, f"unexpected error: {type(err).__name__}", now), cursor
        self._failures.pop(name, None)
        if created:
            log.info("source %s: %d new posts", name, created)
            self._on_accept()
        wait = collector.interval_s
        await asyncio.to_thread(self._journal.schedule, name, now + timedelta(seconds=wait))
        return wait, batch.cursor

    async def _failed(self, name: str, message: str, now: datetime) -> float:
        message = scrub_secrets(message)  # shown in GET /api/sources and the log: never a token
        failures = self._failures[name] = self._failures.get(name, 0) + 1
        wait = min(self._collectors[name].interval_s * 2.0 ** (failures - 1), self._max_backoff_s)
        log.warning("source %s unhealthy (%d in a row), next try in %.0fs: %s", name, failures, wait, message)
        await asyncio.to_thread(self._journal.record_failure, name, message, now, now + timedelta(seconds=wait))
        return wait

    async def run_source(self, name: str) -> None:
        """Collect from one source until cancelled (only while holding its lease, when there are leases)."""
        if self._leases is None:
            while True:
                await asyncio.sleep(await self.run_once(name))
        lease: Lease | None = None
        try:
            while True:
                try:
                    lease = await self._leased_step(name, self._leases)
                except Exception as err:  # Elasticsearch away: hold nothing, try again after a renewal period
                    log.warning("lease for source %s not checked: %s", name, type(err).__name__)
                    lease = None
                    await asyncio.sleep(self._renew_s)
        finally:
            if lease is not None:  # a clean stop hands the source on at once instead of after the lease time
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._leases.release(lease))

    @property
    def _renew_s(self) -> float:
        return self._lease_ttl.total_seconds() / 3

    async def _leased_step(self, name: str, leases: LeaseStore) -> Lease | None:
        """Take or renew the source's lease; run the source if it is due; sleep at most a renewal period."""
        lease = await leases.acquire(lease_name(name), self._lease_ttl)
        if lease is None:  # another replica polls it; ask again in case it dies
            await asyncio.sleep(self._renew_s)
            return None
        now = datetime.now(timezone.utc)
        due = lease.state.get("due_at")
        if due is not None and datetime.fromisoformat(due) > now:
            await asyncio.sleep(min((datetime.fromisoformat(due) - now).total_seconds(), self._renew_s))
            return lease
        # The fleet's cursor, when a replica left one; else this replica's own journal (the first run ever).
        cursor = lease.state["cursor"] if "cursor" in lease.state else await asyncio.to_thread(
            self._journal.cursor, name)
        wait, cursor = await self._collect(name, cursor)
        due_at = now + timedelta(seconds=wait)  # from the run's start, as one replica alone would
        renewed = await leases.renew(lease, self._lease_ttl, {"due_at": due_at.isoformat(), "cursor": cursor})
        await asyncio.sleep(min(wait, self._renew_s))
        return renewed

    def start(self) -> list[asyncio.Task[None]]:
        """One task per source."""
        return [asyncio.create_task(self.run_source(name), name=f"collect-{name}") for name in self._collectors]
