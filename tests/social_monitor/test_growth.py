"""A claim's 24-hour growth stays current even when nobody mentions it any more."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from social_monitor.claims import Claim, hour_key
from social_monitor.clustering import with_current_growth
from social_monitor.service import SocialService
from social_monitor.store import SocialStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def _claim(hours_ago: dict[int, int], *, recent: int, before: int) -> Claim:
    hourly = {hour_key(NOW - timedelta(hours=h)): n for h, n in hours_ago.items()}
    return Claim(id="c1", text="Bình Dương phong tỏa toàn tỉnh", first_seen=NOW - timedelta(hours=40),
                 last_seen=NOW - timedelta(hours=30), updated_at=NOW - timedelta(hours=30), mention_count=12,
                 hourly=hourly, mentions_24h=recent, mentions_prev_24h=before, growth_24h=round(recent / max(before, 1), 3))


def test_a_quiet_claim_loses_its_growth() -> None:
    stale = _claim({30: 12}, recent=12, before=0)  # as stored 30 hours ago, when the mentions arrived

    current = with_current_growth(stale, NOW)

    assert current is not None
    assert (current.mentions_24h, current.mentions_prev_24h, current.growth_24h) == (0, 12, 0.0)


def test_an_up_to_date_claim_is_left_alone() -> None:
    assert with_current_growth(_claim({2: 6, 30: 3}, recent=6, before=3), NOW) is None


async def test_refresh_growth_saves_the_new_counts(store: SocialStore) -> None:
    await store.create_claim(_claim({30: 12}, recent=12, before=0))
    await store.refresh()
    service = SocialService(store=store, clock=lambda: NOW)

    changed = await service.refresh_growth()

    claim, _ = await store.get_claim("c1")
    assert changed == 1
    assert (claim.mentions_24h, claim.mentions_prev_24h, claim.growth_24h) == (0, 12, 0.0)
    assert await service.refresh_growth() == 0
