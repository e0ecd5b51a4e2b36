"""The admins' audit trail gathers people's changes to tickets, claims and known claims, not only to users."""
from __future__ import annotations

from datetime import date, datetime, timezone
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
from intake.records import ManualReport, Status, TicketPatch
from social_monitor import keys as social_keys
from social_monitor.claims import KnownClaim, Verdict
from tests.dashboards.test_auth import PASSWORD, session_headers
from tests.factories import make_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                                              models=models))
    for username, role in (("lan", "operator"), ("minh", "admin")):
        await accounts.add_user(username, role, PASSWORD, username.title(), actor="setup",
                                now=datetime.now(timezone.utc), users=client.app[dashboard_keys.USERS],
                                audit=client.app[dashboard_keys.AUDIT])
    return client


async def test_ticket_and_known_claim_changes_reach_the_audit_page(client: TestClient) -> None:
    app = client.app
    intake = app[intake_keys.SERVICE]
    ticket = await intake.create_manual(ManualReport("Khu phố 3 phường Dĩ An mất nước hai ngày"), actor="lan",
                                        ticket_id="manual-audit-1")
    await intake.update(ticket.id, TicketPatch(status=Status.IN_PROGRESS, note="đã gọi lại cho người dân"),
                        actor="lan")
    now = datetime.now(timezone.utc)
    await app[social_keys.SERVICE].register_known_claim(KnownClaim(
        "kc-audit-1", "Uống nước chanh nóng chữa khỏi COVID-19", Verdict.FALSE, date(2021, 8, 19), "minh", now,
        "Không có bằng chứng.", "https://binhduong.example.gov.vn/dinh-chinh/1"))
    cookie, _ = await session_headers(client, "minh")

    page = await (await client.get("/admin/audit?type=ticket", headers=cookie)).text()
    by_lan = await (await client.get("/admin/audit?actor=lan", headers=cookie)).text()
    everything = await (await client.get("/admin/audit", headers=cookie)).text()

    assert f'href="/operator/tickets/{ticket.id}"' in page
    # As sentences with display names and ticket numbers (issue 13), not action codes and ids.
    assert "Lan tạo phiếu (Nhập tay)" in page and "Lan thêm ghi chú" in page
    assert "Lan chuyển trạng thái: Mới → Đang xử lý" in page and ticket.number in page
    assert "thêm người dùng" not in page
    assert "Lan chuyển trạng thái" in by_lan and "ghi nhận tin đã kiểm chứng" not in by_lan
    assert "Minh ghi nhận tin đã kiểm chứng (Sai sự thật): “Uống nước chanh" in everything
    assert "Tin đã kiểm chứng" in everything
    assert "setup thêm người dùng lan (Điện thoại viên)" in everything
    bad = await client.get("/admin/audit?type=passwords", headers=cookie)
    assert bad.status == 400
