"""Leases in Elasticsearch: which replica does a piece of work, across any number of replicas.

A lease is a document keyed by its name with a holder and an expiry. A replica takes a lease that is absent
(create-if-absent), expired or already its own, and renews it by rewriting it; every write is conditional on
the version it read (`if_seq_no`/`if_primary_term`), so of two replicas racing for one lease exactly one wins
and the other sees a conflict and backs off. A holder that dies stops renewing; once `expires_at` passes, the
next replica to ask takes the lease over. The lease also carries a small `state` the holder hands on (a source's
cursor and when it is next due), so a takeover continues where the dead replica stopped.

Clocks: expiry compares the asking replica's clock with the holder's; replicas need clocks within a small
fraction of the lease time of each other (NTP gives milliseconds; leases are tens of seconds).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease this replica holds, with the version it was written at (for the next conditional write)."""

    name: str
    holder: str
    expires_at: datetime
    state: Mapping[str, Any] = field(default_factory=dict)
    taken_over: bool = False
    """True when this replica just took the lease from another holder (whose lease had expired)."""
    seq_no: int = 0
    primary_term: int = 0


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LeaseStore:
    """Take, renew and release leases in the `leases` alias as `holder` (one replica's identity)."""

    def __init__(self, es: AsyncElasticsearch, alias: str, holder: str,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._es, self._alias, self.holder, self._clock = es, alias, holder, clock

    async def acquire(self, name: str, ttl: timedelta, state: Mapping[str, Any] | None = None) -> Lease | None:
        """Take or renew the lease `name` for `ttl`; None while another holder's lease is live or on a lost race.

        `state`, when given, replaces the lease's state; otherwise the state is kept as the last holder left it.
        """
        now = self._clock()
        try:
            resp = await self._es.get(index=self._alias, id=name)
        except NotFoundError:
            return await self._create(name, now, ttl, state or {})
        doc = resp["_source"]
        expires_at = datetime.fromisoformat(doc["expires_at"])
        mine = doc["holder"] == self.holder
        if not mine and expires_at > now:
            return None
        kept = doc.get("state") or {}
        body: dict[str, Any] = {"holder": self.holder, "renewed_at": now.isoformat(), "expires_at": (now + ttl).isoformat(),
                "state": dict(kept if state is None else state)}
        try:
            written = await self._es.index(index=self._alias, id=name, document=body,
                                           if_seq_no=resp["_seq_no"], if_primary_term=resp["_primary_term"])
        except ConflictError:  # another replica renewed or took it between our read and our write
            return None
        if not mine:
            log.info("lease %s taken over from %s (expired %s)", name, doc["holder"], doc["expires_at"])
        return Lease(name, self.holder, now + ttl, body["state"], not mine, written["_seq_no"],
                     written["_primary_term"])

    async def _create(self, name: str, now: datetime, ttl: timedelta, state: Mapping[str, Any]) -> Lease | None:
        body: dict[str, Any] = {"holder": self.holder, "renewed_at": now.isoformat(),
                                "expires_at": (now + ttl).isoformat(), "state": dict(state)}
        try:
            written = await self._es.create(index=self._alias, id=name, document=body)
        except ConflictError:  # another replica created it first
            return None
        return Lease(name, self.holder, now + ttl, body["state"], False, written["_seq_no"], written["_primary_term"])

    async def renew(self, lease: Lease, ttl: timedelta, state: Mapping[str, Any] | None = None) -> Lease | None:
        """Extend a lease held since `lease` was read, with new state; None if it was lost meanwhile."""
        now = self._clock()
        body: dict[str, Any] = {"holder": self.holder, "renewed_at": now.isoformat(), "expires_at": (
            now + ttl).isoformat(), "state": dict(lease.state if state is None else state)}
        try:
            written = await self._es.index(index=self._alias, id=lease.name, document=body,
                                           if_seq_no=lease.seq_no, if_primary_term=lease.primary_term)
        except (ConflictError, NotFoundError):
            log.warning("lease %s was lost before it was renewed", lease.name)
            return None
        return Lease(lease.name, self.holder, now + ttl, body["state"], False, written["_seq_no"],
                     written["_primary_term"])

    async def release(self, lease: Lease) -> None:
        """Give a lease up (a clean shutdown), so another replica need not wait for it to expire."""
        try:
            await self._es.delete(index=self._alias, id=lease.name, if_seq_no=lease.seq_no,
                                  if_primary_term=lease.primary_term)
        except (ConflictError, NotFoundError):
            pass  # renewed by someone else or gone: nothing of ours to release

    async def holder_of(self, name: str) -> str | None:
        """Who holds `name` now (None when nobody does or it expired): for GET /api/sources and tests."""
        try:
            doc = (await self._es.get(index=self._alias, id=name))["_source"]
        except NotFoundError:
            return None
        return str(doc["holder"]) if datetime.fromisoformat(doc["expires_at"]) > self._clock() else None
