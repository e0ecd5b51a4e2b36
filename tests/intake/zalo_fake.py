"""A local stand-in for Zalo (docs/zalo-oa.md §5): signed webhook events, the OA send API, OAuth refresh.

It behaves as the reference describes: errors are HTTP 200 with a negative `error`; the access token goes
in an `access_token` header; a refresh needs the App secret in a `secret_key` header, rotates the pair,
refuses a reused refresh token and kills the previous access token; `expires_in` is a string.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any, Final

from aiohttp import web

APP_ID: Final = "4321987654321987654"
OA_ID: Final = "1122334455667788990"
OA_SECRET: Final = "oa-secret-key-for-tests-0123456789"
APP_SECRET: Final = "app-secret-for-tests-abcdef"
USER: Final = "8123456789012345678"


def now_ms(offset_s: float = 0) -> str:
    """Zalo's timestamp: a string of epoch milliseconds."""
    return str(int((time.time() + offset_s) * 1000))


def msg_id() -> str:
    """A fresh 20-hex message id, as in every real payload."""
    return secrets.token_hex(10)


def text_event(text: str, *, user: str = USER, mid: str | None = None, offset_s: float = 0) -> dict[str, Any]:
    """A `user_send_text` event."""
    return {"event_name": "user_send_text", "app_id": APP_ID, "sender": {"id": user}, "recipient": {"id": OA_ID},
            "message": {"text": text, "msg_id": mid or msg_id()}, "timestamp": now_ms(offset_s),
            "user_id_by_app": "5550001112223334445"}


def location_event(lat: str, lon: str, place: str, *, user: str = USER) -> dict[str, Any]:
    """A `user_send_location` event (coordinates are strings, as in the logged real payload)."""
    return {"event_name": "user_send_location", "app_id": APP_ID, "sender": {"id": user},
            "recipient": {"id": OA_ID}, "timestamp": now_ms(), "user_id_by_app": "5550001112223334445",
            "message": {"text": place, "msg_id": msg_id(), "attachments": [
                {"type": "location", "payload": {"coordinates": {"latitude": lat, "longitude": lon}}}]}}


def attachment_event(name: str, kind: str, url: str, *, user: str = USER) -> dict[str, Any]:
    """A `user_send_image` or `user_send_audio` event with one attachment."""
    payload = {"url": url, "thumbnail": url} if kind == "image" else {"url": url}
    return {"event_name": name, "app_id": APP_ID, "sender": {"id": user}, "recipient": {"id": OA_ID},
            "timestamp": now_ms(), "user_id_by_app": "5550001112223334445",
            "message": {"msg_id": msg_id(), "attachments": [{"type": kind, "payload": payload}]}}


def follow_event(name: str = "follow", *, user: str = USER) -> dict[str, Any]:
    """A follow/unfollow event: `oa_id` and `follower`, no sender/recipient."""
    return {"event_name": name, "app_id": APP_ID, "oa_id": OA_ID, "follower": {"id": user},
            "source": "oa_profile", "timestamp": now_ms(), "user_id_by_app": "5550001112223334445"}


def sign(body: dict[str, Any], secret: str = OA_SECRET, *, prefix: bool = True) -> tuple[bytes, dict[str, str]]:
    """Compact JSON bytes and the X-ZEvent-Signature Zalo would send with them."""
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    mac = hashlib.sha256(str(body["app_id"]).encode() + raw + str(body["timestamp"]).encode()
                         + secret.encode()).hexdigest()
    return raw, {"X-ZEvent-Signature": ("mac=" if prefix else "") + mac, "Content-Type": "application/json"}


class FakeZalo:
    """The OA API and the OAuth server on one local app; records what it was sent."""

    def __init__(self, access_token: str = "access-0", refresh_token: str = "refresh-0") -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.sent: list[dict[str, Any]] = []
        self.refreshes: list[dict[str, str]] = []
        self.rejected_refreshes = 0
        self.fail_next: list[int] = []
        self.media: dict[str, bytes] = {}
        self.media_fetched: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self.message)
        app.router.add_post("/v4/oa/access_token", self.token)
        app.router.add_get("/media/{name}", self.get_media)
        return app

    def texts_to(self, user: str = USER) -> list[str]:
        """The texts sent to one user, in order."""
        return [m["message"]["text"] for m in self.sent if m["recipient"]["user_id"] == user]

    async def message(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != self.access_token:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        if self.fail_next:
            code = self.fail_next.pop(0)
            return web.json_response({"error": code, "message": "injected"})
        body = await request.json()
        user = (body.get("recipient") or {}).get("user_id")
        text = (body.get("message") or {}).get("text")
        if not isinstance(user, str) or not user.isdigit():
            return web.json_response({"error": -201, "message": "user_id is invalid!"})
        if not isinstance(text, str) or not text or len(text) > 2000:
            return web.json_response({"error": -201, "message": "text is invalid!"})
        self.sent.append(body)
        return web.json_response({"error": 0, "message": "Success", "data": {
            "message_id": secrets.token_hex(10), "user_id": user, "sent_time": now_ms(),
            "quota": {"quota_type": "reply", "remain": "8", "total": "8"}}})

    async def token(self, request: web.Request) -> web.Response:
        if request.headers.get("secret_key") != APP_SECRET:
            return web.json_response({"error": -14014, "error_name": "Invalid secret key"})
        form = {k: str(v) for k, v in (await request.post()).items()}
        if form.get("grant_type") != "refresh_token" or form.get("app_id") != APP_ID \
                or form.get("refresh_token") != self.refresh_token:
            self.rejected_refreshes += 1
            return web.json_response({"error": -14020, "error_name": "Invalid refresh token"})
        self.refreshes.append(form)
        n = len(self.refreshes)
        self.access_token, self.refresh_token = f"access-{n}", f"refresh-{n}"  # the old pair dies
        return web.json_response({"access_token": self.access_token, "refresh_token": self.refresh_token,
                                  "expires_in": "90000"})

    async def get_media(self, request: web.Request) -> web.Response:
        self.media_fetched.append(request.match_info["name"])
        data = self.media.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="audio/wav")
