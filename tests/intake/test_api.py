"""The ticket API: roles, search, manual reports, updates with optimistic concurrency, clear 4xx errors."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dashboards import keys as dashboard_keys
from dashboards import service as accounts
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from tests.factories import auth, make_settings, serve

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    client = await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                                  models=models, domains={"intake"}))
    now = datetime.now(timezone.utc)
    app = client.app
    for username, role in (("an", "operator"), ("binh", "operator"), ("cuong", "operator"), ("hoa", "leader")):
        await accounts.add_user(username, role, "mật-khẩu-thử-nghiệm", username.title(), actor="test", now=now,
                                users=app[dashboard_keys.USERS], audit=app[dashboard_keys.AUDIT])
    await accounts.update_user("cuong", role=None, active=False, display_name=None, actor="test", now=now,
                               users=app[dashboard_keys.USERS], sessions=app[dashboard_keys.SESSIONS],
                               audit=app[dashboard_keys.AUDIT])
    return client


@pytest.fixture(scope="module")
async def refusals(settings: Settings, es: Any, module_prefix: str, tmp_path_factory: pytest.TempPathFactory,
                   models: Models) -> AsyncIterator[TestClient]:
    """One app for the tests of refusals (400, 404): each asks for one, so they can share it."""
    app = create_app(make_settings(settings, tmp_path_factory.mktemp("refusals"), index_prefix=module_prefix),
                     models=models, domains={"intake"})
    async with serve(app) as client:
        yield client


async def _manual(client: TestClient, text: str, **extra: str) -> dict[str, Any]:
    resp = await client.post("/api/tickets", json={"text": text, **extra}, headers=auth("operator"))
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_manual_report_is_classified_and_located(client: TestClient) -> None:
    body = await _manual(client, "Zalo nhóm khu phố: bà cụ 80 tuổi ở Thuận Giao hết gạo, sống một mình",
                         caller="+84901234567")

    assert body["channel"] == "manual" and body["status"] == "new"
    assert body["category"] == "food_supply"
    assert body["urgency"] == "high" and body["sla_due_at"]
    assert body["history"][0]["actor"] == "operator-user"


async def test_patch_moves_status_records_history_and_returns_409_on_stale_version(client: TestClient) -> None:
    created = await _manual(client, "xin hỏi lịch tiêm mũi 2 ở phường Dĩ An")
    url = f"/api/tickets/{created['id']}"
    first = await (await client.get(url, headers=auth("operator"))).json()

    taken = await client.patch(url, json={"version": first["version"], "assignee": "an", "note": "đã gọi lại"},
                               headers=auth("operator"))
    stale = await client.patch(url, json={"version": first["version"], "status": "resolved"}, headers=auth("operator"))

    assert taken.status == 200
    body = await taken.json()
    assert body["status"] == "assigned" and body["assignee"] == "an"
    assert body["notes"][0]["text"] == "đã gọi lại"
    assert body["history"][-2]["after"] == {"assignee": "an", "status": "assigned"}
    assert stale.status == 409
    assert (await stale.json())["error"] == "ticket_conflict"


async def test_category_correction_is_marked_for_retraining(client: TestClient) -> None:
    created = await _manual(client, "giá rau ở chợ tăng gấp ba")

    resp = await client.patch(f"/api/tickets/{created['id']}", json={"category": "prices"}, headers=auth("admin"))

    body = await resp.json()
    assert body["category"] == "prices" and body["category_corrected"] is True


@pytest.mark.parametrize(("body", "message"), [
    ({"status": "flying"}, "unknown status"),
    ({"category": "weather"}, "unknown category"),
    ({"colour": "red"}, "unknown fields: colour"),
    ({"follow_up_at": "tomorrow"}, "ISO 8601"),
    ({"follow_up_at": "2026-12-01T09:00:00"}, "time zone"),
    ({"status": "reopened"}, "cannot go from new to reopened"),
    (["not", "an", "object"], "expected a JSON object"),
])
async def test_bad_patches_get_400_with_a_reason(refusals: TestClient, body: Any, message: str) -> None:
    created = await _manual(refusals, "đèn đường hư")

    resp = await refusals.patch(f"/api/tickets/{created['id']}", json=body, headers=auth("operator"))

    assert resp.status == 400
    assert message in (await resp.json())["message"]


@pytest.mark.parametrize(("query", "message"), [
    ({"status": "lost"}, "unknown status"), ({"page": "0"}, "'page'"), ({"size": "1000"}, "'size'"),
    ({"from": "yesterday"}, "ISO 8601"), ({"sort": "random"}, "sort must be one of"),
])
async def test_bad_search_parameters_get_400(refusals: TestClient, query: dict[str, str], message: str) -> None:
    resp = await refusals.get("/api/tickets", params=query, headers=auth("leader"))

    assert resp.status == 400
    assert message in (await resp.json())["message"]


async def test_search_filters_and_masks_the_caller_for_leaders(client: TestClient) -> None:
    await _manual(client, "Khu phố 2 phường Tân Bình Dĩ An bị phong tỏa, không có rau", caller="+84912000111")
    await _manual(client, "hỏi giấy đi đường cho tài xế xe tải", caller="+84912000222")
    await client.app[intake_keys.STORE].refresh()

    leader = await (await client.get("/api/tickets", params={"q": "phong toa di an"}, headers=auth("leader"))).json()
    operator = await (await client.get("/api/tickets", params={"category": "travel_permit"},
                                       headers=auth("operator"))).json()

    assert leader["total"] == 1
    assert leader["tickets"][0]["caller"] == "+849*****111"
    assert [t["caller"] for t in operator["tickets"]] == ["+84912000222"]


async def test_unknown_ticket_is_404(refusals: TestClient) -> None:
    resp = await refusals.get("/api/tickets/nope", headers=auth("operator"))

    assert resp.status == 404
    assert (await resp.json())["error"] == "ticket_not_found"


async def test_bad_json_body_is_400(refusals: TestClient) -> None:
    resp = await refusals.post("/api/tickets", data="{not json", headers={**auth("operator"),
                                                                        "Content-Type": "application/json"})

    assert resp.status == 400


async def test_pages_past_the_first_10000_results_are_refused_with_400(refusals: TestClient) -> None:
    resp = await refusals.get("/api/tickets", params={"page": "101", "size": "100"}, headers=auth("leader"))

    assert resp.status == 400
    assert "10,000" in (await resp.json())["message"]


async def test_a_duplicate_is_merged_into_another_ticket_and_closed(client: TestClient) -> None:
    first = await _manual(client, "Hẻm 12 Bình Chuẩn mất nước 3 ngày")
    duplicate = await _manual(client, "hem 12 binh chuan mat nuoc may ngay roi")

    merged = await client.patch(f"/api/tickets/{duplicate['id']}", json={"merged_into": first["id"]},
                                headers=auth("operator"))
    missing = await client.patch(f"/api/tickets/{first['id']}", json={"merged_into": "no-such-ticket"},
                                 headers=auth("operator"))
    itself = await client.patch(f"/api/tickets/{first['id']}", json={"merged_into": first["id"]},
                                headers=auth("operator"))

    body = await merged.json()
    assert merged.status == 200 and body["merged_into"] == first["id"] and body["status"] == "closed"
    assert missing.status == 404
    assert itself.status == 400


# --- issue 13: safe taking, assignment, lookup, precise search, queue order -----------------------------

async def _version(client: TestClient, ticket_id: str) -> str:
    return str((await (await client.get(f"/api/tickets/{ticket_id}", headers=auth("operator"))).json())["version"])


async def test_two_operators_taking_with_the_version_read_one_wins_the_other_gets_409_naming_the_holder(
        client: TestClient) -> None:
    created = await _manual(client, "cây đổ chắn đường ở Phú Lợi")
    url = f"/api/tickets/{created['id']}"
    version = await _version(client, created["id"])

    # Sent together: the loser fails either at the version check or at the conditional write.
    first, second = await asyncio.gather(
        client.patch(url, json={"version": version, "assignee": "an"}, headers=auth("operator")),
        client.patch(url, json={"version": version, "assignee": "binh"}, headers=auth("operator")))

    assert sorted([first.status, second.status]) == [200, 409]
    winner, loser = (first, second) if first.status == 200 else (second, first)
    holder = (await winner.json())["assignee"]
    message = (await loser.json())["message"]
    assert f"Người xử lý hiện tại: {holder}." in message and created["number"] in message


async def test_setting_the_assignee_of_a_held_ticket_without_the_version_is_409(client: TestClient) -> None:
    created = await _manual(client, "xin hỏi giấy đi đường")
    url = f"/api/tickets/{created['id']}"
    await client.patch(url, json={"version": await _version(client, created["id"]), "assignee": "an"},
                       headers=auth("operator"))

    steal = await client.patch(url, json={"assignee": "binh"}, headers=auth("operator"))
    with_version = await client.patch(url, json={"assignee": "binh", "version": await _version(client, created["id"])},
                                      headers=auth("operator"))

    assert steal.status == 409 and "an" in (await steal.json())["message"]
    assert with_version.status == 200 and (await with_version.json())["assignee"] == "binh"


async def test_only_an_active_operator_can_be_assigned(client: TestClient) -> None:
    created = await _manual(client, "đèn đường hư ở Tân Định")

    for assignee in ("nobody", "cuong", "hoa"):  # unknown, deactivated, a leader
        resp = await client.patch(f"/api/tickets/{created['id']}", json={"assignee": assignee},
                                  headers=auth("operator"))
        assert resp.status == 400, assignee
        assert "điện thoại viên đang hoạt động" in (await resp.json())["message"]


async def test_q_finds_a_ticket_by_its_visible_number(client: TestClient) -> None:
    created = await _manual(client, "nhà bên cạnh có người sốt cao")
    await _manual(client, "một phiếu khác")
    await client.app[intake_keys.STORE].refresh()
    typed = " " + created["number"].lower() + " "

    body = await (await client.get("/api/tickets", params={"q": typed}, headers=auth("leader"))).json()

    assert [t["id"] for t in body["tickets"]] == [created["id"]]


async def test_q_finds_an_operator_the_callers_tickets_by_phone_in_any_format(client: TestClient) -> None:
    mine = await _manual(client, "xin hỏi lịch tiêm", caller="0912345678")
    await _manual(client, "hỏi giá rau", caller="+84912000999")
    await client.app[intake_keys.STORE].refresh()
    assert mine["caller"] == "+84912345678"  # stored as Twilio stores callers

    for typed in ("0912 345 678", "+84912345678", "84912345678", "0912.345.678", "+84 912-345-678"):
        operator = await (await client.get("/api/tickets", params={"q": typed}, headers=auth("operator"))).json()
        leader = await (await client.get("/api/tickets", params={"q": typed}, headers=auth("leader"))).json()
        assert [t["id"] for t in operator["tickets"]] == [mine["id"]], typed
        assert leader["total"] == 0  # leaders cannot confirm a masked number by searching for it


async def test_leaders_search_without_diacritics_finds_the_place_and_not_the_near_misses(client: TestClient) -> None:
    wanted = [await _manual(client, text) for text in (
        "Khu phố 2 phường Dĩ An bị phong tỏa 5 ngày, nhà em hết gạo",
        "kp Thống Nhất, Dĩ An phong tỏa từ hôm qua, xin hỗ trợ rau",
        "phong toa khu nha tro o phuong di an, can ho tro gao")]
    misses = [await _manual(client, text) for text in (
        "Thuận An phong tỏa khu phố 3, không đi chợ được, ăn mì gói",
        "phòng trọ ở Dĩ An bị chủ nhà đuổi",
        "tổ trưởng đòi phong bì mới cấp giấy đi đường ở Dĩ An",
        "phong tỏa ở Bến Cát, đi ăn cũng không được")]
    await client.app[intake_keys.STORE].refresh()

    body = await (await client.get("/api/tickets", params={"q": "phong toa di an", "size": 50},
                                   headers=auth("leader"))).json()
    found = {t["id"] for t in body["tickets"]}

    assert found == {t["id"] for t in wanted}, [t["text"] for t in body["tickets"]]
    assert not found & {t["id"] for t in misses}
    any_word = await (await client.get("/api/tickets", params={"q": "phong toa di an", "match": "any", "size": 50},
                                       headers=auth("leader"))).json()
    assert any_word["total"] > len(wanted)  # the "any word" toggle widens the search


async def test_phrase_matches_rank_first(client: TestClient) -> None:
    loose = await _manual(client, "xe cứu thương đến trễ, sau đó bà được đưa đi cách ly tập trung")
    phrase = await _manual(client, "cần xe cứu thương gấp cho bà cụ")
    await client.app[intake_keys.STORE].refresh()

    body = await (await client.get("/api/tickets", params={"q": "xe cuu thuong gap"}, headers=auth("leader"))).json()

    assert [t["id"] for t in body["tickets"]][:1] == [phrase["id"]]
    assert loose["id"] not in [t["id"] for t in body["tickets"]]  # "gấp" is missing: all words are required


async def test_the_queue_order_puts_untaken_emergencies_before_everything_else(client: TestClient) -> None:
    taken = await _manual(client, "ông em bất tỉnh không thở được cần cấp cứu ngay")
    normal = await _manual(client, "hỏi lịch tiêm mũi 2")
    fresh = await _manual(client, "bà em khó thở spo2 85 cần cấp cứu gấp")
    assert taken["urgency"] == fresh["urgency"] == "emergency"
    await client.patch(f"/api/tickets/{taken['id']}", json={"assignee": "an"}, headers=auth("operator"))
    await client.app[intake_keys.STORE].refresh()

    body = await (await client.get("/api/tickets", params={"sort": "queue"}, headers=auth("operator"))).json()

    ids = [t["id"] for t in body["tickets"]]
    assert ids[0] == fresh["id"] and ids.index(taken["id"]) < ids.index(normal["id"])
    assert all("version" in t for t in body["tickets"])


async def test_merge_by_visible_number_links_both_ways(client: TestClient) -> None:
    first = await _manual(client, "Hẻm 5 Tân Đông Hiệp mất điện cả ngày")
    duplicate = await _manual(client, "hem 5 tan dong hiep mat dien")
    await client.app[intake_keys.STORE].refresh()

    merged = await client.patch(f"/api/tickets/{duplicate['id']}", json={"merged_into": first["number"].lower()},
                                headers=auth("operator"))
    unknown = await client.patch(f"/api/tickets/{first['id']}", json={"merged_into": "010101-ABCDE"},
                                 headers=auth("operator"))

    assert merged.status == 200 and (await merged.json())["merged_into"] == first["id"]
    assert unknown.status == 404 and "010101-ABCDE" in (await unknown.json())["message"]


async def test_a_category_correction_drops_the_model_confidence(client: TestClient) -> None:
    created = await _manual(client, "giá rau ở chợ tăng gấp ba")
    assert created["category_score"] is not None

    resp = await client.patch(f"/api/tickets/{created['id']}", json={"category": "other"}, headers=auth("operator"))

    body = await resp.json()
    assert body["category_score"] is None and body["category_corrected"] is True
    assert body["history"][-1]["before"]["category_score"] == created["category_score"]
