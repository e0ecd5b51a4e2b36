"""Benchmarks sized by time (issue 16): how a probe's rate sizes the rest, and the webhook app's pool."""
from collections import Counter

from bench.sizing import items_for
from bench.webhooks import MIN_POOL, LoadResult, WrkResult, app_pool_size


def test_items_for_fills_the_time_left_at_the_rate_so_far() -> None:
    # 200 items in 2 s is 100/s: 5 s left fit 500.
    assert items_for(200, 2.0, 5.0, least=100, most=1000) == 500


def test_a_slower_cpu_gets_fewer_items_but_never_fewer_than_the_probe() -> None:
    fast = items_for(200, 1.0, 10.0, least=100, most=10_000)
    slow = items_for(200, 4.0, 10.0, least=100, most=10_000)
    assert slow * 4 == fast == 2000
    assert items_for(200, 100.0, 1.0, least=100, most=10_000) == 100
    assert items_for(200, 2.0, -3.0, least=100, most=10_000) == 100  # overran: the probe size, not negative


def test_the_count_option_stays_an_upper_bound() -> None:
    assert items_for(1000, 0.1, 60.0, least=100, most=2000) == 2000
    assert items_for(10, 1.0, 60.0, least=100, most=50) == 50  # a cap below the probe wins
    assert items_for(10, 0.0, 60.0, least=100, most=300) == 300


def _load(requests_per_path: dict[str, int]) -> LoadResult:
    result = LoadResult(200)
    for path, requests in requests_per_path.items():
        result.per_path[path] = WrkResult(requests, 5.0, Counter(), 0, {1000: requests}, {})
    return result


def test_app_pool_follows_the_floor_at_the_same_level_within_its_bounds() -> None:
    assert app_pool_size(_load({"/twilio/voice": 8_000, "/twilio/sms": 10_000}), 50_000) == 12_500
    assert app_pool_size(_load({"/twilio/voice": 61_798, "/twilio/sms": 61_834}), 50_000) == 50_000
    assert app_pool_size(_load({"/twilio/voice": 10, "/twilio/sms": 12}), 50_000) == MIN_POOL
