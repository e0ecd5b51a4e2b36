"""Sign-in throttling, with a clock the test moves."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dashboards.throttle import MAX_KEYS, SignInThrottle, ThrottlePolicy


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 8, 20, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_a_user_name_is_locked_after_its_failures_and_free_when_the_window_passes() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(per_user=3, per_address=100, window=timedelta(minutes=15)), clock)
    for _ in range(2):
        throttle.failed("Lan", "10.0.0.1")
        clock.now += timedelta(minutes=1)
    assert throttle.retry_after("lan", "10.0.0.2") is None

    throttle.failed(" LAN ", "10.0.0.3")  # the same name, however it is typed

    assert throttle.retry_after("lan", "10.0.0.4") == timedelta(minutes=13)
    assert throttle.retry_after("hoa", "10.0.0.4") is None
    clock.now += timedelta(minutes=13)
    assert throttle.retry_after("lan", "10.0.0.4") is None


def test_an_address_is_locked_across_user_names_and_a_success_clears_only_the_name() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(per_user=2, per_address=4), clock)
    for name in ("a", "b", "c", "lan"):
        throttle.failed(name, "10.0.0.9")

    assert throttle.retry_after("hoa", "10.0.0.9") is not None
    assert throttle.retry_after("hoa", "10.0.0.8") is None
    throttle.failed("lan", "10.0.0.7")
    assert throttle.retry_after("lan", "10.0.0.7") is not None
    throttle.succeeded("lan")
    assert throttle.retry_after("lan", "10.0.0.7") is None
    assert throttle.retry_after("x", "10.0.0.9") is not None


def test_memory_is_bounded_by_the_oldest_keys_being_forgotten() -> None:
    throttle = SignInThrottle(ThrottlePolicy(per_user=1, per_address=10**9), Clock())
    throttle.failed("first", None)
    for n in range(MAX_KEYS):
        throttle.failed(f"user{n}", None)

    assert throttle.retry_after("first", None) is None
    assert throttle.retry_after(f"user{MAX_KEYS - 1}", None) is not None
