"""Pure builders of the ticket queries (warehouse-style): inputs in, Elasticsearch request bodies out."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from intake.records import OPEN_STATUSES

# Folded text matches what people type without diacritics; the segmented form rewards exact words.
TEXT_FIELDS: Final = ("text_folded", "text_segmented^2", "text^1.5")


class Sort(StrEnum):
    """Orders the ticket list offers."""

    NEWEST = "newest"
    OLDEST = "oldest"
    URGENCY = "urgency"
    SLA = "sla"
    RELEVANCE = "relevance"


SORTS: Final[dict[Sort, list[Any]]] = {
    Sort.NEWEST: [{"created_at": "desc"}],
    Sort.OLDEST: [{"created_at": "asc"}],
    # Without scripts (not on every cluster): the urgency labels happen to sort alphabetically by urgency.
    Sort.URGENCY: [{"urgency": {"order": "asc", "missing": "_last"}},
                   {"sla_due_at": {"order": "asc", "missing": "_last"}}],
    Sort.SLA: [{"sla_due_at": {"order": "asc", "missing": "_last"}}, {"created_at": "asc"}],
    Sort.RELEVANCE: ["_score", {"created_at": "desc"}],
}


@dataclass(frozen=True, slots=True)
class TicketSearch:
    """What a caller of `GET /api/tickets` asked for, already validated."""

    q: str | None = None
    q_folded: str | None = None
    q_segmented: str | None = None
    status: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    urgency: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    caller: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: Sort = Sort.NEWEST
    page: int = 1
    size: int = 20
    exclude_ids: tuple[str, ...] = field(default=())


def build_ticket_search(search: TicketSearch) -> dict[str, Any]:
    """The search request body for a ticket list or search."""
    filters: list[dict[str, Any]] = []
    for name in ("status", "category", "urgency", "district", "channel"):
        values = getattr(search, name)
        if values:
            filters.append({"terms": {name: list(values)}})
    if search.caller:
        filters.append({"term": {"caller": search.caller}})
    if search.created_from or search.created_to:
        bounds = {k: v.isoformat() for k, v in (("gte", search.created_from), ("lt", search.created_to)) if v}
        filters.append({"range": {"created_at": bounds}})
    must: list[dict[str, Any]] = []
    if search.q:
        must.append({"bool": {"should": [
            {"multi_match": {"query": search.q_folded or search.q, "fields": ["text_folded"], "operator": "and"}},
            {"multi_match": {"query": search.q_segmented or search.q, "fields": ["text_segmented"], "boost": 2}},
            {"match_phrase": {"text_folded": {"query": search.q_folded or search.q, "boost": 3}}},
        ], "minimum_should_match": 1}})
    query: dict[str, Any] = {"bool": {"filter": filters, "must": must or [{"match_all": {}}]}}
    if search.exclude_ids:
        query["bool"]["must_not"] = [{"ids": {"values": list(search.exclude_ids)}}]
    sort = SORTS[Sort.RELEVANCE if search.q and search.sort is Sort.NEWEST else search.sort]
    return {"query": query, "sort": sort, "from": (search.page - 1) * search.size, "size": search.size,
            "track_total_hits": True}


def build_open_ticket_of_caller(caller: str, since: datetime) -> dict[str, Any]:
    """The caller's newest open ticket since `since` (an SMS joins it rather than opening another)."""
    return {"query": {"bool": {"filter": [
        {"term": {"caller": caller}}, {"terms": {"status": [s.value for s in OPEN_STATUSES]}},
        {"range": {"created_at": {"gte": since.isoformat()}}}]}},
        "sort": [{"created_at": "desc"}], "size": 1}


def build_related(ticket_id: str, caller: str | None, folded_text: str, since: datetime, size: int = 5) -> dict[str, Any]:
    """Tickets from the same caller, or with near-duplicate text, since `since`."""
    should: list[dict[str, Any]] = []
    if caller:
        should.append({"term": {"caller": {"value": caller, "boost": 2}}})
    if folded_text.strip():
        should.append({"match": {"text_folded": {"query": folded_text, "minimum_should_match": "70%"}}})
    return {"query": {"bool": {"filter": [{"range": {"created_at": {"gte": since.isoformat()}}}],
                               "must_not": [{"ids": {"values": [ticket_id]}}],
                               "should": should, "minimum_should_match": 1}},
            "size": size, "_source": ["id"]}


def build_overdue_emergencies(now: datetime, size: int = 50) -> dict[str, Any]:
    """Emergency tickets nobody has taken whose SLA has run out and that were not escalated yet."""
    return {"query": {"bool": {"filter": [
        {"term": {"urgency": "emergency"}}, {"term": {"status": "new"}},
        {"range": {"sla_due_at": {"lte": now.isoformat()}}}],
        "must_not": [{"exists": {"field": "escalated_at"}}, {"exists": {"field": "assignee"}}]}},
        "size": size, "sort": [{"sla_due_at": "asc"}]}
