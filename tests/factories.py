"""Plain functions that build test inputs: settings, signed Twilio requests, API headers."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from hotline.access import parse_api_keys
from hotline.fetch import FetchPolicy
from hotline.settings import Settings

TWILIO_TOKEN: Final = "test-auth-token-0123456789abcdef"
TWILIO_SID: Final = "AC" + "0" * 32
PUBLIC_URL: Final = "https://1022.example.gov.vn"
KEYS: Final = {"operator": "op-key-0123456789abcdef", "leader": "lead-key-0123456789abcdef",
               "comms": "comms-key-0123456789abcdef", "admin": "admin-key-0123456789abcdef"}


LOCAL_FETCH: Final = FetchPolicy(http_hosts=frozenset({"127.0.0.1"}), private_hosts=("127.0.0.1",))
"""Fetch policy of tests whose fake third-party servers run on 127.0.0.1 (the default refuses loopback)."""
LOCAL_FETCH_SETTINGS: Final = {"fetch_http_hosts": ("127.0.0.1",), "fetch_private_hosts": ("127.0.0.1",)}


def make_settings(base: Settings, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an app under test: Twilio credentials, API keys, a private journal."""
    api_keys = parse_api_keys(",".join(f"{role}-user:{role}:{key}" for role, key in KEYS.items()))
    values: dict[str, Any] = {"data_dir": data_dir, "twilio_auth_token": TWILIO_TOKEN,
                              "twilio_account_sid": TWILIO_SID, "public_base_url": PUBLIC_URL, "api_keys": api_keys,
                              "journal_max_backoff_s": 1.0, "twilio_from_number": "+15005550006"}
    return replace(base, **{**values, **overrides})


def auth(role: str) -> dict[str, str]:
    """The Authorization header of a user with `role`."""
    return {"Authorization": f"Bearer {KEYS[role]}"}


def twilio_signature(path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """What Twilio would send in X-Twilio-Signature for a POST to PUBLIC_URL + path."""
    return str(RequestValidator(token).compute_signature(PUBLIC_URL + path, params))


async def post_signed(client: TestClient, path: str, params: dict[str, str], *, signature: str | None = None) -> Any:
    """POST a form exactly as Twilio would, signed with the real RequestValidator."""
    sig = twilio_signature(path, params) if signature is None else signature
    return await client.post(path, data=params, headers={"X-Twilio-Signature": sig} if sig else {})


def make_call(call_sid: str = "CA" + "1" * 32, caller: str = "+84912345678") -> dict[str, str]:
    """The form of an incoming call webhook."""
    return {"CallSid": call_sid, "AccountSid": TWILIO_SID, "From": caller, "To": "+842743822022",
            "CallStatus": "ringing", "Direction": "inbound"}


def make_transcript(call_sid: str, sequence: int, text: str, *, final: bool = True) -> dict[str, str]:
    """The form of a real-time transcription event."""
    import json
    return {"CallSid": call_sid, "AccountSid": TWILIO_SID, "TranscriptionEvent": "transcription-content",
            "TranscriptionData": json.dumps({"transcript": text, "confidence": 0.9}, ensure_ascii=False),
            "Final": "true" if final else "false", "SequenceId": str(sequence), "Track": "inbound_track",
            "TranscriptionSid": "GT" + "2" * 32, "LanguageCode": "vi-VN"}


def make_sms(message_sid: str, body: str, sender: str = "+84987654321") -> dict[str, str]:
    """The form of an inbound SMS webhook."""
    return {"MessageSid": message_sid, "AccountSid": TWILIO_SID, "From": sender, "To": "+842743822022",
            "Body": body, "NumMedia": "0"}


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestClient]:
    """A started client of `app` for fixtures wider than one test (pytest-aiohttp's `aiohttp_client` is per test).

    Starting an app costs seconds (its indices are created on a shared node): the tests that only get refusals
    (4xx, nothing written) share one app per module.
    """
    async with TestClient(TestServer(app)) as client:
        yield client
