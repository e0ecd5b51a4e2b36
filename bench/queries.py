"""Leaders' aggregation queries as pure builders (warehouse-style), benchmarked before they go to dashboards/.

Each `build_*` takes explicit times (never "now" date math, which Elasticsearch would not cache and tests
cannot pin) and returns a search body. `read_spikes` turns the spikes response into ranked rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from intake.records import OPEN_STATUSES

LOCAL_TZ: Final = "+07:00"
"""Days are Vietnamese days: a histogram bucket runs from midnight to midnight in Bình Dương."""


def _since(start: datetime, end: datetime) -> dict[str, Any]:
    return {"range": {"created_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}


def build_daily_by_category(now: datetime, *, days: int = 90) -> dict[str, Any]:
    """Tickets per local day over the last `days` days, split by category."""
    return {"size": 0, "track_total_hits": False,
            "query": {"bool": {"filter": [_since(now - timedelta(days=days), now)]}},
            "aggs": {"day": {"date_histogram": {"field": "created_at", "calendar_interval": "day",
                                                "time_zone": LOCAL_TZ, "min_doc_count": 0},
                             "aggs": {"category": {"terms": {"field": "category", "size": 20}}}}}}


def build_district_counts(now: datetime, *, days: int = 30, open_only: bool = True) -> dict[str, Any]:
    """Tickets per district over the last `days` days (only open ones by default)."""
    filters: list[dict[str, Any]] = [_since(now - timedelta(days=days), now)]
    if open_only:
        filters.append({"terms": {"status": [s.value for s in OPEN_STATUSES]}})
    return {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": filters}},
            "aggs": {"district": {"terms": {"field": "district", "size": 50, "missing": "(unknown)"}}}}


def build_spikes(now: datetime, *, recent_days: int = 3, baseline_days: int = 14) -> dict[str, Any]:
    """Counts per category x district in the last `recent_days` and in the `baseline_days` before them."""
    recent_from = now - timedelta(days=recent_days)
    baseline_from = recent_from - timedelta(days=baseline_days)
    windows = [{"key": "baseline", "from": baseline_from.isoformat(), "to": recent_from.isoformat()},
               {"key": "recent", "from": recent_from.isoformat(), "to": now.isoformat()}]
    return {"size": 0, "track_total_hits": False,
            "query": {"bool": {"filter": [_since(baseline_from, now)]}},
            "aggs": {"category": {"terms": {"field": "category", "size": 20},
                                  "aggs": {"district": {"terms": {"field": "district", "size": 50},
                                                        "aggs": {"window": {"date_range": {
                                                            "field": "created_at", "keyed": True,
                                                            "ranges": windows}}}}}}}}


@dataclass(frozen=True, slots=True)
class Spike:
    """A category x district whose recent daily rate is well above its baseline daily rate."""

    category: str
    district: str
    recent: int
    baseline: int
    ratio: float


def read_spikes(aggregations: Mapping[str, Any], *, recent_days: int = 3, baseline_days: int = 14,
                min_recent: int = 10, min_ratio: float = 2.0) -> list[Spike]:
    """Rank the cells of a `build_spikes` response by recent/baseline daily rate, keeping the notable ones."""
    spikes = []
    for cat in aggregations["category"]["buckets"]:
        for dist in cat["district"]["buckets"]:
            window = dist["window"]["buckets"]
            recent, baseline = int(window["recent"]["doc_count"]), int(window["baseline"]["doc_count"])
            # A cell with no baseline counts as one ticket over the baseline, so a new topic still ranks.
            ratio = (recent / recent_days) / (max(baseline, 1) / baseline_days)
            if recent >= min_recent and ratio >= min_ratio:
                spikes.append(Spike(str(cat["key"]), str(dist["key"]), recent, baseline, round(ratio, 2)))
    return sorted(spikes, key=lambda s: (-s.ratio, -s.recent))
