"""What crosses the intake journal: typed commands, one class per entry kind (cosmicpython's commands.py).

A view builds a command and journals `to_json()` under the command's KIND; the worker reads it back with
`decode`, and the service dispatches on its type through a handlers table, so a renamed field fails under
mypy instead of in the worker at 3 a.m. The JSON keys and KIND strings are those the journal held before the
commands existed (issue 15): entries pending on disk at an upgrade still decode.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

from hotline.kernel.records import jsonable
from intake.journal import JournalEntry


class _Payload:
    """`to_json` for every command: its fields, times in ISO 8601, under their own names."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """The journal payload."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _time(p: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(p["received_at"])


@dataclass(frozen=True, slots=True)
class CallStarted(_Payload):
    """A call reached the hotline (its ticket is `call-<CallSid>`)."""

    KIND: ClassVar[str] = "call"
    call_sid: str
    caller: str | None
    received_at: datetime

    @property
    def key(self) -> str:
        """The journal key: Twilio's retries of the same call are one entry."""
        return f"call:{self.call_sid}"

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> CallStarted:
        """Read the payload back."""
        return cls(p["call_sid"], p.get("caller"), _time(p))


@dataclass(frozen=True, slots=True)
class TranscriptSegment(_Payload):
    """One final utterance of a call's live transcript."""

    KIND: ClassVar[str] = "transcription"
    call_sid: str
    sequence: int
    text: str
    received_at: datetime

    @property
    def key(self) -> str:
        """The journal key."""
        return f"transcript:{self.call_sid}:{self.sequence}"

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> TranscriptSegment:
        """Read the payload back."""
        return cls(p["call_sid"], int(p["sequence"]), p["text"], _time(p))


@dataclass(frozen=True, slots=True)
class RecordingCompleted(_Payload):
    """A recording's status callback; only `completed` ones are fetched and transcribed."""

    KIND: ClassVar[str] = "recording"
    call_sid: str
    recording_sid: str
    recording_url: str
    status: str
    duration_s: int | None
    received_at: datetime

    @property
    def key(self) -> str:
        """The journal key."""
        return f"recording:{self.recording_sid}:{self.status}"

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> RecordingCompleted:
        """Read the payload back."""
        return cls(p["call_sid"], p["recording_sid"], p["recording_url"], p["status"], p.get("duration_s"),
                   _time(p))


@dataclass(frozen=True, slots=True)
class SmsReceived(_Payload):
    """An SMS, with the ticket it joins or opens (decided before the answer, which gives its number)."""

    KIND: ClassVar[str] = "sms"
    message_sid: str
    sender: str
    body: str
    ticket_id: str
    number: str
    received_at: datetime

    @property
    def key(self) -> str:
        """The journal key."""
        return f"sms:{self.message_sid}"

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> SmsReceived:
        """Read the payload back."""
        return cls(p["message_sid"], p["sender"], p["body"], p["ticket_id"], p["number"], _time(p))


@dataclass(frozen=True, slots=True)
class ManualReported(_Payload):
    """A report that came another way (walk-in, phone to an office), entered by an operator."""

    KIND: ClassVar[str] = "manual"
    ticket_id: str
    text: str
    caller: str | None
    district: str | None
    ward: str | None
    actor: str
    received_at: datetime

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> ManualReported:
        """Read the payload back."""
        return cls(p["ticket_id"], p["text"], p.get("caller"), p.get("district"), p.get("ward"), p["actor"],
                   _time(p))


@dataclass(frozen=True, slots=True)
class ReplyRequested(_Payload):
    """An operator's SMS to the caller, sent once under the client's idempotency key."""

    KIND: ClassVar[str] = "reply"
    ticket_id: str
    key: str
    """The client's idempotency key (the JSON name the journal has always used)."""
    body: str
    actor: str

    @property
    def journal_key(self) -> str:
        """The journal key: the same client key on the same ticket is one reply."""
        return f"reply:{self.ticket_id}:{self.key}"

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> ReplyRequested:
        """Read the payload back."""
        return cls(p["ticket_id"], p["key"], p["body"], p["actor"])


@dataclass(frozen=True, slots=True)
class ZaloMessage(_Payload):
    """A message to the Official Account (text, image, audio or location), with the ticket it joins or opens."""

    KIND: ClassVar[str] = "zalo"
    event: str
    msg_id: str
    user_id: str
    user_id_by_app: str | None
    text: str
    image_url: str | None
    audio_url: str | None
    latitude: str | None
    longitude: str | None
    ticket_id: str
    number: str
    received_at: datetime

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> ZaloMessage:
        """Read the payload back."""
        return cls(p["event"], p["msg_id"], p["user_id"], p.get("user_id_by_app"), p.get("text") or "",
                   p.get("image_url"), p.get("audio_url"), p.get("latitude"), p.get("longitude"), p["ticket_id"],
                   p["number"], _time(p))


@dataclass(frozen=True, slots=True)
class ZaloFollow(_Payload):
    """Someone followed or unfollowed the Official Account."""

    KIND: ClassVar[str] = "zalo_follow"
    event: str
    user_id: str
    received_at: datetime

    @classmethod
    def from_json(cls, p: Mapping[str, Any]) -> ZaloFollow:
        """Read the payload back."""
        return cls(p["event"], p["user_id"], _time(p))


Command: TypeAlias = (CallStarted | TranscriptSegment | RecordingCompleted | SmsReceived | ManualReported
                      | ReplyRequested | ZaloMessage | ZaloFollow)
COMMANDS: dict[str, type[Command]] = {c.KIND: c for c in (
    CallStarted, TranscriptSegment, RecordingCompleted, SmsReceived, ManualReported, ReplyRequested, ZaloMessage,
    ZaloFollow)}


def decode(entry: JournalEntry) -> Command:
    """The entry's command; raises ValueError for an unknown kind, KeyError or TypeError for a bad payload."""
    cls = COMMANDS.get(entry.kind)
    if cls is None:
        raise ValueError(f"unknown journal entry kind {entry.kind!r}")
    return cls.from_json(entry.payload)
