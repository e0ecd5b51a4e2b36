"""Sign-in throttling, with a clock the test moves."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dashboards.throttle import MAX_KEYS, SignInThrottle, ThrottlePolicy


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 8, 20, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_parallel_attempts_are_counted_when_admitted_so_only_the_limit_is_checked() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=5, per_address=30), Clock())

    admitted = [throttle.reserve("lan", f"10.0.0.{n}") is None for n in range(40)]

    assert admitted.count(True) == 5 and admitted[:5] == [True] * 5


def test_a_user_name_is_slowed_by_a_doubling_delay_not_locked_for_the_window() -> None:
    clock = Clock()
    policy = ThrottlePolicy(per_user=3, per_address=100, first_delay=timedelta(seconds=2),
                            max_delay=timedelta(seconds=60))
    throttle = SignInThrottle(policy, clock)
    for _ in range(3):
        assert throttle.reserve(" LAN ", "10.0.0.1") is None  # the same name, however it is typed
    assert throttle.reserve("lan", "10.0.0.2") == timedelta(seconds=2)
    assert throttle.reserve("hoa", "10.0.0.2") is None

    delays = []
    for _ in range(6):
        wait = throttle.retry_after("lan", "10.0.0.3")
        assert wait is not None
        delays.append(wait.total_seconds())
        clock.now += wait
        assert throttle.reserve("lan", "10.0.0.3") is None
    assert delays == [2, 4, 8, 16, 32, 60]  # doubling, capped: the owner waits a minute, not 15


def test_refused_attempts_do_not_lengthen_the_delay_and_a_success_clears_the_name() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(per_user=2, per_address=100), clock)
    throttle.reserve("lan", "10.0.0.1")
    throttle.reserve("lan", "10.0.0.1")
    for _ in range(50):
        assert throttle.reserve("lan", "10.0.0.1") is not None
    clock.now += timedelta(seconds=2)
    assert throttle.reserve("lan", "10.0.0.1") is None
    throttle.succeeded("lan", "10.0.0.1")
    assert throttle.reserve("lan", "10.0.0.1") is None


def test_an_unchecked_attempt_is_given_back() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=1, per_address=100), Clock())
    assert throttle.reserve("lan", "10.0.0.1") is None
    throttle.release("lan", "10.0.0.1")
    assert throttle.reserve("lan", "10.0.0.1") is None


def test_an_address_is_locked_across_user_names_for_the_window() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(per_user=2, per_address=4), clock)
    for name in ("a", "b", "c", "lan"):
        assert throttle.reserve(name, "10.0.0.9") is None

    assert throttle.reserve("hoa", "10.0.0.9") == timedelta(minutes=15)
    assert throttle.reserve("hoa", "10.0.0.8") is None
    clock.now += timedelta(minutes=15)
    assert throttle.reserve("x", "10.0.0.9") is None


def test_memory_is_bounded_by_the_oldest_keys_being_forgotten() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=1, per_address=10**9), Clock())
    throttle.reserve("first", None)
    for n in range(MAX_KEYS):
        throttle.reserve(f"user{n}", None)

    assert throttle.retry_after("first", None) is None
    assert throttle.retry_after(f"user{MAX_KEYS - 1}", None) is not None
