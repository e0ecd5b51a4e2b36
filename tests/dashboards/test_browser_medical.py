"""Real headless Chromium: the ward medical team's page of home-isolation cases, and the leaders' counts."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from dashboards import keys as dashboard_keys
from dashboards import service as accounts
from hotline.settings import Settings
from hotline.web import create_app
from intake.isolation.keys import ISOLATION
from intake.isolation.records import CaseRegistration
from tests.dashboards.chromium import ARTIFACTS
from tests.dashboards.test_browser import PASSWORD, sign_in
from tests.factories import make_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def server(settings: Settings, es: Any, unique_prefix: str, tmp_path: Path) -> AsyncIterator[TestServer]:
    # No Twilio account: messages to patients and the on-call SMS are not sent (the ticket still is made).
    app = create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix, twilio_account_sid="",
                                   public_base_url="http://127.0.0.1"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    now = datetime.now(timezone.utc)
    users, audit = app[dashboard_keys.USERS], app[dashboard_keys.AUDIT]
    await accounts.add_user("yt.donghoa", "medical", PASSWORD, "Trạm y tế Đông Hòa", actor="test", now=now,
                            users=users, audit=audit, wards=("Dĩ An/Đông Hòa",))
    await accounts.add_user("hoa", "leader", PASSWORD, "Hoa", actor="test", now=now, users=users, audit=audit)
    isolation = app[ISOLATION]
    today = isolation.latest_today()

    async def case(name: str, phone: str, ward: str, *answers: str, age: int = 45) -> None:
        reg = CaseRegistration(name, True, today - timedelta(days=3), "khu phố Bình Minh", "Dĩ An", ward, phone,
                               age=age)
        await isolation.register(reg, actor="test")
        for hours, text in enumerate(answers):
            await isolation.take_reply(phone, text, now - timedelta(hours=len(answers) - hours))
    await case("Trần Thị Bảy", "+84911000001", "Đông Hòa", "spo2 97", "spo2 96", "spo2 98 khong sot")
    await case("Lê Văn Tám", "+84911000002", "Đông Hòa", "spo2 97", "spo2 95", "spo2 91, hơi khó thở", age=68)
    await case("Phạm Văn Chín", "+84911000003", "Tân Bình", "spo2 90")
    yield server
    await server.close()


async def test_the_ward_team_sees_its_cases_by_risk_and_acts_in_one_click(browser: Browser,
                                                                         server: TestServer) -> None:
    page = await sign_in(browser, server, "yt.donghoa")
    assert page.url.endswith("/medical")
    rows = page.locator("#cases tbody tr")
    assert await rows.count() == 2  # Tân Bình's patient belongs to another ward's team
    first = await rows.first.inner_text()
    assert "Lê Văn Tám" in first and "Nguy cơ cao" in first and "SpO2 91%" in first
    assert "Phạm Văn Chín" not in await page.inner_text("main")
    assert await page.locator("#cases svg.spark polyline").count() == 2
    html = await page.content()
    assert not re.search(r"<script>|<script(?![^>]*src=)[^>]*>|\sstyle=|\son[a-z]+=", html)  # strict CSP ready
    await page.screenshot(path=ARTIFACTS / "medical-cases.png", full_page=True)

    async with page.expect_navigation():
        await rows.first.locator("button.contacted").click()
    assert "đã liên hệ" in await page.inner_text("[role=status]")
    assert "Cần chú ý" in await page.locator("#cases tbody tr").first.inner_text()

    red_id = await page.locator("#cases tbody tr").first.get_attribute("data-case")
    async with page.expect_navigation():
        await page.locator(f'tr[data-case="{red_id}"] button.hospital').click()
    assert await page.locator("#cases tbody tr").count() == 1
    assert "Lê Văn Tám" in await page.inner_text("#closed") and "Đã chuyển viện" in await page.inner_text("#closed")
    await page.screenshot(path=ARTIFACTS / "medical-after-actions.png", full_page=True)


async def test_a_ward_team_cannot_act_on_another_wards_case(browser: Browser, server: TestServer) -> None:
    page = await sign_in(browser, server, "yt.donghoa")
    csrf = await page.get_attribute('meta[name="csrf-token"]', "content")
    other = (await server.app[ISOLATION].cases.search({"query": {"term": {"ward": "Tân Bình"}}, "size": 1}))[0]

    resp = await page.request.post(f"/medical/cases/{other.id}/hospital", form={"csrf_token": csrf or ""},
                                   max_redirects=0)

    assert resp.status == 403
    assert (await server.app[ISOLATION].cases.get(other.id))[0].status == "active"


async def test_leaders_see_counts_per_ward_without_names(browser: Browser, server: TestServer) -> None:
    page = await sign_in(browser, server, "hoa")
    block = await page.inner_text("#isolation-counts")
    assert "Đông Hòa" in block and "Tân Bình" in block
    assert "Lê Văn Tám" not in await page.inner_text("main")
    response = await page.goto("/medical")
    assert response is not None and response.status == 403
    await page.goto("/trends")
    await page.locator("#isolation-counts").screenshot(path=ARTIFACTS / "trends-isolation.png")
