"""Pure builders of the case queries."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from intake.isolation.records import CaseStatus, Risk

MAX_CASES: Final = 10_000
RISK_ORDER: Final = {Risk.RED: 0, Risk.YELLOW: 1, Risk.GREEN: 2}


def build_active_cases(size: int = MAX_CASES) -> dict[str, Any]:
    """Every case still being followed (the scheduler's round)."""
    return {"query": {"term": {"status": CaseStatus.ACTIVE.value}}, "size": size, "sort": [{"created_at": "asc"}]}


def build_case_of_contact(*, phone: str | None = None, zalo_user_id: str | None = None) -> dict[str, Any]:
    """The newest active case reached at this phone number or Zalo id."""
    should = []
    if phone:
        should.append({"term": {"phone": phone}})
    if zalo_user_id:
        should.append({"term": {"zalo_user_id": zalo_user_id}})
    return {"query": {"bool": {"filter": [{"term": {"status": CaseStatus.ACTIVE.value}}], "should": should,
                               "minimum_should_match": 1}},
            "size": 1, "sort": [{"created_at": "desc"}]}


def build_ward_cases(places: tuple[str, ...] | None, *, include_closed_since: datetime | None = None,
                     size: int = 500) -> dict[str, Any]:
    """Cases of some wards ("district/ward"; None: every ward), active ones and those closed recently."""
    filters: list[dict[str, Any]] = []
    if places is not None:
        filters.append({"terms": {"place": list(places)}})
    status: list[dict[str, Any]] = [{"term": {"status": CaseStatus.ACTIVE.value}}]
    if include_closed_since is not None:
        status.append({"range": {"closed_at": {"gte": include_closed_since.isoformat()}}})
    filters.append({"bool": {"should": status, "minimum_should_match": 1}})
    return {"query": {"bool": {"filter": filters}}, "size": size,
            "sort": [{"created_at": "asc"}]}  # by risk in Python: the labels do not sort by severity


def build_ward_counts(size: int = 200) -> dict[str, Any]:
    """Active cases per ward and risk, for leaders (counts only, no personal data)."""
    return {"query": {"term": {"status": CaseStatus.ACTIVE.value}}, "size": 0,
            "aggs": {"place": {"terms": {"field": "place", "size": size},
                               "aggs": {"risk": {"terms": {"field": "risk", "size": 3}}}}}}


def build_expired(before: datetime, size: int = 1000) -> dict[str, Any]:
    """Closed cases past the retention period (their personal data must go)."""
    return {"query": {"bool": {"filter": [{"range": {"closed_at": {"lt": before.isoformat()}}}],
                               "must_not": [{"term": {"status": CaseStatus.ACTIVE.value}}]}},
            "size": size, "_source": ["id"]}
