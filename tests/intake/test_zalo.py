"""The Zalo OA channel against the real app, the real node and a local fake of Zalo's APIs."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from tests.factories import LOCAL_FETCH_SETTINGS, auth, make_settings
from tests.intake.test_webhooks import wait_for
from tests.intake.test_twilio_rest import asr_dir, wav  # noqa: F401 (fixtures: espeak-ng audio, tiny Whisper)
from tests.intake.zalo_fake import (APP_ID, APP_SECRET, OA_ID, OA_SECRET, USER, FakeZalo, attachment_event,
                                    follow_event, location_event, msg_id, sign, text_event)

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def zalo() -> AsyncIterator[tuple[FakeZalo, str]]:
    fake = FakeZalo()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


def zalo_settings(settings: Settings, tmp_path: Path, prefix: str, base: str, **overrides: Any) -> Settings:
    return make_settings(settings, tmp_path, index_prefix=prefix, zalo_app_id=APP_ID, zalo_oa_id=OA_ID,
                         zalo_oa_secret_key=OA_SECRET, zalo_app_secret=APP_SECRET, zalo_api_base=base,
                         zalo_oauth_base=base, zalo_access_token="access-0", zalo_refresh_token="refresh-0",
                         zalo_media_hosts=("127.0.0.1",), **{**LOCAL_FETCH_SETTINGS, **overrides})


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, models: Models,
                 zalo: tuple[FakeZalo, str]) -> TestClient:
    return await aiohttp_client(create_app(zalo_settings(settings, tmp_path, unique_prefix, zalo[1]), models=models,
                                           domains={"intake"}))


async def deliver(client: TestClient, body: dict[str, Any], **sign_args: Any) -> Any:
    raw, headers = sign(body, **sign_args)
    return await client.post("/zalo/webhook", data=raw, headers=headers)


def journal_rows(client: TestClient) -> int:
    path = client.app[intake_keys.JOURNAL]._db.execute("PRAGMA database_list").fetchone()[2]
    return int(sqlite3.connect(path).execute("SELECT COUNT(*) FROM entries").fetchone()[0])


# --- the webhook against the real app ------------------------------------------------------------

async def test_a_signed_text_becomes_a_zalo_ticket_found_by_channel(client: TestClient) -> None:
    body = text_event("Nhà em ở phường Dĩ An bị phong tỏa 5 ngày rồi, hết gạo ăn")

    resp = await deliver(client, body)

    assert resp.status == 200 and (await resp.json())["status"] == "ok"
    ticket = await wait_for(client, f"zalo-{body['message']['msg_id']}")
    assert (ticket.channel, ticket.caller, ticket.district) == ("zalo", f"zalo:{USER}", "Dĩ An")
    await client.app[intake_keys.STORE].refresh()
    found = await (await client.get("/api/tickets?channel=zalo", headers=auth("operator"))).json()
    assert [t["id"] for t in found["tickets"]] == [ticket.id]


async def test_a_wrong_mac_gets_403_and_stores_nothing(client: TestClient) -> None:
    resp = await deliver(client, text_event("giả mạo"), secret="not-the-oa-secret")

    assert resp.status == 403
    assert (await resp.json())["error"] == "invalid_signature"
    assert journal_rows(client) == 0


async def test_a_stale_replay_gets_403(client: TestClient) -> None:
    resp = await deliver(client, text_event("cũ", offset_s=-3 * 3600))

    assert resp.status == 403 and (await resp.json())["error"] == "stale_event"
    assert journal_rows(client) == 0


async def test_duplicate_deliveries_and_replays_make_one_ticket(client: TestClient, zalo: Any) -> None:
    fake, _ = zalo
    body = text_event("ba em sốt cao 3 ngày không hạ, ở Thuận Giao")
    raw, headers = sign(body)

    answers = await asyncio.gather(*(client.post("/zalo/webhook", data=raw, headers=headers) for _ in range(3)))
    retry = await client.post("/zalo/webhook", data=raw, headers={**headers, "num_retry": "1"})

    assert [r.status for r in [*answers, retry]] == [200] * 4
    statuses = sorted([(await r.json())["status"] for r in [*answers, retry]])
    assert statuses == ["duplicate", "duplicate", "duplicate", "ok"]
    ticket = await wait_for(client, f"zalo-{body['message']['msg_id']}", lambda t: bool(t.history[-1:])
                            and any(c.action == "zalo_ack_sent" for c in t.history))
    await client.app[intake_keys.STORE].refresh()
    found = await (await client.get("/api/tickets?channel=zalo", headers=auth("operator"))).json()
    assert found["total"] == 1 and ticket.messages == (body["message"]["text"],)
    assert len(fake.texts_to()) == 1  # one acknowledgement, not four


async def test_a_second_message_joins_the_open_ticket_and_a_location_fills_the_ward(client: TestClient) -> None:
    first = text_event("Cho hỏi chỗ xét nghiệm gần nhà")
    await deliver(client, first)
    ticket_id = f"zalo-{first['message']['msg_id']}"
    await wait_for(client, ticket_id)
    place = location_event("10.9167", "106.7667", "Phường Tân Bình, Dĩ An, Bình Dương")

    assert (await deliver(client, place)).status == 200

    ticket = await wait_for(client, ticket_id, lambda t: len(t.messages) == 2)
    assert (ticket.district, ticket.ward) == ("Dĩ An", "Tân Bình")
    assert "10.9167" in ticket.messages[1] and ticket.messages[1].startswith("[Vị trí]")


async def test_follow_events_are_journaled_once_and_welcomed(client: TestClient, zalo: Any) -> None:
    fake, _ = zalo
    body = follow_event()
    assert (await deliver(client, body)).status == 200
    assert (await (await deliver(client, body)).json())["status"] == "duplicate"
    deadline = asyncio.get_running_loop().time() + 20
    while not fake.texts_to() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert len(fake.texts_to()) == 1 and "1022" in fake.texts_to()[0]


async def test_acknowledgement_refreshes_the_token_and_stores_the_rotated_pair(
        client: TestClient, zalo: Any, tmp_path: Path) -> None:
    fake, _ = zalo
    body = text_event("Xin hỏi giấy đi đường")
    await deliver(client, body)

    ticket = await wait_for(client, f"zalo-{body['message']['msg_id']}",
                            lambda t: any(c.action == "zalo_ack_sent" for c in t.history))

    # The initial access token's age is unknown, so the first use refreshes the pair, and Zalo rotated it.
    assert [r["refresh_token"] for r in fake.refreshes] == ["refresh-0"]
    assert fake.sent[0]["recipient"]["user_id"] == USER and ticket.number in fake.texts_to()[0]
    stored = json.loads((tmp_path / "zalo_tokens.json").read_text())
    assert (stored["access_token"], stored["refresh_token"]) == ("access-1", "refresh-1")
    assert (tmp_path / "zalo_tokens.json").stat().st_mode & 0o077 == 0  # readable by the service only


async def test_an_operator_replies_from_the_ticket_and_an_invalid_token_is_refreshed_once(
        client: TestClient, zalo: Any) -> None:
    fake, _ = zalo
    body = text_event("Cho hỏi lịch tiêm mũi 2 ở Thủ Dầu Một")
    await deliver(client, body)
    ticket_id = f"zalo-{body['message']['msg_id']}"
    await wait_for(client, ticket_id, lambda t: any(c.action == "zalo_ack_sent" for c in t.history))
    fake.access_token = "revoked-by-zalo"  # Zalo killed the token early: -216 on the next send

    resp = await client.post(f"/api/tickets/{ticket_id}/zalo-reply", headers=auth("operator"),
                             json={"text": "Lịch tiêm mũi 2 ở phường Phú Cường: thứ Bảy, 7 giờ."})

    assert resp.status == 200
    assert fake.texts_to()[-1].startswith("Lịch tiêm mũi 2") and len(fake.refreshes) == 2
    ticket = await wait_for(client, ticket_id, lambda t: bool(t.notes))
    assert ticket.notes[-1].text.endswith("thứ Bảy, 7 giờ.") and ticket.history[-1].action == "zalo_reply"


async def test_a_refused_reply_is_a_clear_502_and_leaders_may_not_reply(client: TestClient, zalo: Any) -> None:
    fake, _ = zalo
    body = text_event("Hỏi về hỗ trợ gói 26 nghìn tỷ")
    await deliver(client, body)
    ticket_id = f"zalo-{body['message']['msg_id']}"
    await wait_for(client, ticket_id, lambda t: any(c.action == "zalo_ack_sent" for c in t.history))
    fake.fail_next = [-230]

    refused = await client.post(f"/api/tickets/{ticket_id}/zalo-reply", headers=auth("operator"),
                                json={"text": "Chào anh"})
    leader = await client.post(f"/api/tickets/{ticket_id}/zalo-reply", headers=auth("leader"),
                               json={"text": "Chào anh"})

    assert refused.status == 502 and "7 ngày" in (await refused.json())["message"]
    assert leader.status == 403
    assert "access-" not in json.dumps(await refused.json())  # no token in errors


async def test_an_unsigned_reply_route_and_message_id_shapes(client: TestClient) -> None:
    assert len(msg_id()) == 20
    resp = await client.post("/api/tickets/nope/zalo-reply", json={"text": "x"})
    assert resp.status == 401


async def test_a_voice_message_goes_through_the_speech_engine_and_an_image_keeps_its_link(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path, zalo: Any,
        asr_dir: Path, wav: bytes, models: Models) -> None:  # noqa: F811
    fake, base = zalo
    fake.media["voice.wav"] = wav
    client = await aiohttp_client(create_app(zalo_settings(settings, tmp_path, unique_prefix, base,
                                                           asr_model_dir=str(asr_dir)),
                                             models=models, domains={"intake"}))
    voice = attachment_event("user_send_audio", "audio", f"{base}/media/voice.wav")
    photo = attachment_event("user_send_image", "image", "https://photo-stal-1.zdn.vn/abc.jpg")
    elsewhere = attachment_event("user_send_audio", "audio", "http://169.254.169.254/latest/meta-data",
                                 user="8999999999999999999")

    for body in (voice, photo, elsewhere):
        assert (await deliver(client, body)).status == 200

    ticket = await wait_for(client, f"zalo-{voice['message']['msg_id']}", lambda t: len(t.messages) == 2,
                            timeout_s=60)
    assert fake.media_fetched == ["voice.wav"]  # fetched from the allowed host, once
    # The tiny test model hears nonsense, but it is the engine's text, not the link the message came with.
    assert ticket.messages[0].startswith("[Ghi âm]") and "voice.wav" not in ticket.messages[0]
    assert ticket.messages[1].startswith("[Ảnh] https://photo")
    refused = await wait_for(client, f"zalo-{elsewhere['message']['msg_id']}", timeout_s=60)
    assert refused.messages == ("[Ghi âm] http://169.254.169.254/latest/meta-data",)  # kept, never fetched
