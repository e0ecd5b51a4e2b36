"""Twilio webhooks against the real app and the real node: signatures, TwiML, tickets, duplicates."""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp.test_utils import TestClient

from hotline.intake_ctx import run_worker
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.errors import TicketNotFound
from intake.records import Ticket
from tests.factories import (PUBLIC_URL, auth, make_call, make_settings, make_sms, make_transcript, post_signed, serve,
                             twilio_signature)

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                           models=models, domains={"intake"}))


@pytest.fixture(scope="module")
async def refusals(settings: Settings, es: Any, module_prefix: str, tmp_path_factory: pytest.TempPathFactory,
                   models: Models) -> AsyncIterator[TestClient]:
    """One app for the refused webhooks (403, 400): none of them is journaled, so the journal
    stays empty for all of them."""
    app = create_app(make_settings(settings, tmp_path_factory.mktemp("refusals"), index_prefix=module_prefix),
                     models=models, domains={"intake"})
    async with serve(app) as client:
        yield client


async def wait_for(client: TestClient, ticket_id: str, until: Callable[[Ticket], bool] = lambda t: True,
                   timeout_s: float = 20.0) -> Ticket:
    """Poll the store until the worker has stored a ticket in the wanted state."""
    store = client.app[intake_keys.STORE]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            ticket, _ = await store.get(ticket_id)
            if until(ticket):
                return ticket
        except TicketNotFound:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"ticket {ticket_id} not in the wanted state after {timeout_s}s")
        await asyncio.sleep(0.1)


def _journal_rows(client: TestClient) -> int:
    path = client.app[intake_keys.JOURNAL]._db.execute("PRAGMA database_list").fetchone()[2]
    return int(sqlite3.connect(path).execute("SELECT COUNT(*) FROM entries").fetchone()[0])


async def test_voice_webhook_answers_twiml_and_opens_a_ticket(client: TestClient) -> None:
    resp = await post_signed(client, "/twilio/voice", make_call("CA" + "a" * 32))

    assert resp.status == 200
    assert resp.content_type == "application/xml"
    xml = ElementTree.fromstring(await resp.text())
    transcription = xml.find("./Start/Transcription")
    assert transcription is not None
    assert transcription.get("languageCode") == "vi-VN"
    assert transcription.get("statusCallbackUrl") == f"{PUBLIC_URL}/twilio/transcription"
    say = xml.find("./Say")
    assert say is not None and say.get("language") == "vi-VN" and "1022" in (say.text or "")
    record = xml.find("./Record")
    assert record is not None and record.get("recordingStatusCallback") == f"{PUBLIC_URL}/twilio/recording"
    assert record.get("action") == f"{PUBLIC_URL}/twilio/voice/done" and int(record.get("maxLength", "0")) > 0
    ticket = await wait_for(client, "call-CA" + "a" * 32)
    assert (ticket.channel, ticket.status, ticket.caller) == ("call", "new", "+84912345678")


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
async def test_unsigned_or_wrongly_signed_webhooks_get_403_and_store_nothing(refusals: TestClient, signature: str) -> None:
    resp = await post_signed(refusals, "/twilio/voice", make_call("CA" + "b" * 32), signature=signature)

    assert resp.status == 403
    assert (await resp.json())["error"] == "forbidden"
    assert _journal_rows(refusals) == 0


async def test_signature_for_another_url_or_changed_params_is_refused(refusals: TestClient) -> None:
    params = make_call("CA" + "c" * 32)
    for_sms = twilio_signature("/twilio/sms", params)
    tampered = {**params, "From": "+84900000000"}

    assert (await post_signed(refusals, "/twilio/voice", params, signature=for_sms)).status == 403
    assert (await post_signed(refusals, "/twilio/voice", tampered, signature=twilio_signature("/twilio/voice", params))).status == 403


async def test_replayed_call_webhook_makes_one_ticket(client: TestClient, es: Any, unique_prefix: str) -> None:
    params = make_call("CA" + "d" * 32)

    statuses = [(await post_signed(client, "/twilio/voice", params)).status for _ in range(3)]

    assert statuses == [200, 200, 200]
    await wait_for(client, "call-CA" + "d" * 32)
    assert _journal_rows(client) == 1
    await es.indices.refresh(index=f"{unique_prefix}tickets")
    assert (await es.count(index=f"{unique_prefix}tickets", query={"term": {"call_sid": "CA" + "d" * 32}}))["count"] == 1


async def test_transcript_segments_are_kept_in_order_once_and_partials_are_ignored(client: TestClient) -> None:
    sid = "CA" + "e" * 32
    await post_signed(client, "/twilio/voice", make_call(sid))
    events = [make_transcript(sid, 3, "cần xe cấp cứu"), make_transcript(sid, 1, "alo mẹ em bị sốt"),
              make_transcript(sid, 2, "tạm thời", final=False), make_transcript(sid, 2, "ở phường Dĩ An"),
              make_transcript(sid, 1, "alo mẹ em bị sốt")]

    for event in events:
        assert (await post_signed(client, "/twilio/transcription", event)).status == 204

    ticket = await wait_for(client, f"call-{sid}", lambda t: len(t.segments) == 3)
    assert ticket.text == "alo mẹ em bị sốt ở phường Dĩ An cần xe cấp cứu"
    assert [s.sequence for s in sorted(ticket.segments, key=lambda s: s.sequence)] == [1, 2, 3]


async def test_emergency_call_gets_15_minute_sla_and_is_found_without_diacritics(client: TestClient) -> None:
    sid = "CA" + "f" * 32
    await post_signed(client, "/twilio/voice", make_call(sid, caller="+84911111111"))
    await post_signed(client, "/twilio/transcription",
                      make_transcript(sid, 1, "alo bà ngoại em khó thở SpO2 88 cần xe cấp cứu gấp"))

    ticket = await wait_for(client, f"call-{sid}", lambda t: t.urgency is not None)

    assert ticket.urgency == "emergency"
    assert ticket.sla_due_at == ticket.created_at + timedelta(minutes=15)
    assert "quy tắc: khó thở" in ticket.reasons
    await client.app[intake_keys.STORE].refresh()
    resp = await client.get("/api/tickets", params={"q": "kho tho spo2", "urgency": "emergency"}, headers=auth("operator"))
    body = await resp.json()
    assert resp.status == 200
    assert [t["id"] for t in body["tickets"]] == [f"call-{sid}"]


async def test_sms_opens_a_ticket_replies_with_its_number_and_a_second_sms_joins_it(client: TestClient) -> None:
    first = await post_signed(client, "/twilio/sms", make_sms("SM" + "1" * 32, "Khu phố 3 phường Bình An hết gạo rồi"))
    reply = ElementTree.fromstring(await first.text()).findtext("./Message") or ""
    ticket = await wait_for(client, "sms-SM" + "1" * 32)
    await client.app[intake_keys.STORE].refresh()

    second = await post_signed(client, "/twilio/sms", make_sms("SM" + "2" * 32, "con nho dang doi"))

    assert ticket.number in reply and "1022" in reply
    assert ticket.number in (ElementTree.fromstring(await second.text()).findtext("./Message") or "")
    joined = await wait_for(client, ticket.id, lambda t: len(t.messages) == 2)
    assert joined.message_sids == ("SM" + "1" * 32, "SM" + "2" * 32)
    assert joined.category == "food_supply"


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/twilio/sms", {"From": "+84987654321", "Body": "x"}, "MessageSid"),
    ("/twilio/voice", {"From": "+84987654321"}, "CallSid"),
    ("/twilio/transcription", {"CallSid": "CA1", "SequenceId": "abc"}, "SequenceId"),
    ("/twilio/transcription", {"CallSid": "CA1", "SequenceId": "1", "TranscriptionData": "{oops"}, "not JSON"),
    ("/twilio/recording", {"CallSid": "CA1", "RecordingSid": "RE1"}, "RecordingUrl"),
])
async def test_malformed_but_signed_webhooks_get_400(refusals: TestClient, path: str, params: dict[str, str],
                                                     message: str) -> None:
    resp = await post_signed(refusals, path, params)

    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "invalid_webhook" and message in body["message"]


async def test_webhooks_answer_while_the_store_is_slow_to_be_reached(client: TestClient) -> None:
    started = datetime.now()
    resp = await post_signed(client, "/twilio/sms", make_sms("SM" + "3" * 32, "hỏi lịch tiêm"))

    assert resp.status == 200
    assert datetime.now() - started < timedelta(seconds=1)


async def test_an_sms_joins_the_senders_call_before_elasticsearch_has_it(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, models: Models) -> None:
    # INTAKE_WORKER=external and no worker yet: only the journal knows the call when the SMS arrives.
    app_settings = make_settings(settings, tmp_path, index_prefix=unique_prefix, intake_worker="external")
    client = await aiohttp_client(create_app(app_settings, models=models, domains={"intake"}))
    call_sid, caller = "CA" + "b" * 32, "+84911000111"
    await post_signed(client, "/twilio/voice", make_call(call_sid, caller=caller))

    resp = await post_signed(client, "/twilio/sms", make_sms("SM" + "b" * 32, "bổ sung: nhà số 12", sender=caller))
    pending_before_worker = client.app[intake_keys.JOURNAL].counts()["pending"]
    stored = await run_worker(app_settings, once=True)

    reply = ElementTree.fromstring(await resp.text()).findtext("./Message") or ""
    ticket, _ = await client.app[intake_keys.STORE].get(f"call-{call_sid}")
    assert (pending_before_worker, stored) == (2, 2)
    assert ticket.number in reply
    assert ticket.messages == ("bổ sung: nhà số 12",) and ticket.message_sids == ("SM" + "b" * 32,)
    with pytest.raises(TicketNotFound):
        await client.app[intake_keys.STORE].get("sms-SM" + "b" * 32)


async def test_an_sms_opens_a_new_ticket_when_the_senders_last_one_was_closed(client: TestClient) -> None:
    sender = "+84911000222"
    await post_signed(client, "/twilio/sms", make_sms("SM" + "4" * 32, "đèn đường hỏng", sender=sender))
    first = await wait_for(client, "sms-SM" + "4" * 32)
    await wait_until_stored(client)
    closed = await client.patch(f"/api/tickets/{first.id}", json={"status": "closed"}, headers=auth("operator"))

    resp = await post_signed(client, "/twilio/sms", make_sms("SM" + "5" * 32, "lại hỏng nữa", sender=sender))

    assert closed.status == 200
    reply = ElementTree.fromstring(await resp.text()).findtext("./Message") or ""
    second = await wait_for(client, "sms-SM" + "5" * 32)
    assert second.number in reply and first.number not in reply
    assert second.messages == ("lại hỏng nữa",)


async def wait_until_stored(client: TestClient, timeout_s: float = 20.0) -> None:
    """Wait until the worker has marked every journal entry done."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while client.app[intake_keys.JOURNAL].counts()["pending"]:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"journal entries still pending after {timeout_s}s")
        await asyncio.sleep(0.1)
