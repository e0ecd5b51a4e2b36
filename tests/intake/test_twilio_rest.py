"""Recording download and outbound SMS against a local stand-in for Twilio's REST API."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline import keys
from hotline.intake_ctx import make_escalation_claim
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.twilio_api import TwilioApiError
from social_monitor.leases import LeaseStore
from tests.factories import LOCAL_FETCH_SETTINGS, TWILIO_SID, auth, make_call, make_settings, make_transcript, post_signed
from tests.intake.test_speech import make_tiny_whisper
from tests.intake.test_webhooks import wait_for

pytestmark = pytest.mark.asyncio
RECORDED = json.loads((Path(__file__).parent.parent / "data" / "twilio" / "message_created.json").read_text())


class FakeTwilio:
    """Serves recorded responses and remembers what it was asked."""

    def __init__(self, wav: bytes) -> None:
        self.wav = wav
        self.sms: list[dict[str, str]] = []
        self.downloads: list[str] = []
        self.auth_headers: list[str] = []
        self.fail_next = 0  # answer this many SMS requests with Twilio's 500 before accepting
        self.attempts = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2010-04-01/Accounts/{sid}/Recordings/{rec}.wav", self.recording)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.message)
        return app

    async def recording(self, request: web.Request) -> web.Response:
        self.downloads.append(request.match_info["rec"])
        self.auth_headers.append(request.headers.get("Authorization", ""))
        return web.Response(body=self.wav, content_type="audio/x-wav")

    async def message(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"code": 20500, "message": "Internal Server Error", "status": 500}, status=500)
        self.sms.append({k: str(v) for k, v in form.items()})
        self.auth_headers.append(request.headers.get("Authorization", ""))
        return web.json_response({**RECORDED, "to": form["To"], "body": form["Body"]}, status=201)


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("audio") / "call.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(path), "bà em khó thở"], check=True, capture_output=True)
    return path.read_bytes()


@pytest.fixture(scope="module")
def asr_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("whisper")
    make_tiny_whisper(directory, languages=True)
    return directory


@pytest.fixture
async def twilio(wav: bytes) -> Any:
    fake = FakeTwilio(wav)
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


async def _client(aiohttp_client: Any, settings: Settings, tmp_path: Path, prefix: str, api_base: str,
                  models: Models, **overrides: Any) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=prefix,
                                                         twilio_api_base=api_base,
                                                         **{**LOCAL_FETCH_SETTINGS, **overrides}),
                                           models=models, domains={"intake"}))


async def test_completed_recording_is_downloaded_with_credentials_and_transcribed(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        asr_dir: Path, models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models,
                           asr_model_dir=str(asr_dir))
    sid, rec = "CA" + "7" * 32, "RE" + "7" * 32
    await post_signed(client, "/twilio/voice", make_call(sid))
    form = {"CallSid": sid, "AccountSid": TWILIO_SID, "RecordingSid": rec, "RecordingStatus": "completed",
            "RecordingUrl": f"{base}/2010-04-01/Accounts/{TWILIO_SID}/Recordings/{rec}", "RecordingDuration": "2"}

    assert (await post_signed(client, "/twilio/recording", form)).status == 204
    assert (await post_signed(client, "/twilio/recording", form)).status == 204

    ticket = await wait_for(client, f"call-{sid}", lambda t: t.recording_sid == rec, timeout_s=60)
    assert fake.downloads == [rec]
    assert fake.auth_headers[0].startswith("Basic ")
    assert ticket.recording_url == form["RecordingUrl"]
    assert any(c.action == "recording" for c in ticket.history)


async def test_recordings_are_only_fetched_from_the_configured_api(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models)
    api = client.app[intake_keys.SERVICE].messaging
    assert api is not None

    with pytest.raises(TwilioApiError, match="refusing"):
        await api.download_recording("http://169.254.169.254/latest/meta-data")
    assert fake.downloads == []


async def test_overdue_emergency_is_escalated_by_sms_once(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models, sla_emergency_min=0,
                           on_call_numbers=("+84900000001", "+84900000002"), escalation_interval_s=3600)
    sid = "CA" + "8" * 32
    await post_signed(client, "/twilio/voice", make_call(sid))
    await post_signed(client, "/twilio/transcription", make_transcript(sid, 1, "ong em bat tinh roi cap cuu gap"))
    ticket = await wait_for(client, f"call-{sid}", lambda t: t.urgency == "emergency")
    service = client.app[intake_keys.SERVICE]
    await service.store.refresh()

    first = await service.escalate_overdue()
    await service.store.refresh()
    second = await service.escalate_overdue()

    assert first == [ticket.id] and second == []
    assert sorted(m["To"] for m in fake.sms) == ["+84900000001", "+84900000002"]
    assert ticket.number in fake.sms[0]["Body"] and "KHẨN CẤP" in fake.sms[0]["Body"]
    escalated = await wait_for(client, ticket.id, lambda t: t.escalated_at is not None)
    assert escalated.history[-1].action == "escalated"


async def test_two_replicas_escalating_at_once_send_the_sms_once(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        models: Models) -> None:
    """Issue 16: every replica runs the escalation round; the send is claimed in Elasticsearch first."""
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models, sla_emergency_min=0,
                           on_call_numbers=("+84900000001",), escalation_interval_s=3600)
    sid = "CA" + "9" * 32
    await post_signed(client, "/twilio/voice", make_call(sid))
    await post_signed(client, "/twilio/transcription", make_transcript(sid, 1, "ong em bat tinh roi cap cuu gap"))
    ticket = await wait_for(client, f"call-{sid}", lambda t: t.urgency == "emergency")
    service = client.app[intake_keys.SERVICE]
    leases = LeaseStore(client.app[keys.ES], f"{unique_prefix}leases", "another-replica")
    other = dataclasses.replace(service, claim_escalation=make_escalation_claim(leases))
    await service.store.refresh()

    rounds = await asyncio.gather(service.escalate_overdue(), other.escalate_overdue())

    assert sorted(rounds) == [[], [ticket.id]]
    assert [m["To"] for m in fake.sms] == ["+84900000001"]


async def test_resolving_a_ticket_sends_the_caller_an_outcome_sms(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models, outcome_sms=True)
    sid = "CA" + "6" * 32
    await post_signed(client, "/twilio/voice", make_call(sid, caller="+84912345678"))
    await wait_for(client, f"call-{sid}")

    resp = await client.patch(f"/api/tickets/call-{sid}", json={"status": "resolved"}, headers=auth("operator"))

    assert resp.status == 200
    assert [m["To"] for m in fake.sms] == ["+84912345678"]
    assert "đã được xử lý" in fake.sms[0]["Body"]
    ticket = await wait_for(client, f"call-{sid}", lambda t: t.history[-1].action == "outcome_sms_sent")
    assert ticket.status == "resolved"


async def test_an_operator_reply_is_sent_once_per_key_retried_and_recorded(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models)
    client.app[intake_keys.SERVICE].reply_backoff_s = 0.05
    sid = "CA" + "5" * 32
    await post_signed(client, "/twilio/voice", make_call(sid, caller="+84912345678"))
    await wait_for(client, f"call-{sid}")
    fake.fail_next = 1  # Twilio fails once: the worker tries again
    url = f"/api/tickets/call-{sid}/replies"
    body = {"body": "Tổ dân phố sẽ mang gạo đến trong chiều nay.", "key": "reply-key-0001"}

    first = await client.post(url, json=body, headers=auth("operator"))
    again = await client.post(url, json=body, headers=auth("operator"))  # a double click, a retried request
    ticket = await wait_for(client, f"call-{sid}", lambda t: t.history[-1].action == "sms_reply_sent")
    after = await client.post(url, json=body, headers=auth("operator"))  # even after it was sent
    await asyncio.sleep(1.0)

    assert first.status == again.status == after.status == 202
    assert fake.attempts == 2
    assert [(m["To"], m["Body"]) for m in fake.sms] == [("+84912345678", body["body"])]
    replies = [c for c in ticket.history if c.action.startswith("sms_reply")]
    assert [c.action for c in replies] == ["sms_reply_sending", "sms_reply_sent"]
    assert replies[0].actor == "operator-user" and replies[1].after["sid"] == RECORDED["sid"]
    entries = client.app[intake_keys.JOURNAL].counts()
    assert entries["pending"] == 0 and entries["dead"] == 0


async def test_a_reply_that_twilio_keeps_refusing_is_recorded_as_failed(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, twilio: Any,
        models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models)
    client.app[intake_keys.SERVICE].reply_backoff_s = 0.01
    sid = "CA" + "4" * 32
    await post_signed(client, "/twilio/voice", make_call(sid, caller="+84912345678"))
    await wait_for(client, f"call-{sid}")
    fake.fail_next = 10

    resp = await client.post(f"/api/tickets/call-{sid}/replies", json={"body": "Xin chào", "key": "reply-key-0002"},
                             headers=auth("operator"))

    assert resp.status == 202
    ticket = await wait_for(client, f"call-{sid}", lambda t: t.history[-1].action == "sms_reply_failed")
    assert fake.attempts == 3 and fake.sms == []
    assert ticket.history[-1].after["error"] == "TwilioApiError"


async def test_bad_replies_get_400_and_send_nothing(aiohttp_client: Any, settings: Settings, es: Any,
                                                   unique_prefix: str, tmp_path: Path, twilio: Any, models: Models) -> None:
    fake, base = twilio
    client = await _client(aiohttp_client, settings, tmp_path, unique_prefix, base, models)
    sid = "CA" + "3" * 32
    await post_signed(client, "/twilio/voice", make_call(sid, caller="+84912345678"))
    await wait_for(client, f"call-{sid}")
    cases = [({"body": "", "key": "reply-key-0003"}, "'body' is required"), ({"body": "x", "key": "short"}, "'key'"),
             ({"body": "x", "key": "reply-key-0003", "to": "+84900000000"}, "unknown fields: to")]

    for body, message in cases:
        resp = await client.post(f"/api/tickets/call-{sid}/replies", json=body, headers=auth("operator"))
        assert resp.status == 400 and message in (await resp.json())["message"]
    missing = await client.post("/api/tickets/no-such/replies", json={"body": "x", "key": "reply-key-0004"},
                                headers=auth("operator"))
    leader = await client.post(f"/api/tickets/call-{sid}/replies", json={"body": "x", "key": "reply-key-0005"},
                               headers=auth("leader"))

    assert missing.status == 404 and leader.status == 403
    assert fake.sms == []
