"""Real headless Chromium against the real app and Elasticsearch: each role's pages, end to end.

Screenshots of every page land in test-artifacts/ for people to look at.
"""
from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from classifier.text import fold
from dashboards import keys as dashboard_keys
from dashboards import service as accounts
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.records import ManualReport
from social_monitor import keys as social_keys
from social_monitor.records import RawPost
from tests.dashboards.chromium import ARTIFACTS
from tests.factories import make_settings

pytestmark = pytest.mark.asyncio
PASSWORD = "mật-khẩu-thử-nghiệm"


@pytest.fixture
async def server(settings: Settings, es: Any, unique_prefix: str, tmp_path: Path) -> AsyncIterator[TestServer]:
    app = create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix,
                                   public_base_url="http://127.0.0.1"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    now = datetime.now(timezone.utc)
    for username, role in (("lan", "operator"), ("hoa", "leader"), ("minh", "admin"), ("mai", "comms")):
        await accounts.add_user(username, role, PASSWORD, username.title(), actor="test", now=now,
                                users=app[dashboard_keys.USERS], audit=app[dashboard_keys.AUDIT])
    service = app[intake_keys.SERVICE]
    for i, text in enumerate(["Khu phố 2 phường Dĩ An bị phong tỏa 5 ngày, nhà em hết gạo",
                              "ba em kho tho spo2 89 can xe cap cuu o Thuan Giao",
                              "cho hỏi lịch tiêm mũi 2 ở Thủ Dầu Một"]):
        await service.create_manual(ManualReport(text, caller=f"+8491234500{i}"), actor="test", ticket_id=f"demo-{i}")
    await app[intake_keys.STORE].refresh()
    rumour = ["Bình Dương sẽ phong tỏa toàn tỉnh từ 0 giờ ngày mai, mọi người đi mua gạo ngay",
              "binh duong se phong toa toan tinh tu 0h ngay mai, moi nguoi di mua gao ngay nhe",
              "NÓNG: Bình Dương phong tỏa toàn tỉnh từ 0 giờ mai, đi mua gạo ngay kẻo hết!!!"]
    posts = [RawPost.from_json({"id": f"p{i}", "text": text, "shares": 50 * (i + 1)}, default_source="zalo")
             for i, text in enumerate(rumour)]
    await app[social_keys.SERVICE].ingest(posts)
    await app[social_keys.STORE].refresh()
    yield server
    await server.close()


async def sign_in(browser: Browser, server: TestServer, username: str, *, width: int = 1280,
                  height: int = 900) -> Page:
    page = await browser.new_page(base_url=str(server.make_url("")), locale="vi-VN",
                                  viewport={"width": width, "height": height})
    await page.goto("/login")
    await page.fill('input[name="username"]', username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_load_state("networkidle")
    return page


async def test_wrong_password_shows_a_vietnamese_error(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page(base_url=str(server.make_url("")))
    await page.goto("/login")
    await page.fill('input[name="username"]', "lan")
    await page.fill('input[name="password"]', "sai-mat-khau-nhe")
    await page.click('button[type="submit"]')

    assert "Tên đăng nhập hoặc mật khẩu không đúng" in await page.inner_text(".error")
    await page.screenshot(path=ARTIFACTS / "login-error.png")


async def test_operator_triages_a_ticket_end_to_end(browser: Browser, server: TestServer) -> None:
    page = await sign_in(browser, server, "lan")
    assert page.url.endswith("/operator")
    first_row = page.locator("table.queue tbody tr").first
    assert "Khẩn cấp" in await first_row.inner_text()  # the emergency is at the top
    await page.screenshot(path=ARTIFACTS / "operator-queue.png", full_page=True)

    await page.click('tr[data-ticket="demo-0"] button.take')  # the row is updated in place, no reload
    await page.locator('tr[data-ticket="demo-0"] button.take').wait_for(state="detached")  # no eval under the CSP
    assert "Lan" in await page.locator('tr[data-ticket="demo-0"]').inner_text()

    await page.click('tr[data-ticket="demo-0"] a')
    await page.select_option("#new-status", "in_progress")
    await page.fill("#note", "Đã gọi lại, chuyển tổ dân phố hỗ trợ gạo")
    async with page.expect_navigation():
        await page.click("#save")
    assert await page.inner_text("#status") == "Đang xử lý"
    assert "Đã gọi lại" in await page.inner_text("#notes")

    await page.select_option("#new-status", "resolved")
    await page.select_option("#new-category", "social_support")
    async with page.expect_navigation():
        await page.click("#save")
    assert await page.inner_text("#status") == "Đã giải quyết"
    assert "Hỗ trợ an sinh" in await page.inner_text("#category")
    assert "xác nhận" in await page.inner_text(".card")
    await page.screenshot(path=ARTIFACTS / "operator-ticket.png", full_page=True)


async def test_leader_searches_without_diacritics_and_exports_csv(browser: Browser, server: TestServer) -> None:
    page = await sign_in(browser, server, "hoa")
    assert page.url.endswith("/trends")

    await page.fill('input[name="q"]', "phong toa di an")
    await page.click('form.filters button[type="submit"]')
    await page.wait_for_load_state("networkidle")
    assert (await page.inner_text("#result-count")).startswith("1 ")
    assert "phong tỏa" in await page.inner_text("#results")
    assert "phong toa toan tinh" in fold(await page.inner_text("#post-results")).lower()  # posts too
    await page.screenshot(path=ARTIFACTS / "leader-trends.png", full_page=True)

    async with page.expect_download() as info:
        await page.click("#export")
    download = await info.value
    rows = list(csv.reader(io.StringIO((await download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "so_phieu" and len(rows) == 2
    assert "phong tỏa" in rows[1][-1] and rows[1][8].count("*") > 0  # caller masked for leaders


async def test_admin_sees_users_and_the_audit_trail(browser: Browser, server: TestServer) -> None:
    page = await sign_in(browser, server, "minh")
    assert page.url.endswith("/admin/users")
    assert "lan" in await page.inner_text("table")
    await page.screenshot(path=ARTIFACTS / "admin-users.png", full_page=True)

    await page.goto("/admin/audit")
    assert "thêm người dùng lan (Điện thoại viên)" in await page.inner_text("table")
    await page.screenshot(path=ARTIFACTS / "admin-audit.png", full_page=True)


async def test_a_leader_cannot_open_the_operator_queue(browser: Browser, server: TestServer) -> None:
    page = await sign_in(browser, server, "hoa")

    response = await page.goto("/operator")

    assert response is not None and response.status == 403


async def test_comms_reviews_a_claim_to_a_verdict_and_registers_a_correction(browser: Browser,
                                                                            server: TestServer) -> None:
    page = await sign_in(browser, server, "mai")
    assert page.url.endswith("/comms")
    rows = page.locator("#claims tbody tr")
    assert await rows.count() == 1  # three wordings of one rumour, with and without diacritics
    assert "3" in await rows.first.inner_text()
    await page.screenshot(path=ARTIFACTS / "comms-claims.png", full_page=True)

    await rows.first.locator("a").click()
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#posts tbody tr").count() == 3
    await page.select_option("#new-state", "in_review")
    async with page.expect_navigation():
        await page.click("#save")
    assert await page.inner_text("#state") == "Đang xác minh"
    await page.select_option("#new-state", "verdict_given")
    await page.select_option("#new-verdict", "false")
    await page.fill("#correction-url", "https://binhduong.gov.vn/cai-chinh")
    await page.fill("#note", "Đã xác minh với Sở Y tế")
    async with page.expect_navigation():
        await page.click("#save")
    assert await page.inner_text("#state") == "Đã kết luận"
    assert await page.inner_text("#verdict") == "Sai sự thật"
    assert "binhduong.gov.vn/cai-chinh" in await page.inner_text("main")
    await page.screenshot(path=ARTIFACTS / "comms-claim.png", full_page=True)

    await page.goto("/comms")
    await page.fill('#known-claim textarea[name="text"]', "Uống nước lá đu đủ chữa khỏi COVID-19")
    await page.select_option('#known-claim select[name="verdict"]', "false")
    await page.fill('#known-claim input[name="correction_url"]', "https://moh.gov.vn/cai-chinh-la-du-du")
    async with page.expect_navigation():
        await page.click('#known-claim button[type="submit"]')
    known = await page.request.get("/api/known-claims")
    assert known.status == 200
    assert "moh.gov.vn/cai-chinh-la-du-du" in await known.text()


async def test_comms_merges_a_reworded_claim_in_then_splits_a_post_out(browser: Browser, server: TestServer) -> None:
    app = server.app
    assert app is not None
    reworded = RawPost.from_json({"id": "q1", "text": "Có tin mai cả tỉnh Bình Dương bị khóa chặt, ai chưa tích trữ "
                                                      "gạo thì lo mua lẹ đi", "likes": 7}, default_source="facebook")
    await app[social_keys.SERVICE].ingest([reworded])
    page = await sign_in(browser, server, "mai")
    assert await page.locator("#claims tbody tr").count() == 2
    await page.locator("#claims tbody tr", has_text="toàn tỉnh từ 0 giờ").first.locator("a").click()
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#posts tbody tr").count() == 3

    suggestion = page.locator("#similar li", has_text="mua lẹ đi")
    async with page.expect_navigation():  # the page reloads once the API merged the claims
        await suggestion.locator("button.merge").click()
    assert await page.locator("#posts tbody tr").count() == 4
    assert "Mai gộp tin đồn" in await page.inner_text("main")  # the history, as a sentence
    await page.screenshot(path=ARTIFACTS / "comms-claim-merged.png", full_page=True)

    await page.locator("#posts tbody tr", has_text="mua lẹ đi").locator("input.pick").check()
    async with page.expect_navigation():
        await page.click("#split")
    assert await page.locator("#posts tbody tr").count() == 3
    assert "Mai tách bài đăng thành tin đồn riêng" in await page.inner_text("main")
    await page.goto("/comms")
    assert await page.locator("#claims tbody tr").count() == 2
    pairs = [p async for p in app[social_keys.STORE].scan_pairs()]
    # The split undid the merge: the same three pairs of posts, now labelled different (the newest judgement).
    assert sorted((p.label.value, p.origin) for p in pairs) == [("different", "split")] * 3


@pytest.mark.parametrize(("username", "paths"), [
    ("lan", ["/operator", "/operator/tickets/demo-1"]),
    ("mai", ["/comms", "/comms?similar=phong+toa+toan+tinh"]),
    ("hoa", ["/trends", "/trends?q=phong+toa"]),
    ("minh", ["/admin/users", "/admin/audit"]),
])
async def test_every_page_fits_a_phone_screen(browser: Browser, server: TestServer, username: str,
                                              paths: list[str]) -> None:
    """A leader or an operator on call opens the pages on a phone: no sideways scrolling of the page itself
    (wide tables scroll inside their own box)."""
    page = await sign_in(browser, server, username, width=390, height=844)
    for path in paths:
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        await page.screenshot(path=ARTIFACTS / f"phone-{path.strip('/').replace('/', '-').split('?')[0]}.png",
                              full_page=True)
        assert overflow <= 0, f"{path} is {overflow}px wider than a 390px phone screen"
