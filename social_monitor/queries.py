"""Pure builders of the social monitor's queries: inputs in, Elasticsearch request bodies out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

MISINFORMATION_CATEGORY: Final = "misinformation_report"
CANDIDATES_PAGE: Final = 1000
MAX_TERMS: Final = 60_000
"""Band keys per candidates query: Elasticsearch refuses terms queries over 65,536 terms (index.max_terms_count)."""


class ClaimSort(StrEnum):
    """Orders the claim list offers."""

    GROWTH = "growth"
    REACH = "reach"
    RECENT = "recent"


CLAIM_SORTS: Final[dict[ClaimSort, list[Any]]] = {
    ClaimSort.GROWTH: [{"growth_24h": "desc"}, {"mentions_24h": "desc"}, {"last_seen": "desc"}],
    ClaimSort.REACH: [{"reach": "desc"}, {"mention_count": "desc"}],
    ClaimSort.RECENT: [{"last_seen": "desc"}],
}


def _text_query(folded: str, segmented: str) -> dict[str, Any]:
    # Folded text matches what people type without diacritics; segmented words reward the exact wording.
    return {"bool": {"should": [
        {"match": {"text_folded": {"query": folded, "operator": "and"}}},
        {"match": {"text_segmented": {"query": segmented, "boost": 2}}},
        {"match_phrase": {"text_folded": {"query": folded, "boost": 3}}},
    ], "minimum_should_match": 1}}


@dataclass(frozen=True, slots=True)
class PostSearch:
    """What a caller of `GET /api/posts` asked for, already validated and normalised."""

    q_folded: str | None = None
    q_segmented: str | None = None
    source: tuple[str, ...] = ()
    claim_id: str | None = None
    flagged: bool | None = None
    min_score: float | None = None
    duplicates: bool = False
    page: int = 1
    size: int = 20


def build_post_search(search: PostSearch) -> dict[str, Any]:
    """The search request body for the post list."""
    filters: list[dict[str, Any]] = []
    if search.source:
        filters.append({"terms": {"source": list(search.source)}})
    if search.claim_id:
        filters.append({"term": {"claim_id": search.claim_id}})
    if search.min_score is not None:
        filters.append({"range": {"misinformation_score": {"gte": search.min_score}}})
    # Exact copies are listed only when asked for: the first post stands for them, the claim counts them.
    must_not: list[dict[str, Any]] = [] if search.duplicates else [{"exists": {"field": "duplicate_of"}}]
    if search.flagged is True:
        filters.append({"exists": {"field": "flags.kind"}})
    elif search.flagged is False:
        must_not.append({"exists": {"field": "flags.kind"}})
    must = [_text_query(search.q_folded, search.q_segmented or search.q_folded)] if search.q_folded else []
    sort: list[Any] = (["_score"] if must else []) + [{"collected_at": "desc"}]
    return {"query": {"bool": {"filter": filters, "must": must or [{"match_all": {}}], "must_not": must_not}},
            "sort": sort, "from": (search.page - 1) * search.size, "size": search.size, "track_total_hits": True}


@dataclass(frozen=True, slots=True)
class ClaimSearch:
    """What a caller of `GET /api/claims` asked for, already validated and normalised."""

    q_folded: str | None = None
    q_segmented: str | None = None
    state: tuple[str, ...] = ()
    verdict: tuple[str, ...] = ()
    flagged: bool | None = None
    sort: ClaimSort = ClaimSort.GROWTH
    page: int = 1
    size: int = 20


def build_claim_search(search: ClaimSearch) -> dict[str, Any]:
    """The search request body for the claim list (the review queue when filtered by state)."""
    filters: list[dict[str, Any]] = []
    for name in ("state", "verdict"):
        values = getattr(search, name)
        if values:
            filters.append({"terms": {name: list(values)}})
    must_not: list[dict[str, Any]] = []
    if search.flagged is True:
        filters.append({"exists": {"field": "flags.kind"}})
    elif search.flagged is False:
        must_not.append({"exists": {"field": "flags.kind"}})
    must = [_text_query(search.q_folded, search.q_segmented or search.q_folded)] if search.q_folded else []
    return {"query": {"bool": {"filter": filters, "must": must or [{"match_all": {}}], "must_not": must_not}},
            "sort": CLAIM_SORTS[search.sort], "from": (search.page - 1) * search.size, "size": search.size,
            "track_total_hits": True, "_source": {"excludes": ["signatures", "lsh_bands"]}}


def build_candidate_claims(bands: Sequence[str], after: str | None = None) -> dict[str, Any]:
    """Claims sharing at least one LSH band key with the batch: the only ones a post can join.

    One page, in id order; pass the last id of a page as `after` for the next. Every candidate matters (a
    missed one becomes a duplicate claim), so the caller reads pages until one comes back short.
    """
    body: dict[str, Any] = {"query": {"bool": {"filter": [{"terms": {"lsh_bands": list(dict.fromkeys(bands))}}]}},
                            "size": CANDIDATES_PAGE, "sort": [{"id": "asc"}], "seq_no_primary_term": True,
                            "_source": False}  # ids and versions: the store's cache or one mget supplies the rest
    if after is not None:
        body["search_after"] = [after]
    return body


def build_posts_by_hash(hashes: Sequence[str]) -> dict[str, Any]:
    """Posts already indexed with one of these content hashes (exact copies, whatever the source)."""
    unique = list(dict.fromkeys(hashes))
    return {"query": {"bool": {"filter": [{"terms": {"content_hash": unique}}],
                               "must_not": [{"exists": {"field": "duplicate_of"}}]}},
            "size": len(unique), "_source": ["id", "content_hash", "claim_id"],
            "collapse": {"field": "content_hash"}}


def build_all_known_claims(size: int = 10_000) -> dict[str, Any]:
    """The whole registry (hundreds of entries, matched in memory)."""
    return {"query": {"match_all": {}}, "sort": [{"recorded_at": "asc"}], "size": size}


def build_known_claim_list(page: int, size: int) -> dict[str, Any]:
    """A page of the registry, newest first."""
    return {"query": {"match_all": {}}, "sort": [{"recorded_at": "desc"}], "from": (page - 1) * size,
            "size": size, "track_total_hits": True}


def build_claims_like(folded: str, size: int = 200, *, loose: bool = False) -> dict[str, Any]:
    """Existing claims that may repeat a text (verified in Python afterwards).

    A newly registered known claim needs half its words in a claim; `loose` (a search box, a caller's long
    account of a rumour) ranks any claim sharing a word, best first, and leaves the verdict to the caller.
    """
    share = "1" if loose else "50%"
    return {"query": {"match": {"text_folded": {"query": folded, "minimum_should_match": share}}},
            "size": size, "seq_no_primary_term": True}


def build_recent_claims(since: datetime, size: int = 1000) -> dict[str, Any]:
    """Claims mentioned since `since`: the ones whose 24-hour growth can still change."""
    return {"query": {"range": {"last_seen": {"gte": since.isoformat()}}}, "size": size,
            "sort": [{"last_seen": "desc"}]}


def build_misinformation_tickets(since: datetime | None, size: int = 200) -> dict[str, Any]:
    """Hotline tickets of category misinformation_report created after `since`, oldest first (a cursor)."""
    filters: list[dict[str, Any]] = [{"term": {"category": MISINFORMATION_CATEGORY}}]
    if since is not None:
        filters.append({"range": {"created_at": {"gt": since.isoformat()}}})
    return {"query": {"bool": {"filter": filters}}, "sort": [{"created_at": "asc"}, {"id": "asc"}], "size": size,
            "_source": ["id", "text", "created_at"]}


def build_posts_of_claim(claim_id: str) -> dict[str, Any]:
    """Every post of a claim, copies included (scanned: a claim can have thousands)."""
    return {"query": {"bool": {"filter": [{"term": {"claim_id": claim_id}}]}}}


ARRIVAL_ORDER: Final[list[Any]] = [{"collected_at": "asc"}, {"published_at": {"order": "asc", "missing": "_last"}},
                                   {"id": "asc"}]
"""The order posts reached the monitor; `hotline claims rebuild` replays them in it."""


def build_posts_in_order(after: Sequence[Any] | None, size: int) -> dict[str, Any]:
    """One page of every post in arrival order; `after` is the last page's last sort values."""
    body: dict[str, Any] = {"query": {"match_all": {}}, "sort": ARRIVAL_ORDER, "size": size}
    if after is not None:
        body["search_after"] = list(after)
    return body


def build_claim_timeline(claim_id: str, size: int = 200) -> dict[str, Any]:
    """A claim's posts (copies included) in the order they appeared, for the claim page."""
    return {"query": {"bool": {"filter": [{"term": {"claim_id": claim_id}}]}},
            "sort": [{"published_at": {"order": "asc", "missing": "_last"}}, {"collected_at": "asc"}, {"id": "asc"}],
            "size": size, "track_total_hits": True}


def build_claims_of_ticket(ticket_id: str) -> dict[str, Any]:
    """The claim a hotline ticket joined as a mention (one at most)."""
    return {"query": {"bool": {"filter": [{"term": {"ticket_ids": ticket_id}}]}}, "size": 1}


SIMILAR_POST_FIELDS: Final = ("id", "claim_id", "text", "text_folded", "published_at", "collected_at")


def build_similar_posts(folded: str, size: int) -> dict[str, Any]:
    """Grouped posts sharing the most (rare) folded words with `folded`: the member posts a new post is scored
    against (issue 11). BM25 through more_like_this; exact copies are left out (their original stands for them)."""
    return {"query": {"bool": {
        "must": [{"more_like_this": {"fields": ["text_folded"], "like": folded, "min_term_freq": 1,
                                     "min_doc_freq": 1, "max_query_terms": 15, "minimum_should_match": "10%"}}],
        "filter": [{"exists": {"field": "claim_id"}}],
        "must_not": [{"exists": {"field": "duplicate_of"}}]}},
        "size": size, "_source": list(SIMILAR_POST_FIELDS), "track_total_hits": False}
