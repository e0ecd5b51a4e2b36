"""Pure builders of the leaders' aggregations over the tickets index."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from intake.queries import TicketSearch, build_ticket_search

SPIKE_RECENT: Final = timedelta(days=3)
SPIKE_BASELINE: Final = timedelta(days=14)


def build_trends(search: TicketSearch, *, interval: str = "day", tz: str = "Asia/Ho_Chi_Minh") -> dict[str, Any]:
    """Hits of the search plus facets, volume by day × category, and district × category counts."""
    body = build_ticket_search(search)
    body["aggs"] = {
        "category": {"terms": {"field": "category", "size": 20}},
        "urgency": {"terms": {"field": "urgency", "size": 5}},
        "channel": {"terms": {"field": "channel", "size": 5}},
        "status": {"terms": {"field": "status", "size": 10}},
        "district": {"terms": {"field": "district", "size": 30, "missing": "—"},
                     "aggs": {"category": {"terms": {"field": "category", "size": 20}}}},
        "per_day": {"date_histogram": {"field": "created_at", "calendar_interval": interval, "time_zone": tz,
                                       "min_doc_count": 0},
                    "aggs": {"category": {"terms": {"field": "category", "size": 20}}}},
    }
    return body


def build_spikes(now: datetime, *, recent: timedelta = SPIKE_RECENT, baseline: timedelta = SPIKE_BASELINE) -> dict[str, Any]:
    """Category × district counts in the recent window and in the baseline window before it."""
    start = now - recent - baseline
    return {"size": 0, "query": {"range": {"created_at": {"gte": start.isoformat(), "lt": now.isoformat()}}},
            # Nested terms rather than multi_terms, which lives in x-pack and is not on every cluster.
            "aggs": {"category": {"terms": {"field": "category", "size": 20}, "aggs": {
                "district": {"terms": {"field": "district", "size": 50}, "aggs": {
                    "windows": {"range": {"field": "created_at", "ranges": [
                        {"key": "baseline", "from": start.isoformat(), "to": (now - recent).isoformat()},
                        {"key": "recent", "from": (now - recent).isoformat(), "to": now.isoformat()}]}}}}}}}}


def read_spikes(aggs: dict[str, Any], *, recent: timedelta = SPIKE_RECENT, baseline: timedelta = SPIKE_BASELINE,
                min_recent: int = 5, min_ratio: float = 3.0) -> list[dict[str, Any]]:
    """Pairs whose daily rate in the recent window is at least `min_ratio` times their baseline rate."""
    scale = baseline / recent
    spikes = []
    pairs = ((c["key"], d) for c in aggs["category"]["buckets"] for d in c["district"]["buckets"])
    for category, bucket in pairs:
        windows = {w["key"]: w["doc_count"] for w in bucket["windows"]["buckets"]}
        now_count, before = windows.get("recent", 0), windows.get("baseline", 0)
        # +1 smoothing: a pair never seen before still needs min_recent reports to count as a spike.
        ratio = now_count * scale / (before + 1)
        if now_count >= min_recent and ratio >= min_ratio:
            spikes.append({"category": category, "district": bucket["key"], "recent": now_count,
                           "baseline": before, "ratio": round(ratio, 1)})
    return sorted(spikes, key=lambda s: s["ratio"], reverse=True)


def build_audit_search(size: int, target_type: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """The audit trail, newest first, optionally of one kind of target and one actor."""
    filters = [{"term": {name: value}} for name, value in (("target_type", target_type), ("actor", actor)) if value]
    return {"query": {"bool": {"filter": filters}}, "sort": [{"at": "desc"}], "size": size}
