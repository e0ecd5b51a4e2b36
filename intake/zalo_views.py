"""HTTP handlers of the Zalo OA channel: the webhook (signature and freshness checked by hotline/access.py)
and operators' replies from the ticket page. Like the Twilio webhooks, the webhook only validates, journals
(fsync'd, keyed on `msg_id`, so a retry or a replayed delivery is one ticket) and answers; the worker does
the rest. Zalo wants HTTP 200 within 2 s. (issue 17)
"""
from __future__ import annotations

import json
import logging
from typing import Final

from aiohttp import web

from hotline.kernel.records import utcnow
from hotline.kernel.request import ACTOR, json_body
from intake import keys
from intake.commands import ZaloFollow, ZaloMessage
from intake.errors import InvalidTicket
from intake.journal import TicketRef
from intake.service import zalo_ticket_id
from intake.zalo import ZaloEvent, party_of

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

LOOKUP_TIMEOUT_S: Final = 0.3
MAX_REPLY: Final = 2000
"""Zalo's limit for one text message."""


async def _journal(request: web.Request, command: ZaloMessage | ZaloFollow, key: str,
                   ticket: TicketRef | None = None) -> bool:
    appended = await request.app[keys.JOURNAL_WRITER].append(command.KIND, key, command.to_json(), utcnow(),
                                                             ticket=ticket)
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
        created = await _journal(request, ZaloFollow(event.event_name, event.user_id, received_at), event.key)
        return web.json_response({"status": "ok" if created else "duplicate"})
    assert event.msg_id is not None
    party = party_of(event.user_id)
    ticket_id, number = await request.app[keys.SERVICE].ticket_to_join(
        party, zalo_ticket_id(event.msg_id), received_at, journal=request.app[keys.JOURNAL], timeout_s=LOOKUP_TIMEOUT_S)
    command = ZaloMessage(event.event_name, event.msg_id, event.user_id, event.user_id_by_app, event.text,
                          event.image_url, event.audio_url, event.latitude, event.longitude, ticket_id, number,
                          received_at)
    created = await _journal(request, command, event.key, TicketRef(party, ticket_id, number))
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
