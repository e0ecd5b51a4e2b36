"""Zalo Official Account webhooks: signature check, replay window, and the typed events intake accepts.

The signature, as Zalo documents it (see docs/zalo-oa.md §1): `X-ZEvent-Signature: mac=<hex>` where hex is
plain SHA-256 (not HMAC) of `app_id + raw body + timestamp + OA secret key`, app_id and timestamp taken from
the JSON body. The MAC binds the timestamp but carries no nonce, so a captured delivery can be replayed:
old timestamps are refused, and what is inside the window is deduplicated on `msg_id` by the journal.
Zalo retries a failed delivery with its original body for ~1 h 51 min, so the window must be longer than
that (default 2 h 15 min, ZALO_REPLAY_WINDOW) or genuine retries would be lost. (issue 17)
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from intake.errors import InvalidSignature, InvalidWebhook

MESSAGE_EVENTS: Final = frozenset({"user_send_text", "user_send_image", "user_send_audio", "user_send_location"})
FOLLOW_EVENTS: Final = frozenset({"follow", "unfollow"})
FUTURE_SKEW: Final = timedelta(minutes=5)
"""A timestamp this far ahead of our clock is not clock drift; refuse it like a stale one."""
PARTY_PREFIX: Final = "zalo:"
"""Tickets and journal entries name a Zalo user `zalo:<OA-scoped user id>` where a call names a phone number."""


class StaleEvent(InvalidSignature):
    """A correctly signed event whose timestamp is outside the replay window (403)."""


def party_of(user_id: str) -> str:
    """The ticket `caller` of a Zalo user."""
    return PARTY_PREFIX + user_id


def zalo_user_of(party: str | None) -> str | None:
    """The Zalo user id behind a ticket's `caller`, or None for a phone number."""
    return party[len(PARTY_PREFIX):] if party and party.startswith(PARTY_PREFIX) else None


def compute_mac(raw: bytes, app_id: str, timestamp: str, secret: str) -> str:
    """Hex SHA-256 of app_id + raw body + timestamp + OA secret key (what Zalo puts after `mac=`)."""
    return hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret.encode()).hexdigest()


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidWebhook("the Zalo event is not JSON") from err
    if not isinstance(body, dict) or not isinstance(body.get("app_id"), (str, int)) \
            or not isinstance(body.get("timestamp"), (str, int)):
        raise InvalidWebhook("the Zalo event has no app_id or timestamp")
    return body


def event_time(body: dict[str, Any]) -> datetime:
    """The event's `timestamp` (a string of epoch milliseconds) as a UTC datetime."""
    raw = str(body.get("timestamp", ""))
    if not raw.isdigit():
        raise InvalidWebhook("timestamp must be epoch milliseconds")
    return datetime.fromtimestamp(int(raw) / 1000, timezone.utc)


def verify_webhook(raw: bytes, header: str | None, *, app_id: str, oa_id: str, secret: str, now: datetime,
                   window: timedelta) -> dict[str, Any]:
    """The parsed body of a genuine, fresh event; InvalidSignature, StaleEvent or InvalidWebhook otherwise."""
    if not secret or not app_id:
        raise InvalidSignature("Zalo webhooks are not configured (ZALO_APP_ID, ZALO_OA_SECRET_KEY)")
    offered = (header or "").strip()
    if not offered:
        raise InvalidSignature("missing X-ZEvent-Signature")
    body = _body(raw)
    if offered[:4].lower() == "mac=":
        offered = offered[4:].strip()
    expected = compute_mac(raw, str(body["app_id"]), str(body["timestamp"]), secret)
    # compare_digest on ASCII str is constant-time; a non-ASCII header is simply wrong.
    if not offered.isascii() or not hmac.compare_digest(offered.lower(), expected):
        raise InvalidSignature("invalid Zalo signature")
    if str(body["app_id"]) != app_id:
        raise InvalidSignature("the event is for another Zalo app")
    name, recipient = str(body.get("event_name", "")), body.get("recipient")
    # Users' events name the OA as recipient, follows as oa_id; the OA's own receipts reverse the roles.
    oa = body.get("oa_id") if name in FOLLOW_EVENTS else (
        recipient.get("id") if name.startswith("user_") and isinstance(recipient, dict) else None)
    if oa_id and oa is not None and str(oa) != oa_id:
        raise InvalidSignature("the event is for another Official Account")
    at = event_time(body)
    if at < now - window or at > now + FUTURE_SKEW:
        raise StaleEvent(f"event timestamp outside the {int(window.total_seconds())} s replay window")
    return body


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    """One accepted webhook event, reduced to what intake uses."""

    event_name: str
    user_id: str
    key: str
    """The deduplication key: `message.msg_id` for messages, (event, follower, timestamp) for follows."""
    received_at: datetime
    msg_id: str | None = None
    text: str = ""
    image_url: str | None = None
    audio_url: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    user_id_by_app: str | None = None

    @property
    def is_message(self) -> bool:
        """A user's message (becomes or joins a ticket)."""
        return self.event_name in MESSAGE_EVENTS

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ZaloEvent | None:
        """The event, or None for one intake does not handle (receipts, stickers, the OA's own echoes)."""
        name = str(body.get("event_name", ""))
        at = event_time(body)
        by_app = str(body["user_id_by_app"]) if body.get("user_id_by_app") else None
        if name in FOLLOW_EVENTS:
            user = _id(body.get("follower"), "follower.id")
            return cls(name, user, f"zalo:{name}:{user}:{body['timestamp']}", at, user_id_by_app=by_app)
        if name not in MESSAGE_EVENTS:
            return None
        user = _id(body.get("sender"), "sender.id")
        message = body.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("msg_id"), str) or not message["msg_id"]:
            raise InvalidWebhook("message.msg_id is missing")
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        fields: dict[str, str | None] = {}
        for attachment in message.get("attachments") or ():
            if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
                continue
            payload = attachment["payload"]
            kind = attachment.get("type")
            if kind == "image" and isinstance(payload.get("url"), str):
                fields.setdefault("image_url", payload["url"])
            elif kind in ("audio", "voice") and isinstance(payload.get("url"), str):
                fields.setdefault("audio_url", payload["url"])
            elif kind == "location" and isinstance(payload.get("coordinates"), dict):
                coords = payload["coordinates"]
                fields.setdefault("latitude", _coordinate(coords.get("latitude"), 90))
                fields.setdefault("longitude", _coordinate(coords.get("longitude"), 180))
        if name == "user_send_location" and fields.get("latitude") is None:
            raise InvalidWebhook("a location event without coordinates")
        return cls(name, user, f"zalo:{message['msg_id']}", at, message["msg_id"], (text or "").strip()[:10_000],
                   user_id_by_app=by_app, **fields)


def _id(holder: Any, what: str) -> str:
    value = holder.get("id") if isinstance(holder, dict) else None
    if not isinstance(value, (str, int)) or not str(value).isdigit():
        raise InvalidWebhook(f"{what} is missing or not a Zalo id")
    return str(value)


def _coordinate(value: Any, limit: int) -> str:
    try:
        number = float(str(value))
    except ValueError as err:
        raise InvalidWebhook("location coordinates must be numbers") from err
    if not -limit <= number <= limit:
        raise InvalidWebhook("location coordinates out of range")
    return str(value)
