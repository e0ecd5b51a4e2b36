"""Typed records of the intake domain: tickets, their parts, and the Twilio webhooks that create them."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from classifier.labels import CATEGORY_LABELS
from classifier.text import mask_pii
from hotline.kernel.records import Change, with_change
from intake.commands import CallStarted, RecordingCompleted
from intake.errors import InvalidTicket, InvalidWebhook


class Channel(StrEnum):
    """How the report reached the hotline."""

    CALL = "call"
    SMS = "sms"
    MANUAL = "manual"
    ZALO = "zalo"
    ISOLATION = "isolation"
    """Opened by home-isolation monitoring when a patient worsens (intake/isolation)."""


class Status(StrEnum):
    """Where a ticket is in its life."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    Status.NEW: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.ASSIGNED: frozenset({Status.NEW, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.ASSIGNED, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
}
OPEN_STATUSES: Final = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_number(ticket_id: str, created_at: datetime) -> str:
    """A short number a caller can read out: date plus five characters derived from the id."""
    digest = hashlib.sha1(ticket_id.encode()).hexdigest()[:5].upper()
    return f"{created_at:%y%m%d}-{digest}"


TICKET_NUMBER: Final = re.compile(r"^\s*(\d{6})\s*-\s*([0-9a-fA-F]{5})\s*$")
"""A visible ticket number as people read it out or type it: 261201-78148 (case and spaces do not matter)."""
_PHONE_SEPARATORS: Final = re.compile(r"[\s.\-()]")


def parse_ticket_number(text: str) -> str | None:
    """'261201-78b4c ' -> '261201-78B4C' if `text` is a visible ticket number, else None."""
    match = TICKET_NUMBER.match(text)
    return f"{match.group(1)}-{match.group(2).upper()}" if match else None


def normalise_phone(text: str) -> str | None:
    """A Vietnamese phone number in any usual format as +84…; None if `text` is not one.

    0912 345 678, 0912.345.678, +84 912 345 678 and 84912345678 all give +84912345678 (issue 13).
    """
    compact = _PHONE_SEPARATORS.sub("", text.strip())
    if compact.startswith("+84"):
        rest = compact[3:]
    elif compact.startswith("84") and len(compact) in (11, 12):
        rest = compact[2:]
    elif compact.startswith("0") and len(compact) in (10, 11):
        rest = compact[1:]
    else:
        return None
    return f"+84{rest}" if rest.isdigit() and 9 <= len(rest) <= 10 and rest[0] != "0" else None


def phone_forms(e164: str) -> tuple[str, ...]:
    """The forms a number may be stored in: Twilio's +84…, and 0… or 84… typed into a manual report."""
    national = e164.removeprefix("+84")
    return (e164, f"0{national}", f"84{national}")


def mask_phone(phone: str | None) -> str | None:
    """+84912345678 -> +8491****678: enough to recognise a repeat caller, not to call them."""
    if not phone or len(phone) < 7:
        return phone
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]


@dataclass(frozen=True, slots=True)
class Segment:
    """One final utterance of a call transcript."""

    sequence: int
    text: str
    engine: str


@dataclass(frozen=True, slots=True)
class Note:
    """An operator's note."""

    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class Ticket:
    """A hotline ticket as stored in the `tickets` index."""

    id: str
    number: str
    channel: Channel
    created_at: datetime
    updated_at: datetime
    status: Status = Status.NEW
    caller: str | None = None
    text: str = ""
    messages: tuple[str, ...] = ()
    segments: tuple[Segment, ...] = ()
    recording_transcript: str | None = None
    category: str | None = None
    category_score: float | None = None
    category_corrected: bool = False
    urgency: str | None = None
    reasons: tuple[str, ...] = ()
    district: str | None = None
    ward: str | None = None
    assignee: str | None = None
    sla_due_at: datetime | None = None
    follow_up_at: datetime | None = None
    escalated_at: datetime | None = None
    call_sid: str | None = None
    message_sids: tuple[str, ...] = ()
    recording_sid: str | None = None
    recording_url: str | None = None
    notes: tuple[Note, ...] = ()
    history: tuple[Change, ...] = ()
    related: tuple[str, ...] = ()
    merged_into: str | None = None

    def composed_text(self) -> str:
        """The ticket's text: live transcript, else the recording's transcript, plus any messages."""
        spoken = " ".join(s.text for s in sorted(self.segments, key=lambda s: s.sequence))
        parts = [spoken or (self.recording_transcript or ""), *self.messages]
        return "\n".join(p for p in parts if p)

    def with_change(self, actor: str, action: str, at: datetime, **changes: Any) -> Ticket:
        """A copy with `changes` applied and recorded in the history."""
        return with_change(self, actor, action, at, **changes)

    def as_doc(self, *, segmented: str, folded: str) -> dict[str, Any]:
        """The Elasticsearch document; the analysed text forms come from classifier.text.normalise."""
        doc = {name: _jsonable(getattr(self, name)) for name in _names(Ticket)}
        doc["text_segmented"], doc["text_folded"] = segmented, folded
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Ticket:
        """Rebuild a ticket from its stored document."""
        return cls(
            id=doc["id"], number=doc["number"], channel=Channel(doc["channel"]), status=Status(doc["status"]),
            created_at=datetime.fromisoformat(doc["created_at"]), updated_at=datetime.fromisoformat(doc["updated_at"]),
            caller=doc.get("caller"), text=doc.get("text") or "", messages=tuple(doc.get("messages") or ()),
            segments=tuple(Segment(**s) for s in doc.get("segments") or ()),
            recording_transcript=doc.get("recording_transcript"),
            category=doc.get("category"), category_score=doc.get("category_score"),
            category_corrected=bool(doc.get("category_corrected")), urgency=doc.get("urgency"),
            reasons=tuple(doc.get("reasons") or ()), district=doc.get("district"), ward=doc.get("ward"),
            assignee=doc.get("assignee"), sla_due_at=_time(doc.get("sla_due_at")),
            follow_up_at=_time(doc.get("follow_up_at")), escalated_at=_time(doc.get("escalated_at")),
            call_sid=doc.get("call_sid"), message_sids=tuple(doc.get("message_sids") or ()),
            recording_sid=doc.get("recording_sid"), recording_url=doc.get("recording_url"),
            notes=tuple(Note(datetime.fromisoformat(n["at"]), n["author"], n["text"]) for n in doc.get("notes") or ()),
            history=tuple(Change.from_json(h) for h in doc.get("history") or ()),
            related=tuple(doc.get("related") or ()), merged_into=doc.get("merged_into"),
        )

    def as_json(self, *, show_caller: bool = True) -> dict[str, Any]:
        """The API representation; phone and ID numbers, the caller's and those inside the texts, are masked
        unless the viewer may see them (issue 14, #7: numbers in texts reached leaders)."""
        body = {name: _jsonable(getattr(self, name)) for name in _names(Ticket)}
        if not show_caller:
            body["caller"] = mask_phone(self.caller)
            body.update(self.masked_texts())
            body["segments"] = [{**seg, "text": mask_pii(seg["text"])} for seg in body["segments"]]
            body["notes"] = [{**note, "text": mask_pii(note["text"])} for note in body["notes"]]
        return body

    def masked_texts(self) -> dict[str, Any]:
        """The free texts with phone and ID numbers masked (classifier.text.mask_pii)."""
        return {"text": mask_pii(self.text), "messages": [mask_pii(m) for m in self.messages],
                "recording_transcript": mask_pii(self.recording_transcript) if self.recording_transcript else None}


_FIELD_NAMES: Final[dict[type, tuple[str, ...]]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A record class's field names, remembered: `fields()` rebuilds them every call, a tenth of the batched
    worker's time when each ticket document was built (issue 16)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


_PLAIN: Final = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: answered before the isinstance checks below
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (Segment, Note, Change)):
        return {name: _jsonable(getattr(value, name)) for name in _names(type(value))}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _required(form: Mapping[str, str], name: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise InvalidWebhook(f"missing form field {name}")
    return value


TICKET_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""Every ticket id we make ("call-CA…", "sms-SM…", "manual-…"): anything else is no ticket's, and never reaches an
Elasticsearch URL path ("..", "." or 8,000 characters did, issue 14, #9)."""
_SID: Final = re.compile(r"[A-Za-z0-9]{1,64}")
MIN_YEAR, MAX_YEAR = 2000, 2100
"""Dates outside these years are typing errors or attacks (year 9999 overflowed date arithmetic)."""


def is_ticket_id(value: str) -> bool:
    """Whether `value` can be a ticket id."""
    return TICKET_ID.fullmatch(value) is not None


def in_date_range(value: datetime) -> bool:
    """Whether a date is within MIN_YEAR..MAX_YEAR."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def ascii_int(raw: str) -> int | None:
    """A whole number written with ASCII digits only (not "１２" or "١٢", which int() accepts), else None."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _sid(form: Mapping[str, str], name: str) -> str:
    value = _required(form, name)
    if not _SID.fullmatch(value):
        raise InvalidWebhook(f"{name} must be a Twilio SID (letters and digits)")
    return value


def _no_surrogates(value: str, name: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidWebhook(f"{name} holds an unpaired surrogate") from err
    return value


def call_from_form(form: Mapping[str, str], received_at: datetime) -> CallStarted:
    """POST /twilio/voice: a call has reached the hotline; its journal command, from Twilio's form fields."""
    return CallStarted(_sid(form, "CallSid"), form.get("From") or None, received_at)


@dataclass(frozen=True, slots=True)
class TranscriptEvent:
    """POST /twilio/transcription: one real-time transcription event."""

    call_sid: str
    sequence: int
    text: str
    final: bool
    event: str
    received_at: datetime

    @classmethod
    def from_form(cls, form: Mapping[str, str], received_at: datetime) -> TranscriptEvent:
        """Validate the event; `TranscriptionData` is a JSON string holding the transcript."""
        sequence = ascii_int(form.get("SequenceId") or "0")
        if sequence is None:
            raise InvalidWebhook("SequenceId must be a whole number")
        text = ""
        raw = form.get("TranscriptionData")
        if raw:
            try:  # json has no depth limit of its own: deep nesting was a RecursionError (issue 14, #9)
                data = json.loads(raw)
            except (ValueError, RecursionError) as err:
                raise InvalidWebhook("TranscriptionData is not JSON (or nests too deep)") from err
            text = str(data.get("transcript", "")).strip() if isinstance(data, dict) else ""
            text = _no_surrogates(text, "TranscriptionData")
        return cls(_sid(form, "CallSid"), sequence, text, (form.get("Final") or "").lower() == "true",
                   form.get("TranscriptionEvent") or "", received_at)


def recording_from_form(form: Mapping[str, str], received_at: datetime) -> RecordingCompleted:
    """POST /twilio/recording: a recording's status changed; its journal command, from the callback's fields."""
    duration = ascii_int(form.get("RecordingDuration") or "")
    return RecordingCompleted(_sid(form, "CallSid"), _sid(form, "RecordingSid"), _required(form, "RecordingUrl"),
                              _required(form, "RecordingStatus"), duration, received_at)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """POST /twilio/sms: an SMS or WhatsApp message."""

    message_sid: str
    sender: str
    body: str
    received_at: datetime

    @classmethod
    def from_form(cls, form: Mapping[str, str], received_at: datetime) -> InboundMessage:
        """Validate the message; an empty body is allowed (a media-only message still is a report)."""
        return cls(_sid(form, "MessageSid"), _required(form, "From"),
                   _no_surrogates((form.get("Body") or "").strip(), "Body"), received_at)


MAX_TEXT: Final = 10_000


def _optional_str(data: Mapping[str, Any], name: str, *, max_len: int = 200) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidTicket(f"'{name}' must be a string of at most {max_len} characters")
    return value.strip()


@dataclass(frozen=True, slots=True)
class TicketPatch:
    """A validated PATCH /api/tickets/{id} body."""

    version: str | None = None
    status: Status | None = None
    assignee: str | None = None
    category: str | None = None
    note: str | None = None
    follow_up_at: datetime | None = None
    merged_into: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> TicketPatch:
        """Validate the body; unknown fields are an error, so typos do not pass silently."""
        if not isinstance(data, dict):
            raise InvalidTicket("expected a JSON object")
        unknown = set(data) - {"version", "status", "assignee", "category", "note", "follow_up_at", "merged_into"}
        if unknown:
            raise InvalidTicket(f"unknown fields: {', '.join(sorted(unknown))}")
        status = _optional_str(data, "status")
        if status is not None and status not in Status.__members__.values():
            raise InvalidTicket(f"unknown status {status!r}")
        category = _optional_str(data, "category")
        if category is not None and category not in CATEGORY_LABELS:
            raise InvalidTicket(f"unknown category {category!r}")
        follow = _optional_str(data, "follow_up_at")
        try:
            if follow and not follow.isascii():
                raise ValueError("non-ASCII digits")
            follow_at = datetime.fromisoformat(follow) if follow else None
        except ValueError as err:
            raise InvalidTicket("'follow_up_at' must be an ISO 8601 date-time") from err
        if follow_at is not None and follow_at.tzinfo is None:
            raise InvalidTicket("'follow_up_at' must include a time zone, e.g. +07:00")
        if follow_at is not None and not in_date_range(follow_at):
            raise InvalidTicket(f"'follow_up_at' must be between the years {MIN_YEAR} and {MAX_YEAR}")
        merged_into = _optional_str(data, "merged_into") or None
        if merged_into is not None and not is_ticket_id(merged_into):
            raise InvalidTicket("'merged_into' is not a ticket id")
        return cls(version=_optional_str(data, "version"), status=Status(status) if status else None,
                   assignee=_optional_str(data, "assignee"), category=category,
                   note=_optional_str(data, "note", max_len=MAX_TEXT), follow_up_at=follow_at,
                   merged_into=merged_into)


@dataclass(frozen=True, slots=True)
class ManualReport:
    """A validated POST /api/tickets body: a report that reached the hotline another way."""

    text: str
    caller: str | None = None
    district: str | None = None
    ward: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> ManualReport:
        """Validate the body."""
        if not isinstance(data, dict):
            raise InvalidTicket("expected a JSON object")
        unknown = set(data) - {"text", "caller", "district", "ward"}
        if unknown:
            raise InvalidTicket(f"unknown fields: {', '.join(sorted(unknown))}")
        text = _optional_str(data, "text", max_len=MAX_TEXT)
        if not text:
            raise InvalidTicket("'text' is required")
        caller = _optional_str(data, "caller", max_len=32)
        # Stored as Twilio stores callers (+84…), so a lookup by phone and the caller history find it.
        caller = normalise_phone(caller) or caller if caller else None
        return cls(text, caller, _optional_str(data, "district"), _optional_str(data, "ward"))


REPLY_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_SMS: Final = 640


@dataclass(frozen=True, slots=True)
class SmsReply:
    """A validated POST /api/tickets/{id}/replies body: an SMS to the caller, keyed so it is sent once."""

    body: str
    key: str

    @classmethod
    def from_json(cls, data: Any) -> SmsReply:
        """Validate the body; `key` is chosen by the client once per message (a retry sends the same key)."""
        if not isinstance(data, dict):
            raise InvalidTicket("expected a JSON object")
        unknown = set(data) - {"body", "key"}
        if unknown:
            raise InvalidTicket(f"unknown fields: {', '.join(sorted(unknown))}")
        body = _optional_str(data, "body", max_len=MAX_SMS)
        if not body:
            raise InvalidTicket("'body' is required")
        key = _optional_str(data, "key") or ""
        if not REPLY_KEY.match(key):
            raise InvalidTicket("'key' must be 8–64 letters, digits, '-' or '_'")
        return cls(body, key)
