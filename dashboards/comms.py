"""Communications review: claims by growth or reach with mention sparklines, a claim's posts, review, registry,
similar claims, merge and split (issue 11, item 5), and the hotline calls reporting a claim (item 6)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import web

from hotline.kernel.request import ROLE
from classifier.text import redact
from dashboards import history, labels
from dashboards.views import page_context, people_names
from intake import keys as intake_keys
from intake.records import mask_phone
from social_monitor import keys as social_keys
from social_monitor.claims import TRANSITIONS, VERDICT_LABELS, Claim, ReviewState, Verdict, hour_key
from social_monitor.queries import ClaimSearch, ClaimSort, build_claim_search, build_claim_timeline
from social_monitor.records import TICKET_SOURCE, Post

routes = web.RouteTableDef()
SPARK_HOURS: Final = 48
STATE_LABELS: Final = {ReviewState.WATCHING: "Đang theo dõi", ReviewState.FLAGGED: "Cần xem xét",
                       ReviewState.IN_REVIEW: "Đang xác minh", ReviewState.VERDICT_GIVEN: "Đã kết luận",
                       ReviewState.CORRECTION_PUBLISHED: "Đã đăng cải chính", ReviewState.DISMISSED: "Bỏ qua"}
SORT_LABELS: Final = {ClaimSort.GROWTH: "Tăng nhanh", ClaimSort.REACH: "Lan rộng", ClaimSort.RECENT: "Mới nhất"}
ACTION_LABELS: Final = {"review": "Xác minh", "note": "Ghi chú", "flagged": "Gắn cờ", "merge": "Gộp tin đồn",
                        "split": "Tách bài đăng", "rebuild": "Nhóm lại bài đăng",
                        "known_claim_registered": "Ghi vào danh sách tin đã kiểm chứng"}
TICKET_LINK_ROLES: Final = frozenset({"operator", "admin"})
"""Roles that may open /operator/tickets/{id} (hotline/access.py), and so see callers' numbers."""
MEDIA_LABELS: Final = {"video": "Video", "audio": "Âm thanh", "photo": "Ảnh", "image": "Ảnh"}
TIMELINE_SIZE: Final = 200
SIMILAR_SHOWN: Final = 10


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
    wanted = request.query.get("similar", "").strip()[:2000]
    similar = await request.app[social_keys.SERVICE].similar_claims(wanted, SIMILAR_SHOWN) if wanted else []
    return page_context(request, claims=[c for c, _ in claims], total=total, filters=request.query,
                        spark={c.id: sparkline(c, now) for c, _ in claims}, states=STATE_LABELS,
                        verdicts=VERDICT_LABELS, sorts=SORT_LABELS, similar=similar, similar_query=wanted)


@routes.get("/comms/claims/{claim_id}")
@aiohttp_jinja2.template("claim.html")
async def get_claim_page(request: web.Request) -> dict[str, Any]:
    """Roles: comms, admin. One claim: its posts, flags, matched known claim, review actions."""
    store = request.app[social_keys.STORE]
    claim, version = await store.get_claim(request.match_info["claim_id"])
    found, post_total = await store.search_posts(build_claim_timeline(claim.id, TIMELINE_SIZE))
    timeline = sorted(found, key=lambda p: (p.seen_at, p.id))
    posts = [p for p in timeline if p.source != TICKET_SOURCE]
    similar = await request.app[social_keys.SERVICE].similar_claims(claim.text, 5, exclude=(claim.id,))
    names = history.Names(await people_names(request), {})
    events = [(h, history.describe(h.actor, h.action, h.before, h.after, names)) for h in reversed(claim.history)]
    allowed = {claim.state: STATE_LABELS[claim.state],
               **{s: STATE_LABELS[s] for s in STATE_LABELS if s in TRANSITIONS[claim.state]}}
    return page_context(request, claim=claim, version=str(version), posts=posts, post_total=post_total,
                        calls=await _ticket_mentions(request, [p for p in timeline if p.source == TICKET_SOURCE]),
                        ticket_links=request.get(ROLE) in TICKET_LINK_ROLES, similar=similar,
                        spark=sparkline(claim, datetime.now(timezone.utc)), states=STATE_LABELS,
                        next_states=allowed, verdicts=VERDICT_LABELS, actions=ACTION_LABELS, events=events,
                        media_labels=MEDIA_LABELS)


async def _ticket_mentions(request: web.Request, mentions: list[Post]) -> list[dict[str, Any]]:
    """The hotline calls and messages among a claim's mentions, with what the intake store knows of them.

    Numbers are redacted from the text and the caller's number masked for roles that may not see them.
    """
    if not mentions:
        return []
    ids = [p.source_id for p in mentions]
    page = await request.app[intake_keys.STORE].search({"query": {"ids": {"values": ids}}, "size": len(ids)})
    tickets = {t.id: t for t in page.tickets}
    unmasked = request.get(ROLE) in TICKET_LINK_ROLES
    out = []
    for post in mentions:
        ticket = tickets.get(post.source_id)
        caller = ticket.caller if ticket else None
        out.append({"id": post.source_id, "at": ticket.created_at if ticket else post.seen_at,
                    "number": ticket.number if ticket else post.source_id,
                    "channel": labels.CHANNEL.get(ticket.channel.value, "") if ticket else "",
                    "caller": (caller if unmasked else mask_phone(caller)) or "không rõ",
                    "district": ticket.district if ticket else None, "text": redact(post.text)})
    return out
