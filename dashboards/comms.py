"""Communications review: claims by growth or reach with mention sparklines, a claim's posts, review, registry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import web

from dashboards.views import page_context
from social_monitor import keys as social_keys
from social_monitor.claims import TRANSITIONS, VERDICT_LABELS, Claim, ReviewState, Verdict, hour_key
from social_monitor.queries import ClaimSearch, ClaimSort, PostSearch, build_claim_search, build_post_search

routes = web.RouteTableDef()
SPARK_HOURS: Final = 48
STATE_LABELS: Final = {ReviewState.WATCHING: "Đang theo dõi", ReviewState.FLAGGED: "Cần xem xét",
                       ReviewState.IN_REVIEW: "Đang xác minh", ReviewState.VERDICT_GIVEN: "Đã kết luận",
                       ReviewState.CORRECTION_PUBLISHED: "Đã đăng cải chính", ReviewState.DISMISSED: "Bỏ qua"}
SORT_LABELS: Final = {ClaimSort.GROWTH: "Tăng nhanh", ClaimSort.REACH: "Lan rộng", ClaimSort.RECENT: "Mới nhất"}


def sparkline(claim: Claim, now: datetime, *, width: int = 120, height: int = 24) -> str:
    """SVG polyline points of the claim's mentions per hour over the last 48 hours."""
    counts = [claim.hourly.get(hour_key(now - timedelta(hours=h)), 0) for h in range(SPARK_HOURS - 1, -1, -1)]
    top = max(counts) or 1
    step = width / (SPARK_HOURS - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - c / top * (height - 4):.1f}" for i, c in enumerate(counts))


@routes.get("/comms")
@aiohttp_jinja2.template("comms.html")
async def get_comms(request: web.Request) -> dict[str, Any]:
    """Roles: comms, admin. Claims ordered by growth, reach or recency; filters by state and verdict."""
    sort = request.query.get("sort", ClaimSort.GROWTH.value)
    state = request.query.get("state", "")
    verdict = request.query.get("verdict", "")
    search = ClaimSearch(sort=ClaimSort(sort) if sort in ClaimSort.__members__.values() else ClaimSort.GROWTH,
                         state=(state,) if state in ReviewState.__members__.values() else (),
                         verdict=(verdict,) if verdict in Verdict.__members__.values() else (), size=50)
    claims, total = await request.app[social_keys.STORE].search_claims(build_claim_search(search))
    now = datetime.now(timezone.utc)
    return page_context(request, claims=[c for c, _ in claims], total=total, filters=request.query,
                        spark={c.id: sparkline(c, now) for c, _ in claims}, states=STATE_LABELS,
                        verdicts=VERDICT_LABELS, sorts=SORT_LABELS)


@routes.get("/comms/claims/{claim_id}")
@aiohttp_jinja2.template("claim.html")
async def get_claim_page(request: web.Request) -> dict[str, Any]:
    """Roles: comms, admin. One claim: its posts, flags, matched known claim, review actions."""
    store = request.app[social_keys.STORE]
    claim, version = await store.get_claim(request.match_info["claim_id"])
    posts, post_total = await store.search_posts(build_post_search(PostSearch(claim_id=claim.id, duplicates=True,
                                                                              size=50)))
    allowed = {claim.state: STATE_LABELS[claim.state],
               **{s: STATE_LABELS[s] for s in STATE_LABELS if s in TRANSITIONS[claim.state]}}
    return page_context(request, claim=claim, version=str(version), posts=posts, post_total=post_total,
                        spark=sparkline(claim, datetime.now(timezone.utc)), states=STATE_LABELS,
                        next_states=allowed, verdicts=VERDICT_LABELS)
