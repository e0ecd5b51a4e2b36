"""Leases on the real node: one holder at a time, renewal, takeover after expiry, release."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from elasticsearch import AsyncElasticsearch

from hotline import indices
from social_monitor import leases_index
from social_monitor.leases import LeaseStore

TTL = timedelta(seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


async def _alias(es: AsyncElasticsearch, prefix: str) -> str:
    spec = indices.IndexSpec.from_module(leases_index)
    await indices.ensure(es, spec, prefix)
    return spec.alias(prefix)


async def test_of_replicas_racing_for_one_lease_exactly_one_wins(es: AsyncElasticsearch, unique_prefix: str) -> None:
    alias = await _alias(es, unique_prefix)
    stores = [LeaseStore(es, alias, f"replica-{n}") for n in range(8)]

    for round_ in range(3):  # absent (create), then held (conditional rewrite) twice
        won = await asyncio.gather(*(s.acquire(f"source:baobd-{round_ // 2}", TTL) for s in stores))
        assert sum(lease is not None for lease in won) == 1


async def test_the_holder_renews_and_hands_on_state_others_wait(es: AsyncElasticsearch, unique_prefix: str) -> None:
    alias = await _alias(es, unique_prefix)
    a, b = LeaseStore(es, alias, "a"), LeaseStore(es, alias, "b")

    lease = await a.acquire("source:x", TTL)
    assert lease is not None
    renewed = await a.renew(lease, TTL, {"cursor": "2021-08-20T08:00:00+00:00"})
    assert renewed is not None and await b.acquire("source:x", TTL) is None
    assert await a.renew(lease, TTL) is None  # written since `lease` was read: a stale copy cannot renew
    again = await a.acquire("source:x", TTL)
    assert again is not None and again.state == {"cursor": "2021-08-20T08:00:00+00:00"} and not again.taken_over
    assert await b.holder_of("source:x") == "a"


async def test_an_expired_lease_is_taken_over_with_its_state(es: AsyncElasticsearch, unique_prefix: str) -> None:
    alias = await _alias(es, unique_prefix)
    clock = Clock()
    a, b = LeaseStore(es, alias, "a", clock), LeaseStore(es, alias, "b", clock)
    lease = await a.acquire("source:x", TTL, {"due_at": "later"})
    assert lease is not None

    clock.now += TTL - timedelta(seconds=1)
    assert await b.acquire("source:x", TTL) is None
    clock.now += timedelta(seconds=2)
    taken = await b.acquire("source:x", TTL)

    assert taken is not None and taken.taken_over and taken.state == {"due_at": "later"}
    assert await a.renew(lease, TTL) is None and await a.acquire("source:x", TTL) is None


async def test_a_released_lease_is_free_at_once(es: AsyncElasticsearch, unique_prefix: str) -> None:
    alias = await _alias(es, unique_prefix)
    a, b = LeaseStore(es, alias, "a"), LeaseStore(es, alias, "b")
    lease = await a.acquire("escalation:t1", TTL)
    assert lease is not None and await b.acquire("escalation:t1", TTL) is None

    await a.release(lease)

    assert await b.acquire("escalation:t1", TTL) is not None
