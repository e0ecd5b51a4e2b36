"""HTTP handlers of the Zalo OA channel: the webhook (signature and freshness checked by hotline/access.py)
and operators' replies from the ticket page. Like the Twilio webhooks, the webhook only validates, journals
(fsync'd, keyed on `msg_id`, so a retry or a replayed delivery is one ticket) and answers; the worker does
the rest. Zalo wants HTTP 200 within 2 s. (issue 17)
"""
from __future__ import annotations

import json
import logging
from typing import Any, Final

from aiohttp import web

from hotline.kernel.request import ACTOR, json_body
from intake import keys
from intake.errors import InvalidTicket
from intake.journal import TicketRef
from hotline.kernel.records import utcnow
from intake.records import ticket_number
from intake.service import SMS_JOIN_WINDOW, open_ticket_of_sender, zalo_ticket_id
from intake.errors import StoreUnavailable
from intake.zalo import ZaloEvent, party_of

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

LOOKUP_TIMEOUT_S: Final = 0.3
MAX_REPLY: Final = 2000
"""Zalo's limit for one text message."""


async def _journal(request: web.Request, kind: str, key: str, payload: dict[str, Any],
                   ticket: TicketRef | None = None) -> bool:
    appended = await request.app[keys.JOURNAL_WRITER].append(kind, key, payload, utcnow(), ticket=ticket)
    if appended.created:
        request.app[keys.WORKER].notify()
    else:
        log.info("duplicate Zalo delivery ignored")
    return appended.created


@routes.post("/zalo/webhook")
async def post_zalo_webhook(request: web.Request) -> web.Response:
    """Roles: Zalo (signed with the OA secret key, fresh). Messages join the sender's open ticket or open one."""
    event = ZaloEvent.from_json(json.loads(await request.read()))
    if event is None:
        return web.json_response({"status": "ignored"})
    received_at = utcnow()
    if not event.is_message:
        created = await _journal(request, "zalo_follow", event.key, {
            "event": event.event_name, "user_id": event.user_id, "received_at": received_at.isoformat()})
        return web.json_response({"status": "ok" if created else "duplicate"})
    assert event.msg_id is not None
    party = party_of(event.user_id)
    ticket_id = zalo_ticket_id(event.msg_id)
    number = ticket_number(ticket_id, received_at)
    try:
        joined = await open_ticket_of_sender(party, received_at - SMS_JOIN_WINDOW, journal=request.app[keys.JOURNAL],
                                             store=request.app[keys.STORE], timeout_s=LOOKUP_TIMEOUT_S)
    except StoreUnavailable:
        joined = None  # a new ticket now rather than a late answer; nothing is lost
    if joined is not None:
        ticket_id, number = joined
    created = await _journal(request, "zalo", event.key, {
        "event": event.event_name, "msg_id": event.msg_id, "user_id": event.user_id,
        "user_id_by_app": event.user_id_by_app, "text": event.text, "image_url": event.image_url,
        "audio_url": event.audio_url, "latitude": event.latitude, "longitude": event.longitude,
        "ticket_id": ticket_id, "number": number, "received_at": received_at.isoformat()},
        TicketRef(party, ticket_id, number))
    return web.json_response({"status": "ok" if created else "duplicate"})


@routes.post("/api/tickets/{ticket_id}/zalo-reply")
async def post_zalo_reply(request: web.Request) -> web.Response:
    """Roles: operator, admin. Send the citizen of a Zalo ticket a reply through the OA; recorded as a note."""
    body = await json_body(request, InvalidTicket)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY:
        raise InvalidTicket(f"'text' is required, at most {MAX_REPLY} characters")
    ticket = await request.app[keys.SERVICE].reply_zalo(request.match_info["ticket_id"], text.strip(),
                                                        actor=request[ACTOR])
    return web.json_response({"id": ticket.id, "notes": len(ticket.notes)})
