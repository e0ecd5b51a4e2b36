"""Sign-in throttling, with a clock the test moves; in memory, and shared by replicas through the real node."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from elasticsearch import AsyncElasticsearch

from dashboards import throttle_index
from dashboards.store import ThrottleStore
from dashboards.throttle import MAX_KEYS, SignInThrottle, ThrottlePolicy
from hotline import indices


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 8, 20, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


async def test_parallel_attempts_are_counted_when_admitted_so_only_the_limit_is_checked() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=5, per_address=30), clock=Clock())

    admitted = [w is None for w in await asyncio.gather(*(throttle.reserve("lan", f"10.0.0.{n}") for n in range(40)))]

    assert admitted.count(True) == 5 and admitted[:5] == [True] * 5


async def test_a_user_name_is_slowed_by_a_doubling_delay_not_locked_for_the_window() -> None:
    clock = Clock()
    policy = ThrottlePolicy(per_user=3, per_address=100, first_delay=timedelta(seconds=2),
                            max_delay=timedelta(seconds=60))
    throttle = SignInThrottle(policy, clock=clock)
    for _ in range(3):
        assert await throttle.reserve(" LAN ", "10.0.0.1") is None  # the same name, however it is typed
    assert await throttle.reserve("lan", "10.0.0.2") == timedelta(seconds=2)
    assert await throttle.reserve("hoa", "10.0.0.2") is None

    delays = []
    for _ in range(6):
        wait = await throttle.retry_after("lan", "10.0.0.3")
        assert wait is not None
        delays.append(wait.total_seconds())
        clock.now += wait
        assert await throttle.reserve("lan", "10.0.0.3") is None
    assert delays == [2, 4, 8, 16, 32, 60]  # doubling, capped: the owner waits a minute, not 15


async def test_refused_attempts_do_not_lengthen_the_delay_and_a_success_clears_the_name() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(per_user=2, per_address=100), clock=clock)
    await throttle.reserve("lan", "10.0.0.1")
    await throttle.reserve("lan", "10.0.0.1")
    for _ in range(50):
        assert await throttle.reserve("lan", "10.0.0.1") is not None
    clock.now += timedelta(seconds=2)
    assert await throttle.reserve("lan", "10.0.0.1") is None
    await throttle.succeeded("lan", "10.0.0.1")
    assert await throttle.reserve("lan", "10.0.0.1") is None


async def test_an_unchecked_attempt_is_given_back() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=1, per_address=100), clock=Clock())
    assert await throttle.reserve("lan", "10.0.0.1") is None
    await throttle.release("lan", "10.0.0.1")
    assert await throttle.reserve("lan", "10.0.0.1") is None


async def test_an_address_is_locked_across_user_names_for_the_window() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(per_user=2, per_address=4), clock=clock)
    for name in ("a", "b", "c", "lan"):
        assert await throttle.reserve(name, "10.0.0.9") is None

    assert await throttle.reserve("hoa", "10.0.0.9") == timedelta(minutes=15)
    assert await throttle.reserve("hoa", "10.0.0.8") is None
    clock.now += timedelta(minutes=15)
    assert await throttle.reserve("x", "10.0.0.9") is None


async def test_memory_is_bounded_by_the_oldest_keys_being_forgotten() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=1, per_address=10**9), clock=Clock())
    await throttle.reserve("first", None)
    for n in range(MAX_KEYS):
        await throttle.reserve(f"user{n}", None)

    assert await throttle.retry_after("first", None) is None
    assert await throttle.retry_after(f"user{MAX_KEYS - 1}", None) is not None


async def _replicas(es: AsyncElasticsearch, prefix: str, policy: ThrottlePolicy,
                    clock: Clock | None = None) -> list[SignInThrottle]:
    """Two replicas' throttles, each with its own client object, over one index (as two processes have)."""
    spec = indices.IndexSpec.from_module(throttle_index)
    await indices.ensure(es, spec, prefix)
    return [SignInThrottle(policy, ThrottleStore(es, spec.alias(prefix)), clock=clock or Clock()) for _ in range(2)]


async def test_parallel_guesses_spread_over_replicas_get_only_the_limit_checked(es: AsyncElasticsearch,
                                                                                unique_prefix: str) -> None:
    a, b = await _replicas(es, unique_prefix, ThrottlePolicy(per_user=5, per_address=100))

    waits = await asyncio.gather(*((a if n % 2 else b).reserve("lan", f"10.0.0.{n}") for n in range(40)))

    assert sum(w is None for w in waits) == 5


async def test_failures_add_up_across_replicas_and_a_success_on_one_clears_both(es: AsyncElasticsearch,
                                                                                  unique_prefix: str) -> None:
    clock = Clock()
    a, b = await _replicas(es, unique_prefix, ThrottlePolicy(per_user=3, per_address=3), clock)
    assert await a.reserve("lan", "10.0.0.1") is None and await b.reserve("lan", "10.0.0.1") is None
    assert await a.reserve(" LAN", "10.0.0.2") is None

    assert await b.reserve("lan", "10.0.0.3") == timedelta(seconds=2)  # three failures, counted on two replicas
    assert await a.reserve("hoa", "10.0.0.1") is None
    assert await b.reserve("khach", "10.0.0.1") == timedelta(minutes=15)  # its third failure was on a
    clock.now += timedelta(seconds=2)
    assert await b.reserve("lan", "10.0.0.3") is None
    await a.succeeded("lan", "10.0.0.3")
    assert await b.retry_after("lan", None) is None
