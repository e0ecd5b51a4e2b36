"""Home-isolation monitoring end to end: the real app and node, fake Zalo and Twilio, an injected clock."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.errors import TicketNotFound
from intake.isolation.keys import ISOLATION
from intake.isolation.records import Case, CaseStatus, Risk
from intake.isolation.store import CaseNotFound
from tests.factories import auth, make_sms, post_signed
from tests.intake.test_twilio_rest import FakeTwilio
from tests.intake.test_zalo import deliver, zalo_settings
from tests.intake.zalo_fake import USER, FakeZalo, text_event

pytestmark = pytest.mark.asyncio
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
WARD_ON_CALL = "+84900000094"
FALLBACK_ON_CALL = "+84900000001"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeZalo, FakeTwilio, str, str]]:
    zalo, twilio = FakeZalo(), FakeTwilio(b"")
    servers = [TestServer(zalo.app(), host="127.0.0.1"), TestServer(twilio.app(), host="127.0.0.1")]
    for server in servers:
        await server.start_server()
    yield zalo, twilio, *(str(s.make_url("")).rstrip("/") for s in servers)
    for server in servers:
        await server.close()


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 fakes: Any, models: Models) -> TestClient:
    _, _, zalo_base, twilio_base = fakes
    return await aiohttp_client(create_app(zalo_settings(
        settings, tmp_path, unique_prefix, zalo_base, twilio_api_base=twilio_base,
        isolation_ward_on_call={"Dĩ An/Đông Hòa": WARD_ON_CALL}, on_call_numbers=(FALLBACK_ON_CALL,),
        isolation_interval_s=3600, escalation_interval_s=3600), models=models, domains={"intake"}))


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


async def register(client: TestClient, **fields: Any) -> Case:
    body = {"name": "Nguyễn Văn Tư", "consent": True, "district": "Dĩ An", "ward": "Đông Hòa",
            "address": "12 đường số 3, khu phố Tân Hòa", **fields}
    resp = await client.post("/api/isolation/cases", json=body, headers=auth("operator"))
    assert resp.status == 201, await resp.text()
    case, _ = await client.app[ISOLATION].cases.get((await resp.json())["id"])
    return case


async def wait_case(client: TestClient, case_id: str, until: Callable[[Case], bool], timeout_s: float = 20) -> Case:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        case, _ = await client.app[ISOLATION].cases.get(case_id)
        if until(case):
            return case
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"case {case_id} not in the wanted state: {case.risk} {case.readings}")
        await asyncio.sleep(0.1)


async def eventually(check: Callable[[], bool], timeout_s: float = 20) -> None:
    """The messages that follow a saved alert are sent right after the save; wait for them."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not sent in time"
        await asyncio.sleep(0.05)


async def test_a_worsening_zalo_answer_alerts_the_ward_within_one_check_in_cycle(client: TestClient,
                                                                                 fakes: Any) -> None:
    zalo, twilio, _, _ = fakes
    case = await register(client, zalo_user_id=USER, phone="+84911222333", age=52)
    tomorrow = datetime.now(LOCAL).date() + timedelta(days=1)
    isolation = client.app[ISOLATION]

    asked = await isolation.tick(at_local(tomorrow, 8, 0))
    again = await isolation.tick(at_local(tomorrow, 8, 1))  # the same slot is asked once

    assert (asked["asked"], again["asked"]) == (1, 0)
    question = zalo.texts_to(USER)[-1]
    assert "SpO2" in question and "nhiệt độ" in question and "khó thở" in question
    # The patient answers by Zalo, in the words people use, before the 17:00 round.
    assert (await deliver(client, text_event("Dạ spo2 con 92, hơi khó thở ạ"))).status == 200

    red = await wait_case(client, case.id, lambda c: c.risk is Risk.RED)
    assert red.latest is not None and red.latest.spo2 == 92 and red.checkins[-1].answered_at is not None
    ticket, _ = await client.app[intake_keys.STORE].get(red.alerts[0])
    assert (ticket.channel, ticket.urgency, ticket.district, ticket.ward) == ("isolation", "emergency", "Dĩ An",
                                                                               "Đông Hòa")
    assert "SpO2 92%" in ticket.text and "Nguyễn" not in ticket.text  # no name in a ticket leaders can read
    await eventually(lambda: "trạm y tế sẽ gọi" in zalo.texts_to(USER)[-1])
    on_call = [m for m in twilio.sms if m["To"] == WARD_ON_CALL]
    assert len(on_call) == 1 and "F0 TRỞ NẶNG" in on_call[0]["Body"] and ticket.number in on_call[0]["Body"]
    # The answer was a reading, not a new hotline report.
    await client.app[intake_keys.STORE].refresh()
    found = await (await client.get("/api/tickets?channel=zalo", headers=auth("operator"))).json()
    assert found["total"] == 0
    # A second bad answer while the alert stands does not page the ward again.
    await deliver(client, text_event("spo2 91"))
    await wait_case(client, case.id, lambda c: len(c.readings) == 2)
    await asyncio.sleep(0.5)
    assert len([m for m in twilio.sms if m["To"] == WARD_ON_CALL]) == 1


async def test_silence_of_a_high_risk_patient_alerts_after_two_missed_sms_check_ins(client: TestClient,
                                                                                   fakes: Any) -> None:
    _, twilio, _, _ = fakes
    case = await register(client, phone="+84911000111", age=71, ward="Tân Đông Hiệp",
                          risk_factors=["diabetes"])
    day = datetime.now(LOCAL).date() + timedelta(days=1)
    isolation = client.app[ISOLATION]

    for moment in (at_local(day, 8), at_local(day, 17)):
        await isolation.tick(moment)
    quiet, _ = await isolation.cases.get(case.id)
    await isolation.tick(at_local(day + timedelta(days=1), 8))

    assert quiet.risk is Risk.YELLOW and not quiet.alerts
    red, _ = await isolation.cases.get(case.id)
    assert red.risk is Risk.RED and red.missed == 2 and "không trả lời 2 lần" in red.risk_reasons[0]
    assert [m["To"] for m in twilio.sms].count("+84911000111") >= 3  # questions by SMS, no Zalo id
    assert [m["To"] for m in twilio.sms].count(FALLBACK_ON_CALL) == 1  # no number for this ward: the fallback


async def test_an_sms_answer_is_a_reading_and_two_good_ones_after_ten_days_close_the_case(
        client: TestClient, fakes: Any) -> None:
    phone = "+84911000222"
    start = datetime.now(LOCAL).date() - timedelta(days=11)
    case = await register(client, phone=phone, start_date=start.isoformat(), age=30)
    isolation = client.app[ISOLATION]

    resp = await post_signed(client, "/twilio/sms", make_sms("SM" + "e" * 32, "spo2 98, ko sot, tho binh thuong",
                                                             sender=phone))
    assert resp.status == 200
    reply = await resp.text()  # a check-in answer is not a report: no ticket number to keep
    assert "sức khỏe" in reply and "Mã phiếu" not in reply
    other = await post_signed(client, "/twilio/sms", make_sms("SM" + "f" * 32, "spo2 98, ko sot", sender="+84911000999"))
    assert "Mã phiếu" in await other.text()  # the same words from a number with no case are a report
    await wait_case(client, case.id, lambda c: len(c.readings) == 1)
    with pytest.raises(TicketNotFound):  # the answer did not become a report
        await client.app[intake_keys.STORE].get("sms-SM" + "e" * 32)
    await isolation.take_reply(phone, "97%, không sốt", datetime.now(LOCAL))

    await isolation.tick(datetime.now(LOCAL))
    done, _ = await isolation.cases.get(case.id)
    assert done.status is CaseStatus.RECOVERED and done.closed_at is not None

    retention = isolation.config.retention_days
    assert (await isolation.tick(datetime.now(LOCAL) + timedelta(days=retention - 1)))["deleted"] == 0
    assert (await isolation.tick(datetime.now(LOCAL) + timedelta(days=retention + 1)))["deleted"] == 1
    with pytest.raises(CaseNotFound):
        await isolation.cases.get(case.id)


async def test_registration_from_a_zalo_ticket_takes_contact_and_place_and_needs_consent(
        client: TestClient) -> None:
    body = text_event("Em là F0 ở phường Tân Bình, Dĩ An, cho em đăng ký theo dõi tại nhà")
    await deliver(client, body)
    ticket_id = f"zalo-{body['message']['msg_id']}"
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        try:
            await client.app[intake_keys.STORE].get(ticket_id)
            break
        except TicketNotFound:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)

    refused = await client.post("/api/isolation/cases", headers=auth("operator"),
                                json={"name": "Lê Thị Ba", "ticket_id": ticket_id})
    leader = await client.post("/api/isolation/cases", headers=auth("leader"),
                               json={"name": "Lê Thị Ba", "ticket_id": ticket_id, "consent": True})
    case = await register(client, name="Lê Thị Ba", district=None, ward=None, address=None, ticket_id=ticket_id)

    assert refused.status == 400 and "đồng ý" in (await refused.json())["message"]
    assert leader.status == 403
    assert (case.zalo_user_id, case.phone, case.district, case.ward) == (USER, None, "Dĩ An", "Tân Bình")
