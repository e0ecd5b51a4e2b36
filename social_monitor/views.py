"""HTTP handlers of the social monitor: parse -> call -> respond. Roles are enforced by hotline/access.py."""
from __future__ import annotations

import asyncio
import uuid
from http import HTTPStatus
from typing import Any

from aiohttp import web

from hotline.kernel.request import ACTOR, bool_param, int_param, json_body, list_param
from classifier.text import normalise
from social_monitor import keys
from social_monitor.claims import ClaimPatch, KnownClaim, ReviewState, Verdict
from social_monitor.errors import InvalidClaim, InvalidPost
from social_monitor.queries import (ClaimSearch, ClaimSort, PostSearch, build_claim_search, build_known_claim_list,
                                    build_post_search)
from hotline.kernel.records import utcnow
from social_monitor.records import RawPost

routes = web.RouteTableDef()
CLAIMREVIEW_TYPE = "application/ld+json"


def _list_param(request: web.Request, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    return list_param(request, name, InvalidClaim, allowed)


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    return int_param(request, name, InvalidClaim, default, low, high)


def _bool_param(request: web.Request, name: str) -> bool | None:
    return bool_param(request, name, InvalidClaim)


def _query_forms(request: web.Request) -> tuple[str | None, str | None]:
    q = (request.query.get("q") or "").strip()
    if not q:
        return None, None
    forms = normalise(q)
    return forms.folded, forms.segmented


MAX_RESULT_WINDOW = 10_000
"""Elasticsearch's default index.max_result_window: deeper pages are refused by the cluster."""


def _paging(request: web.Request, *, default_size: int, max_size: int) -> dict[str, int]:
    """`page` and `size`, refused with 400 when they reach past the first 10,000 results."""
    page = _int_param(request, "page", 1, 1, 500)
    size = _int_param(request, "size", default_size, 1, max_size)
    if page * size > MAX_RESULT_WINDOW:
        raise InvalidClaim(f"page × size must stay within the first {MAX_RESULT_WINDOW:,} results; narrow the filters")
    return {"page": page, "size": size}


@routes.get("/api/posts")
async def get_posts(request: web.Request) -> web.Response:
    """Roles: comms, leader, admin. Search posts (`q` accent-insensitive); filter by source, claim, flag, score.

    Exact copies of an earlier post (same content hash) are listed only with `duplicates=true`.
    """
    raw_score = request.query.get("min_score")
    try:
        if raw_score is not None and not raw_score.isascii():
            raise ValueError("non-ASCII digits")
        min_score = float(raw_score) if raw_score is not None else None
    except ValueError as err:
        raise InvalidClaim("'min_score' must be a number from 0 to 1") from err
    if min_score is not None and not 0 <= min_score <= 1:
        raise InvalidClaim("'min_score' must be a number from 0 to 1")
    folded, segmented = _query_forms(request)
    search = PostSearch(q_folded=folded, q_segmented=segmented,
                        source=tuple(v for raw in request.query.getall("source", []) for v in raw.split(",") if v),
                        claim_id=request.query.get("claim_id") or None, flagged=_bool_param(request, "flagged"),
                        min_score=min_score, duplicates=bool(_bool_param(request, "duplicates")),
                        **_paging(request, default_size=20, max_size=200))
    posts, total = await request.app[keys.STORE].search_posts(build_post_search(search))
    return web.json_response({"total": total, "page": search.page, "size": search.size,
                              "posts": [p.as_json() for p in posts]})


@routes.post("/api/posts")
async def post_posts(request: web.Request) -> web.Response:
    """Roles: comms, admin (integrations get a comms API key). A JSON array of posts, journaled then ingested."""
    body = await json_body(request, InvalidPost)
    limit = request.app[keys.CONFIG].max_push_posts
    if not isinstance(body, list) or not 1 <= len(body) <= limit:
        raise InvalidPost(f"expected a JSON array of 1 to {limit} posts")
    posts = []
    for number, item in enumerate(body):
        try:
            posts.append(RawPost.from_json(item, default_source=f"push:{request[ACTOR]}"))
        except InvalidPost as err:
            raise InvalidPost(f"post {number}: {err}") from err
    accepted = await asyncio.to_thread(request.app[keys.JOURNAL].accept, posts, utcnow())
    if accepted:
        request.app[keys.WORKER].notify()
    return web.json_response({"accepted": accepted, "duplicates": len(posts) - accepted},
                             status=HTTPStatus.ACCEPTED)


@routes.get("/api/claims")
async def get_claims(request: web.Request) -> web.Response:
    """Roles: comms, leader, admin. The claims, sorted by growth, reach or recency; filter by state and verdict."""
    sort = request.query.get("sort", ClaimSort.GROWTH.value)
    if sort not in ClaimSort.__members__.values():
        raise InvalidClaim(f"sort must be one of {', '.join(s.value for s in ClaimSort)}")
    folded, segmented = _query_forms(request)
    search = ClaimSearch(q_folded=folded, q_segmented=segmented,
                         state=_list_param(request, "state", tuple(s.value for s in ReviewState)),
                         verdict=_list_param(request, "verdict", tuple(v.value for v in Verdict)),
                         flagged=_bool_param(request, "flagged"), sort=ClaimSort(sort),
                         **_paging(request, default_size=20, max_size=200))
    claims, total = await request.app[keys.STORE].search_claims(build_claim_search(search))
    return web.json_response({"total": total, "page": search.page, "size": search.size,
                              "claims": [{**c.as_json(), "version": str(v)} for c, v in claims]})


@routes.get("/api/claims/{claim_id}")
async def get_claim(request: web.Request) -> web.Response:
    """Roles: comms, leader, admin. One claim with its flags, history and version (for PATCH)."""
    claim, version = await request.app[keys.STORE].get_claim(request.match_info["claim_id"])
    return web.json_response({**claim.as_json(), "version": str(version)}, headers={"ETag": f'"{version}"'})


@routes.patch("/api/claims/{claim_id}")
async def patch_claim(request: web.Request) -> web.Response:
    """Roles: comms, admin. Review: state, verdict, correction, note; send the version you read (409 if stale)."""
    patch = ClaimPatch.from_json(await json_body(request, InvalidClaim))
    claim, version = await request.app[keys.SERVICE].review(request.match_info["claim_id"], patch, request[ACTOR])
    return web.json_response({**claim.as_json(), "version": str(version)}, headers={"ETag": f'"{version}"'})


def _version_field(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        raise InvalidClaim(f"'{name}' is required: send the version you read with GET")
    return value.strip()


def _claim_body(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidClaim("expected a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise InvalidClaim(f"unknown fields: {', '.join(sorted(unknown))}")
    return body


@routes.post("/api/claims/{claim_id}/merge")
async def post_claim_merge(request: web.Request) -> web.Response:
    """Roles: comms, admin. Merge claim `other` into this one; send both versions you read (409 if stale)."""
    body = _claim_body(await json_body(request, InvalidClaim), {"other", "version", "other_version"})
    other = body.get("other")
    if not isinstance(other, str) or not other.strip() or len(other) > 100:
        raise InvalidClaim("'other' must be the id of the claim to merge into this one")
    claim, version = await request.app[keys.SERVICE].merge_claims(
        request.match_info["claim_id"], other.strip(), version=str(_version_field(body, "version", required=True)),
        other_version=_version_field(body, "other_version", required=False), actor=request[ACTOR])
    return web.json_response({**claim.as_json(), "version": str(version)}, headers={"ETag": f'"{version}"'})


MAX_SPLIT = 1000


@routes.post("/api/claims/{claim_id}/split")
async def post_claim_split(request: web.Request) -> web.Response:
    """Roles: comms, admin. Move `post_ids` (and their exact copies) out of this claim into a new claim."""
    body = _claim_body(await json_body(request, InvalidClaim), {"post_ids", "version"})
    ids = body.get("post_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SPLIT or not all(
            isinstance(i, str) and 0 < len(i) <= 100 for i in ids):
        raise InvalidClaim(f"'post_ids' must be a list of 1 to {MAX_SPLIT} post ids of this claim")
    (claim, version), (new, new_version) = await request.app[keys.SERVICE].split_claim(
        request.match_info["claim_id"], ids, version=str(_version_field(body, "version", required=True)),
        actor=request[ACTOR])
    return web.json_response({"claim": {**claim.as_json(), "version": str(version)},
                              "new_claim": {**new.as_json(), "version": str(new_version)}},
                             status=HTTPStatus.CREATED)


@routes.get("/api/similar-claims")
async def get_similar_claims(request: web.Request) -> web.Response:
    """Roles: comms, leader, admin. Claims saying what `q` says, most similar first, with a `similarity` (0-1)."""
    q = (request.query.get("q") or "").strip()
    if not q or len(q) > 5000:
        raise InvalidClaim("'q' must be a text of 1 to 5000 characters")
    limit = _int_param(request, "limit", 10, 1, 50)
    found = await request.app[keys.SERVICE].similar_claims(q, limit)
    return web.json_response({"claims": [s.as_json() for s in found]})


@routes.post("/api/known-claims")
async def post_known_claims(request: web.Request) -> web.Response:
    """Roles: comms, admin. Record a checked claim; existing claims that repeat it are flagged."""
    known = KnownClaim.from_json(await json_body(request, InvalidClaim), id=uuid.uuid4().hex[:20],
                                 actor=request[ACTOR], now=utcnow())
    matched = await request.app[keys.SERVICE].register_known_claim(known)
    return web.json_response({**known.as_json(), "matched_claims": matched}, status=HTTPStatus.CREATED)


@routes.get("/api/known-claims")
async def get_known_claims(request: web.Request) -> web.Response:
    """Roles: comms, admin. The registry, newest first."""
    paging = _paging(request, default_size=50, max_size=500)
    page, size = paging["page"], paging["size"]
    known, total = await request.app[keys.STORE].known_claims(build_known_claim_list(page, size))
    return web.json_response({"total": total, "page": page, "size": size, "known_claims": [k.as_json() for k in known]})


@routes.get("/api/known-claims/claimreview.jsonld")
async def get_claimreview(request: web.Request) -> web.Response:
    """Roles: comms, admin. Every verdict as schema.org ClaimReview JSON-LD (for publishing)."""
    known, _ = await request.app[keys.STORE].known_claims()
    publisher = request.app[keys.CONFIG].claimreview_publisher
    return web.json_response([k.as_claimreview(publisher) for k in known], content_type=CLAIMREVIEW_TYPE)


@routes.get("/api/sources")
async def get_sources(request: web.Request) -> web.Response:
    """Roles: comms, admin. Each source's health, cursor and last error, and the ingest backlog."""
    journal = request.app[keys.JOURNAL]
    statuses, counts, parked = await asyncio.gather(asyncio.to_thread(journal.statuses),
                                                    asyncio.to_thread(journal.counts), asyncio.to_thread(journal.parked))
    return web.json_response({"sources": [s.as_json() for s in statuses], "posts": counts,
                              "parked": [p.as_json() for p in parked]})
