"""The ticket API: roles, search, manual reports, updates with optimistic concurrency, clear 4xx errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from tests.factories import auth, make_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix)))


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
async def test_bad_patches_get_400_with_a_reason(client: TestClient, body: Any, message: str) -> None:
    created = await _manual(client, "đèn đường hư")

    resp = await client.patch(f"/api/tickets/{created['id']}", json=body, headers=auth("operator"))

    assert resp.status == 400
    assert message in (await resp.json())["message"]


@pytest.mark.parametrize(("query", "message"), [
    ({"status": "lost"}, "unknown status"), ({"page": "0"}, "'page'"), ({"size": "1000"}, "'size'"),
    ({"from": "yesterday"}, "ISO 8601"), ({"sort": "random"}, "sort must be one of"),
])
async def test_bad_search_parameters_get_400(client: TestClient, query: dict[str, str], message: str) -> None:
    resp = await client.get("/api/tickets", params=query, headers=auth("leader"))

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


async def test_unknown_ticket_is_404(client: TestClient) -> None:
    resp = await client.get("/api/tickets/nope", headers=auth("operator"))

    assert resp.status == 404
    assert (await resp.json())["error"] == "ticket_not_found"


async def test_bad_json_body_is_400(client: TestClient) -> None:
    resp = await client.post("/api/tickets", data="{not json", headers={**auth("operator"),
                                                                        "Content-Type": "application/json"})

    assert resp.status == 400


async def test_pages_past_the_first_10000_results_are_refused_with_400(client: TestClient) -> None:
    resp = await client.get("/api/tickets", params={"page": "101", "size": "100"}, headers=auth("leader"))

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
