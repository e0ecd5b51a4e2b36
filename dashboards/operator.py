"""Operator triage: the live queue and the ticket page. Actions go through the ticket API from the page."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from hotline.kernel.request import ACTOR
from dashboards import history, keys, labels
from dashboards.claim_answer import find_claim_answer
from dashboards.views import page_context, people_names, ticket_numbers
from intake import keys as intake_keys
from intake.queries import Sort, TicketSearch, build_ticket_search, query_fields
from intake.records import OPEN_STATUSES, Status, Ticket

routes = web.RouteTableDef()
QUEUE_SIZE: Final = 50
CALLER_HISTORY: Final = timedelta(days=90)
REPLY_STATES: Final = {"sms_reply_sending": "Đang gửi (chưa xác nhận)", "sms_reply_sent": "Đã gửi",
                       "sms_reply_failed": "Không gửi được"}
QUEUE_FILTERS: Final = ("q", "status", "category", "channel", "urgency", "district", "ward", "mine", "unassigned")


def _choice(request: web.Request, name: str, allowed: dict[str, str]) -> tuple[str, ...]:
    value = request.query.get(name, "")
    return (value,) if value in allowed else ()


def _page_link(request: web.Request, page: int) -> str:
    query = {k: v for k, v in request.query.items() if k in QUEUE_FILTERS and v}
    return "/operator?" + urlencode({**query, "page": page})


@routes.get("/operator")
@aiohttp_jinja2.template("operator.html")
async def get_operator(request: web.Request) -> dict[str, Any]:
    """Roles: operator, admin. Open tickets: untaken emergencies first, then by SLA due time; paged."""
    places = request.app[intake_keys.PLACES]
    district_typed = request.query.get("district", "").strip()
    district = places.district(district_typed) if district_typed else None
    ward_typed = request.query.get("ward", "").strip()
    ward = places.ward(ward_typed, district) if ward_typed else None
    actor = request[ACTOR]
    try:
        page_no = max(1, min(int(request.query.get("page", "1")), 200))
    except ValueError:
        page_no = 1
    status = _choice(request, "status", labels.STATUS) or tuple(s.value for s in OPEN_STATUSES)
    search = TicketSearch(
        **query_fields(request.query.get("q"), places=places, allow_phone=True),
        status=status, category=_choice(request, "category", labels.CATEGORY),
        channel=_choice(request, "channel", labels.CHANNEL), urgency=_choice(request, "urgency", labels.URGENCY),
        # A name the gazetteer does not know is still used as typed (old tickets, other spellings).
        district=((district or district_typed),) if district_typed else (),
        ward=((ward or ward_typed),) if ward_typed else (),
        assignee=(actor,) if request.query.get("mine") else (),
        unassigned=bool(request.query.get("unassigned")), sort=Sort.QUEUE, page=page_no, size=QUEUE_SIZE)
    store = request.app[intake_keys.STORE]
    page = await store.search(build_ticket_search(search))
    now = datetime.now(timezone.utc)
    due = await store.search(build_ticket_search(TicketSearch(
        status=tuple(s.value for s in OPEN_STATUSES), follow_up_before=now, sort=Sort.OLDEST, size=10)))
    pages = max(1, math.ceil(page.total / QUEUE_SIZE))
    return page_context(
        request, tickets=page.tickets, versions={k: str(v) for k, v in page.versions.items()}, total=page.total,
        labels=labels, filters=request.query, now=now, page_no=page_no, pages=pages,
        first=(page_no - 1) * QUEUE_SIZE + 1 if page.total else 0,
        last=min(page_no * QUEUE_SIZE, page.total), prev_link=_page_link(request, page_no - 1) if page_no > 1 else None,
        next_link=_page_link(request, page_no + 1) if page_no < pages else None,
        due_callbacks=due.tickets, districts=places.districts, district=district,
        wards=places.wards.get(district, ()) if district else sorted({w for ws in places.wards.values() for w in ws}),
        people=await people_names(request))


@routes.get("/operator/tickets/{ticket_id}")
@aiohttp_jinja2.template("ticket.html")
async def get_ticket_page(request: web.Request) -> dict[str, Any]:
    """Roles: operator, admin. One ticket: transcript, recording, classification, history, actions."""
    store = request.app[intake_keys.STORE]
    ticket, version = await store.get(request.match_info["ticket_id"])
    earlier: list[Ticket] = []
    later: list[Ticket] = []
    if ticket.caller:
        page = await store.search(build_ticket_search(TicketSearch(
            caller=ticket.caller, created_from=ticket.created_at - CALLER_HISTORY, exclude_ids=(ticket.id,),
            size=20)))
        earlier = [t for t in page.tickets if t.created_at <= ticket.created_at]
        later = [t for t in page.tickets if t.created_at > ticket.created_at]
    related: list[Ticket] = []
    if ticket.related:
        related = (await store.search({"query": {"ids": {"values": list(ticket.related[:10])}}, "size": 10})).tickets
    merged_here = (await store.search(build_ticket_search(TicketSearch(merged_into=ticket.id, size=50)))).tickets
    users = await request.app[keys.USERS].all()
    people = {u.username: u.display_name for u in users}
    operators = [u for u in users if u.active and u.role == "operator"]
    numbers = await ticket_numbers(store, [i for i in (ticket.merged_into,) if i])
    names = history.Names(people, {**numbers, **{t.id: t.number for t in (*related, *merged_here)}})
    events = [(c, history.describe(c.actor, c.action, c.before, c.after, names)) for c in reversed(ticket.history)]
    replies: dict[str, dict[str, Any]] = {}
    for c in ticket.history:  # one line per message: its text, and the state of its latest event
        if c.action in REPLY_STATES:
            reply = replies.setdefault(str(c.after.get("key")), {"at": c.at, "body": ""})
            reply["state"] = REPLY_STATES[c.action]
            reply["body"] = c.after.get("body") or reply["body"]
    transitions = {s.value: labels.STATUS[s.value] for s in Status}
    now = datetime.now(timezone.utc)
    return page_context(request, ticket=ticket, version=str(version), earlier=earlier, later=later,
                        related=related, merged_here=merged_here, merged_into_number=names.ticket(
                            ticket.merged_into) if ticket.merged_into else None,
                        labels=labels, statuses=transitions, now=now, events=events, operators=operators,
                        people=people, replies=list(replies.values()),
                        follow_up_due=bool(ticket.follow_up_at and ticket.follow_up_at <= now),
                        claim_answer=await find_claim_answer(request, ticket))
