"""HTTP handlers of intake: Twilio webhooks (signature checked by hotline/access.py) and the ticket API.

Webhooks only validate, journal (fsync'd) and answer TwiML; everything slow happens in the journal worker.
"""
from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime
from http import HTTPStatus
from typing import Final

from aiohttp import web
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Start, VoiceResponse

from classifier.labels import CATEGORY_LABELS, URGENCY_LABELS
from hotline.kernel.records import utcnow
from hotline.kernel.request import ACTOR, ROLE, date_param, int_param, json_body, list_param
from intake import keys
from intake.commands import Command, ReplyRequested, TranscriptSegment
from intake.errors import InvalidTicket, TicketNotFound
from intake.journal import JournalEntry, TicketRef
from intake.queries import Sort, TicketSearch, build_ticket_search, query_fields
from intake.records import (Channel, InboundMessage, ManualReport, call_from_form, recording_from_form,
                            SmsReply, Status, TicketPatch, TranscriptEvent, MAX_YEAR, MIN_YEAR, in_date_range,
                            is_ticket_id, ticket_number)
from intake.service import call_ticket_id

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

TWIML: Final = "application/xml"
SMS_LOOKUP_TIMEOUT_S: Final = 0.3
MAX_RESULT_WINDOW: Final = 10_000
"""Elasticsearch's default index.max_result_window: deeper pages are refused by the cluster."""
CALLER_NUMBER_ROLES: Final = frozenset({"operator", "admin"})


async def _journal(request: web.Request, command: Command, key: str, *,
                   ticket: TicketRef | None = None) -> JournalEntry:
    """Write durably, wake the worker, and return the stored entry (the first one, for a duplicate)."""
    appended = await request.app[keys.JOURNAL_WRITER].append(command.KIND, key, command.to_json(), utcnow(),
                                                             ticket=ticket)
    if appended.created:
        request.app[keys.WORKER].notify()
    else:
        log.info("duplicate delivery %s ignored", key.split(":", 1)[0])
    return appended.entry


async def _form(request: web.Request) -> dict[str, str]:
    """The webhook's text fields (files, which Twilio never sends here, are ignored)."""
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


def _twiml(body: str) -> web.Response:
    return web.Response(text=body, content_type=TWIML, charset="utf-8")


@routes.post("/twilio/voice")
async def post_voice(request: web.Request) -> web.Response:
    """Roles: Twilio (signed). A call arrives: journal it, greet, transcribe live and record."""
    call = call_from_form(await _form(request), utcnow())
    ticket_id = call_ticket_id(call.call_sid)
    await _journal(request, call, call.key,
                   ticket=TicketRef(call.caller, ticket_id, ticket_number(ticket_id, call.received_at))
                   if call.caller else None)
    return _twiml(_voice_twiml(request.app[keys.INTAKE_SETTINGS]))


@functools.lru_cache(maxsize=4)
def _voice_twiml(cfg: keys.IntakeConfig) -> str:
    """The greeting TwiML depends only on the settings: built once, not per call (issue 7)."""
    response = VoiceResponse()
    start = Start()
    start.transcription(status_callback_url=cfg.public_base_url + "/twilio/transcription", language_code="vi-VN",
                        partial_results=False, track="inbound_track")
    response.append(start)
    if cfg.greeting_audio_url:
        response.play(cfg.greeting_audio_url)
    else:
        response.say(cfg.greeting_text, language="vi-VN")
    response.record(max_length=cfg.record_max_length_s, play_beep=True, timeout=5,
                    action=cfg.public_base_url + "/twilio/voice/done",
                    recording_status_callback=cfg.public_base_url + "/twilio/recording",
                    recording_status_callback_event="completed")
    return str(response)


@routes.post("/twilio/voice/done")
async def post_voice_done(request: web.Request) -> web.Response:
    """Roles: Twilio (signed). The recording ended: thank the caller and hang up."""
    response = VoiceResponse()
    response.say("Cảm ơn quý vị. Phản ánh đã được ghi nhận, chúng tôi sẽ xử lý sớm nhất.", language="vi-VN")
    response.hangup()
    return _twiml(str(response))


@routes.post("/twilio/transcription")
async def post_transcription(request: web.Request) -> web.Response:
    """Roles: Twilio (signed). A real-time transcription event; final segments are journaled."""
    event = TranscriptEvent.from_form(await _form(request), utcnow())
    if event.final and event.text:
        segment = TranscriptSegment(event.call_sid, event.sequence, event.text, event.received_at)
        await _journal(request, segment, segment.key)
    return web.Response(status=HTTPStatus.NO_CONTENT)


@routes.post("/twilio/recording")
async def post_recording(request: web.Request) -> web.Response:
    """Roles: Twilio (signed). A recording's status; a completed one is fetched and transcribed later."""
    recording = recording_from_form(await _form(request), utcnow())
    await _journal(request, recording, recording.key)
    return web.Response(status=HTTPStatus.NO_CONTENT)


@routes.post("/twilio/sms")
async def post_sms(request: web.Request) -> web.Response:
    """Roles: Twilio (signed). An SMS joins the sender's open ticket of the last 24 h, or opens one."""
    message = InboundMessage.from_form(await _form(request), utcnow())
    sms = await request.app[keys.SERVICE].sms_received(message, journal=request.app[keys.JOURNAL],
                                                       timeout_s=SMS_LOOKUP_TIMEOUT_S)
    stored = await _journal(request, sms, sms.key, ticket=TicketRef(sms.sender, sms.ticket_id, sms.number))
    reply = MessagingResponse()
    if await request.app[keys.SERVICE].is_check_in(sms.sender, sms.body, timeout_s=SMS_LOOKUP_TIMEOUT_S):
        # a home-isolation patient answering the daily check-in: no ticket is opened, so no ticket number
        reply.message("Trạm y tế đã nhận chỉ số sức khỏe của quý vị, cảm ơn. Nếu khó thở, SpO2 dưới 94% "
                      "hoặc đau ngực, xin gọi 115 ngay.")
        return _twiml(str(reply))
    # A repeat of a delivery already moved to Elasticsearch has an emptied payload: its number stays in the
    # journal's own column (it was a KeyError and a 500 to Twilio's retries, issue 14, #8).
    reply.message(f"Đường dây nóng 1022 đã nhận phản ánh của quý vị. "
                  f"Mã phiếu: {stored.payload.get('number') or stored.ticket_number or sms.number}. "
                  "Nếu nguy hiểm đến tính mạng, xin gọi 115.")
    return _twiml(str(reply))


# --- ticket API ------------------------------------------------------------------------------------

def _list_param(request: web.Request, name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    return list_param(request, name, InvalidTicket, allowed)


def _date_param(request: web.Request, name: str) -> datetime | None:
    value = date_param(request, name, InvalidTicket)
    if value is not None and not in_date_range(value):
        raise InvalidTicket(f"'{name}' must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    return int_param(request, name, InvalidTicket, default, low, high)


def _ticket_id(request: web.Request) -> str:
    """The path's ticket id, or 404 before any Elasticsearch call ("..", 8,000 characters: issue 14, #9)."""
    ticket_id = request.match_info["ticket_id"]
    if not is_ticket_id(ticket_id):
        raise TicketNotFound("no such ticket")
    return ticket_id


def _show_caller(request: web.Request) -> bool:
    return request.get(ROLE) in CALLER_NUMBER_ROLES


@routes.get("/api/tickets")
async def get_tickets(request: web.Request) -> web.Response:
    """Roles: operator, leader, admin. Search and filter tickets; `q` is accent-insensitive and also finds a
    visible ticket number or (for operators and admins) a phone number in any format."""
    sort_raw = request.query.get("sort", Sort.NEWEST.value)
    if sort_raw not in Sort.__members__.values():
        raise InvalidTicket(f"sort must be one of {', '.join(s.value for s in Sort)}")
    match = request.query.get("match", "all")
    if match not in ("all", "any"):
        raise InvalidTicket("match must be all or any")
    unassigned = request.query.get("unassigned", "")
    if unassigned not in ("", "true", "false"):
        raise InvalidTicket("unassigned must be true or false")
    places = request.app[keys.PLACES]
    search = TicketSearch(
        **query_fields(request.query.get("q"), places=places, allow_phone=_show_caller(request),
                       any_word=match == "any"),
        status=_list_param(request, "status", tuple(s.value for s in Status)),
        category=_list_param(request, "category", CATEGORY_LABELS),
        urgency=_list_param(request, "urgency", URGENCY_LABELS),
        district=tuple(places.district(d) or d for d in _list_param(request, "district")),
        ward=tuple(places.ward(w) or w for w in _list_param(request, "ward")),
        channel=_list_param(request, "channel", tuple(c.value for c in Channel)),
        assignee=_list_param(request, "assignee"), unassigned=unassigned == "true",
        created_from=_date_param(request, "from"), created_to=_date_param(request, "to"), sort=Sort(sort_raw),
        page=_int_param(request, "page", 1, 1, 500), size=_int_param(request, "size", 20, 1, 200))
    if search.page * search.size > MAX_RESULT_WINDOW:
        raise InvalidTicket(f"page × size must stay within the first {MAX_RESULT_WINDOW:,} results; narrow the filters")
    page = await request.app[keys.STORE].search(build_ticket_search(search))
    show = _show_caller(request)
    return web.json_response({"total": page.total, "page": search.page, "size": search.size,
                              "tickets": [{**t.as_json(show_caller=show), "version": str(page.versions[t.id])}
                                          if t.id in page.versions else t.as_json(show_caller=show)
                                          for t in page.tickets]})


@routes.post("/api/tickets")
async def post_tickets(request: web.Request) -> web.Response:
    """Roles: operator, admin. Record a report that came another way (channel `manual`)."""
    body = await json_body(request, InvalidTicket)
    report = ManualReport.from_json(body)
    ticket = await request.app[keys.SERVICE].create_manual(report, actor=request[ACTOR],
                                                           ticket_id=f"manual-{uuid.uuid4().hex[:16]}")
    return web.json_response(ticket.as_json(show_caller=_show_caller(request)), status=HTTPStatus.CREATED)


@routes.get("/api/tickets/{ticket_id}")
async def get_ticket(request: web.Request) -> web.Response:
    """Roles: operator, leader, admin. One ticket with its version (for PATCH)."""
    ticket, version = await request.app[keys.STORE].get(_ticket_id(request))
    return web.json_response({**ticket.as_json(show_caller=_show_caller(request)), "version": str(version)},
                             headers={"ETag": f'"{version}"'})


@routes.get("/api/tickets/{ticket_id}/recording")
async def get_ticket_recording(request: web.Request) -> web.Response:
    """Roles: operator, admin. The call's recording, fetched from Twilio with the account's credentials."""
    ticket, _ = await request.app[keys.STORE].get(_ticket_id(request))
    messaging = request.app[keys.SERVICE].messaging
    if not ticket.recording_url or messaging is None:
        raise web.HTTPNotFound(text="this ticket has no recording")
    audio = await messaging.download_recording(ticket.recording_url)
    return web.Response(body=audio, content_type="audio/wav", headers={"Cache-Control": "private, max-age=600"})


@routes.patch("/api/tickets/{ticket_id}")
async def patch_ticket(request: web.Request) -> web.Response:
    """Roles: operator, admin. Change status, assignee, category, notes, follow-up; 409 on a concurrent change."""
    body = await json_body(request, InvalidTicket)
    patch = TicketPatch.from_json(body)
    service = request.app[keys.SERVICE]
    ticket = await service.update(_ticket_id(request), patch, actor=request[ACTOR])
    _, version = await request.app[keys.STORE].get(ticket.id)
    log.info("ticket %s updated by %s", ticket.id, request[ACTOR])
    return web.json_response({**ticket.as_json(show_caller=_show_caller(request)), "version": str(version)})




@routes.post("/api/tickets/{ticket_id}/replies")
async def post_ticket_reply(request: web.Request) -> web.Response:
    """Roles: operator, admin. SMS the caller: journaled under the client's key (sent once), then sent by the
    worker with retries; the outcome lands in the ticket's history."""
    body = await json_body(request, InvalidTicket)
    reply = SmsReply.from_json(body)
    ticket, _ = await request.app[keys.STORE].get(request.match_info["ticket_id"])
    if not ticket.caller:
        raise InvalidTicket("Phiếu này không có số điện thoại người gọi để nhắn lại")
    command = ReplyRequested(ticket.id, reply.key, reply.body, request[ACTOR])
    await _journal(request, command, command.journal_key)
    return web.json_response({"ticket_id": ticket.id, "key": reply.key, "status": "queued"},
                             status=HTTPStatus.ACCEPTED)
