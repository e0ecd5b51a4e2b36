"""The Zalo webhook signature and replay window, as pure functions (docs/zalo-oa.md §1)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from intake.errors import InvalidSignature, InvalidWebhook
from intake.zalo import StaleEvent, ZaloEvent, compute_mac, verify_webhook
from tests.intake.zalo_fake import APP_ID, OA_ID, OA_SECRET, USER, follow_event, location_event, sign, text_event

WINDOW = timedelta(hours=2, minutes=15)


def _verify(raw: bytes, header: str | None, *, now: datetime | None = None) -> dict[str, Any]:
    return verify_webhook(raw, header, app_id=APP_ID, oa_id=OA_ID, secret=OA_SECRET,
                          now=now or datetime.now(timezone.utc), window=WINDOW)


@pytest.mark.parametrize("prefix", [True, False])
def test_a_correct_mac_is_accepted_with_or_without_the_prefix(prefix: bool) -> None:
    raw, headers = sign(text_event("xin chào"), prefix=prefix)
    assert _verify(raw, headers["X-ZEvent-Signature"])["message"]["text"] == "xin chào"


def test_the_mac_is_sha256_of_app_id_body_timestamp_and_secret() -> None:
    raw = b'{"app_id":"1","timestamp":"2"}'
    assert compute_mac(raw, "1", "2", "s") == hashlib.sha256(b'1{"app_id":"1","timestamp":"2"}2s').hexdigest()
    assert compute_mac(raw, "1", "2", "s") != compute_mac(raw, "1", "2", "t")


@pytest.mark.parametrize("tamper", ["secret", "body", "empty", "garbage"])
def test_a_wrong_mac_is_refused(tamper: str) -> None:
    body = text_event("xin chào")
    raw, headers = sign(body, "another-secret" if tamper == "secret" else OA_SECRET)
    header = {"secret": headers["X-ZEvent-Signature"], "body": headers["X-ZEvent-Signature"], "empty": "",
              "garbage": "mac=" + "0" * 64}[tamper]
    if tamper == "body":
        raw = raw.replace("xin chào".encode(), "xin chao".encode())
    with pytest.raises(InvalidSignature):
        _verify(raw, header)


def test_stale_and_future_timestamps_are_refused_but_a_late_retry_is_not() -> None:
    now = datetime.now(timezone.utc)
    retry = sign(text_event("x", offset_s=-(60 * 111)))  # Zalo's last retry: +1 h 51 min
    assert _verify(*[retry[0], retry[1]["X-ZEvent-Signature"]], now=now)
    for offset in (-(WINDOW.total_seconds() + 60), 3600):
        raw, headers = sign(text_event("x", offset_s=offset))
        with pytest.raises(StaleEvent):
            _verify(raw, headers["X-ZEvent-Signature"], now=now)


def test_an_event_for_another_app_or_oa_is_refused_even_if_signed() -> None:
    other_app = text_event("x")
    other_app["app_id"] = "999"
    other_oa = text_event("x")
    other_oa["recipient"] = {"id": "777"}
    for body in (other_app, other_oa):
        raw, headers = sign(body)
        with pytest.raises(InvalidSignature):
            _verify(raw, headers["X-ZEvent-Signature"])
    with pytest.raises(InvalidWebhook):
        _verify(b"not json", "mac=00")


def test_events_are_read_into_typed_records() -> None:
    place = ZaloEvent.from_json(location_event("10.9", "106.7", "Dĩ An"))
    follow = ZaloEvent.from_json(follow_event("unfollow"))
    receipt = ZaloEvent.from_json({"event_name": "user_seen_message", "app_id": APP_ID, "timestamp": "1",
                                   "message": {"msg_ids": ["a"]}})

    assert place is not None and (place.latitude, place.longitude, place.text) == ("10.9", "106.7", "Dĩ An")
    assert follow is not None and follow.user_id == USER and follow.key.startswith("zalo:unfollow:")
    assert receipt is None
    bad = text_event("x")
    del bad["message"]["msg_id"]
    with pytest.raises(InvalidWebhook):
        ZaloEvent.from_json(bad)
