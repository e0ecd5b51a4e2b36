"""Pure builders of the leaders' aggregations over the tickets index."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from hotline.kernel.records import LOCAL_TZ_NAME
from intake.queries import TicketSearch, build_ticket_search

SPIKE_RECENT: Final = timedelta(days=3)
SPIKE_BASELINE: Final = timedelta(days=14)
MIN_EXPECTED: Final = 2.0
"""The least number of reports the baseline is taken to predict for a window (the floor on the baseline)."""


def build_trends(search: TicketSearch, *, interval: str = "day", tz: str = LOCAL_TZ_NAME,
                 until: datetime | None = None) -> dict[str, Any]:
    """Hits of the search plus facets, volume by day × category, and district × category counts.

    The histogram spans the whole chosen window (empty days included), so the chart's axis is the window.
    """
    body = build_ticket_search(search)
    end = search.created_to or until
    bounds: dict[str, Any] = {}
    if search.created_from and end and search.created_from < end:
        last = end - timedelta(seconds=1)
        bounds["extended_bounds"] = {"min": search.created_from.isoformat(), "max": last.isoformat()}
    body["aggs"] = {
        "category": {"terms": {"field": "category", "size": 20}},
        "urgency": {"terms": {"field": "urgency", "size": 5}},
        "channel": {"terms": {"field": "channel", "size": 5}},
        "status": {"terms": {"field": "status", "size": 10}},
        "district": {"terms": {"field": "district", "size": 30, "missing": "—"},
                     "aggs": {"category": {"terms": {"field": "category", "size": 20}}}},
        "per_day": {"date_histogram": {"field": "created_at", "calendar_interval": interval, "time_zone": tz,
                                       "min_doc_count": 0, **bounds},
                    "aggs": {"category": {"terms": {"field": "category", "size": 20}}}},
    }
    return body


def spike_windows(now: datetime, chosen_from: datetime | None = None, chosen_to: datetime | None = None
                  ) -> tuple[datetime, datetime, datetime]:
    """(baseline start, recent start, recent end): the chosen window, or the last SPIKE_RECENT, and before it a
    baseline at least SPIKE_BASELINE long and twice the window (issue 13)."""
    end = min(chosen_to or now, now)
    split = chosen_from if chosen_from is not None and chosen_from < end else end - SPIKE_RECENT
    baseline = max(SPIKE_BASELINE, 2 * (end - split))
    return split - baseline, split, end


def build_spikes(search: TicketSearch, start: datetime, split: datetime, end: datetime) -> dict[str, Any]:
    """Category × district counts of the search's tickets in [split, end) and in the baseline [start, split)."""
    body = build_ticket_search(replace(search, created_from=start, created_to=end, size=0, page=1))
    return {"size": 0, "query": body["query"],
            # Nested terms rather than multi_terms, which lives in x-pack and is not on every cluster.
            "aggs": {"category": {"terms": {"field": "category", "size": 20}, "aggs": {
                "district": {"terms": {"field": "district", "size": 50}, "aggs": {
                    "windows": {"range": {"field": "created_at", "ranges": [
                        {"key": "baseline", "from": start.isoformat(), "to": split.isoformat()},
                        {"key": "recent", "from": split.isoformat(), "to": end.isoformat()}]}}}}}}}}


def read_spikes(aggs: dict[str, Any], *, recent: timedelta = SPIKE_RECENT, baseline: timedelta = SPIKE_BASELINE,
                min_recent: int = 5, min_ratio: float = 3.0, floor: float = MIN_EXPECTED) -> list[dict[str, Any]]:
    """Pairs whose count in the recent window is at least `min_ratio` times what the baseline predicts.

    The prediction is the baseline's rate over the recent window's length, but never below `floor` reports:
    a pair with no history is compared with a small usual level, not divided by zero ("gấp 163 lần").
    """
    spikes = []
    pairs = ((c["key"], d) for c in aggs["category"]["buckets"] for d in c["district"]["buckets"])
    for category, bucket in pairs:
        windows = {w["key"]: w["doc_count"] for w in bucket["windows"]["buckets"]}
        now_count, before = windows.get("recent", 0), windows.get("baseline", 0)
        expected = max(before * (recent / baseline), floor)
        ratio = now_count / expected
        if now_count >= min_recent and ratio >= min_ratio:
            spikes.append({"category": category, "district": bucket["key"], "recent": now_count,
                           "baseline": before, "expected": round(expected, 1), "ratio": round(ratio, 1),
                           "new": before == 0})
    return sorted(spikes, key=lambda s: (s["ratio"], s["recent"]), reverse=True)


def build_audit_search(size: int, target_type: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """The audit trail, newest first, optionally of one kind of target and one actor."""
    filters = [{"term": {name: value}} for name, value in (("target_type", target_type), ("actor", actor)) if value]
    return {"query": {"bool": {"filter": filters}}, "sort": [{"at": "desc"}], "size": size}
