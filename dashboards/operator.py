"""Operator triage: the live queue and the ticket page. Actions go through the ticket API from the page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import web

from dashboards import labels
from dashboards.claim_answer import find_claim_answer
from dashboards.views import page_context
from intake import keys as intake_keys
from intake.queries import Sort, TicketSearch, build_ticket_search
from intake.records import OPEN_STATUSES, Status

routes = web.RouteTableDef()
QUEUE_SIZE: Final = 100


def _choice(request: web.Request, name: str, allowed: dict[str, str]) -> tuple[str, ...]:
    value = request.query.get(name, "")
    return (value,) if value in allowed else ()


@routes.get("/operator")
@aiohttp_jinja2.template("operator.html")
async def get_operator(request: web.Request) -> dict[str, Any]:
    """Roles: operator, admin. Open tickets, most urgent first, then by SLA due time."""
    status = _choice(request, "status", labels.STATUS) or tuple(s.value for s in OPEN_STATUSES)
    district = request.query.get("district", "").strip()
    search = TicketSearch(status=status, category=_choice(request, "category", labels.CATEGORY),
                          channel=_choice(request, "channel", labels.CHANNEL),
                          district=(district,) if district else (), sort=Sort.URGENCY, size=QUEUE_SIZE)
    page = await request.app[intake_keys.STORE].search(build_ticket_search(search))
    return page_context(request, tickets=page.tickets, total=page.total, labels=labels, filters=request.query,
                        now=datetime.now(timezone.utc))


@routes.get("/operator/tickets/{ticket_id}")
@aiohttp_jinja2.template("ticket.html")
async def get_ticket_page(request: web.Request) -> dict[str, Any]:
    """Roles: operator, admin. One ticket: transcript, recording, classification, history, actions."""
    store = request.app[intake_keys.STORE]
    ticket, version = await store.get(request.match_info["ticket_id"])
    history: list[Any] = []
    if ticket.caller:
        since = ticket.created_at - timedelta(days=90)
        page = await store.search(build_ticket_search(TicketSearch(caller=ticket.caller, created_from=since,
                                                                   exclude_ids=(ticket.id,), size=10)))
        history = page.tickets
    related = []
    if ticket.related:
        related = (await store.search({"query": {"ids": {"values": list(ticket.related[:10])}}, "size": 10})).tickets
    transitions = {s.value: labels.STATUS[s.value] for s in Status}
    return page_context(request, ticket=ticket, version=str(version), caller_history=history, related=related,
                        labels=labels, statuses=transitions, now=datetime.now(timezone.utc),
                        claim_answer=await find_claim_answer(request, ticket))
