"""Pure builders of the ticket queries (warehouse-style): inputs in, Elasticsearch request bodies out."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from classifier.text import normalise
from intake.places import PlaceIndex
from intake.records import OPEN_STATUSES, normalise_phone, parse_ticket_number, phone_forms

class Sort(StrEnum):
    """Orders the ticket list offers."""

    NEWEST = "newest"
    OLDEST = "oldest"
    URGENCY = "urgency"
    SLA = "sla"
    RELEVANCE = "relevance"
    QUEUE = "queue"


SORTS: Final[dict[Sort, list[Any]]] = {
    Sort.NEWEST: [{"created_at": "desc"}],
    Sort.OLDEST: [{"created_at": "asc"}],
    # Without scripts (not on every cluster): the urgency labels happen to sort alphabetically by urgency.
    Sort.URGENCY: [{"urgency": {"order": "asc", "missing": "_last"}},
                   {"sla_due_at": {"order": "asc", "missing": "_last"}}],
    Sort.SLA: [{"sla_due_at": {"order": "asc", "missing": "_last"}}, {"created_at": "asc"}],
    Sort.RELEVANCE: ["_score", {"created_at": "desc"}],
    # Untaken emergencies score 1 (see build_ticket_search), everything else 0; then by SLA (issue 13).
    Sort.QUEUE: ["_score", {"sla_due_at": {"order": "asc", "missing": "_last"}}, {"created_at": "asc"}],
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
    number: str | None = None
    """An exact visible ticket number (261201-78148): a lookup, not a text search."""
    callers: tuple[str, ...] = ()
    """The stored forms of one phone number (a lookup by phone)."""
    any_word: bool = False
    """Match any word of `q` rather than all of them."""
    place_districts: tuple[str, ...] = ()
    place_wards: tuple[str, ...] = ()
    place_names: tuple[str, ...] = ()
    """Places named in `q` (intake.places.split_query); `q_folded` then holds only the other words."""
    ward: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    unassigned: bool = False
    merged_into: str | None = None
    follow_up_before: datetime | None = None


def query_fields(q: str | None, *, places: PlaceIndex | None, allow_phone: bool, any_word: bool = False
                 ) -> dict[str, Any]:
    """What a typed `q` asks for, as TicketSearch fields: a ticket number, a phone number, or words and places.

    A phone number is read as one only for roles that may see callers' numbers; for others it stays text,
    so a masked number cannot be confirmed by searching for it (issue 13).
    """
    q = (q or "").strip()
    if not q:
        return {}
    number = parse_ticket_number(q)
    if number:
        return {"q": q, "number": number}
    phone = normalise_phone(q) if allow_phone else None
    if phone:
        return {"q": q, "callers": phone_forms(phone)}
    forms = normalise(q)
    found = places.split_query(forms.folded) if places is not None else None
    if found is None or not found.names:
        return {"q": q, "q_folded": forms.folded, "q_segmented": forms.segmented, "any_word": any_word}
    return {"q": q, "q_folded": found.rest, "q_segmented": forms.segmented, "any_word": any_word,
            "place_districts": found.districts, "place_wards": found.wards, "place_names": found.names}


def _text_query(search: TicketSearch) -> list[dict[str, Any]]:
    """All words by default, phrases ranked first; places named in the query match the ticket's place."""
    must: list[dict[str, Any]] = []
    folded = search.q_folded if search.q_folded is not None else search.q or ""
    if folded.strip():
        if search.any_word:
            must.append({"bool": {"should": [
                {"match": {"text_folded": {"query": folded}}},
                {"match": {"text_segmented": {"query": search.q_segmented or folded, "boost": 2}}},
                {"match_phrase": {"text_folded": {"query": folded, "boost": 3}}},
            ], "minimum_should_match": 1}})
        else:
            must.append({"bool": {"must": [{"match": {"text_folded": {"query": folded, "operator": "and"}}}],
                                  "should": [{"match_phrase": {"text_folded": {"query": folded, "boost": 3}}},
                                             {"match": {"text_segmented": {"query": search.q_segmented or folded,
                                                                           "boost": 2}}}]}})
    if search.place_names:
        # The place itself, not its syllables: the located district or ward, or the name written with its
        # diacritics ("đi ăn" folds to "di an" too, so the folded text cannot tell them apart).
        should: list[dict[str, Any]] = [{"match_phrase": {"text": name}} for name in search.place_names]
        if search.place_districts:
            should.append({"terms": {"district": list(search.place_districts)}})
        if search.place_wards:
            should.append({"terms": {"ward": list(search.place_wards)}})
        must.append({"bool": {"should": should, "minimum_should_match": 1}})
    return must


def build_ticket_search(search: TicketSearch) -> dict[str, Any]:
    """The search request body for a ticket list or search."""
    filters: list[dict[str, Any]] = []
    for name in ("status", "category", "urgency", "district", "ward", "channel", "assignee"):
        values = getattr(search, name)
        if values:
            filters.append({"terms": {name: list(values)}})
    if search.caller:
        filters.append({"term": {"caller": search.caller}})
    if search.callers:
        filters.append({"terms": {"caller": list(search.callers)}})
    if search.number:
        filters.append({"term": {"number": search.number}})
    if search.merged_into:
        filters.append({"term": {"merged_into": search.merged_into}})
    if search.follow_up_before:
        filters.append({"range": {"follow_up_at": {"lte": search.follow_up_before.isoformat()}}})
    if search.created_from or search.created_to:
        bounds = {k: v.isoformat() for k, v in (("gte", search.created_from), ("lt", search.created_to)) if v}
        filters.append({"range": {"created_at": bounds}})
    must_not: list[dict[str, Any]] = []
    if search.unassigned:
        must_not.append({"exists": {"field": "assignee"}})
    if search.exclude_ids:
        must_not.append({"ids": {"values": list(search.exclude_ids)}})
    must = _text_query(search) if search.q and not (search.number or search.callers) else []
    query: dict[str, Any] = {"bool": {"filter": filters, "must": must or [{"match_all": {}}]}}
    if must_not:
        query["bool"]["must_not"] = must_not
    sort_by = search.sort
    if search.sort is Sort.QUEUE:
        query = {"bool": {"filter": [query], "should": [{"constant_score": {"boost": 1, "filter": {"bool": {
            "filter": [{"term": {"urgency": "emergency"}},
                       {"terms": {"status": [s.value for s in OPEN_STATUSES]}}],
            "must_not": [{"exists": {"field": "assignee"}}]}}}}]}}
    elif must and search.sort is Sort.NEWEST:
        sort_by = Sort.RELEVANCE
    return {"query": query, "sort": SORTS[sort_by], "from": (search.page - 1) * search.size, "size": search.size,
            "track_total_hits": True, "seq_no_primary_term": True}


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
