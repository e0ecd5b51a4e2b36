"""The operator and leader consoles in real headless Chromium (issue 13): one app for the module, the session's browser.

Screenshots land in test-artifacts/ (phone-width ones as phone-*.png) for people to look at.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from dashboards import keys as dashboard_keys
from dashboards import service as accounts
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.records import ManualReport
from tests.dashboards.chromium import ARTIFACTS
from tests.dashboards.test_browser import PASSWORD
from tests.factories import make_settings
from tests.intake.test_twilio_rest import FakeTwilio

pytestmark = pytest.mark.asyncio(loop_scope="session")

TEXTS = {
    "lockdown": "Khu phố 2 phường Dĩ An bị phong tỏa 5 ngày, nhà em hết gạo",
    "emergency": "ba em kho tho spo2 89 can xe cap cuu o Thuan Giao",
    "vaccine": "cho hỏi lịch tiêm mũi 2 ở Thủ Dầu Một",
    "room": "phòng trọ ở Dĩ An bị chủ nhà đuổi",
    "water": "Hẻm 12 Bình Chuẩn mất nước 3 ngày rồi",
    "water-again": "hem 12 binh chuan mat nuoc may ngay roi",
}
SURGE = [f"Khu phố {n} phường Tân Đông Hiệp, Dĩ An bị phong tỏa, không ai được ra ngoài" for n in range(3, 9)]


@dataclass
class Console:
    """The running app, its fake Twilio, the browser, and the tickets by name."""

    server: TestServer
    app: Any
    twilio: FakeTwilio
    browser: Browser
    tickets: dict[str, Any]

    async def sign_in(self, username: str, *, width: int = 1280, height: int = 900) -> Page:
        page = await self.browser.new_page(base_url=str(self.server.make_url("")), locale="vi-VN",
                                           viewport={"width": width, "height": height})
        await page.goto("/login")
        await page.fill('input[name="username"]', username)
        await page.fill('input[name="password"]', PASSWORD)
        await page.click('button[type="submit"]')
        await page.wait_for_load_state("networkidle")
        return page

    async def ticket(self, name: str) -> Any:
        ticket, _ = await self.app[intake_keys.STORE].get(self.tickets[name].id)
        return ticket


@pytest.fixture(scope="module")
async def console(settings: Settings, es: Any, tmp_path_factory: pytest.TempPathFactory,
                  chromium: Browser) -> AsyncIterator[Console]:
    prefix = f"{settings.index_prefix}{uuid.uuid4().hex[:6]}-"
    fake = FakeTwilio(b"")
    twilio = TestServer(fake.app())
    await twilio.start_server()
    app = create_app(make_settings(settings, tmp_path_factory.mktemp("console"), index_prefix=prefix,
                                   public_base_url="http://127.0.0.1",
                                   twilio_api_base=str(twilio.make_url("")).rstrip("/")))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    now = datetime.now(timezone.utc)
    for username, role in (("lan", "operator"), ("binh", "operator"), ("hoa", "leader"), ("minh", "admin")):
        await accounts.add_user(username, role, PASSWORD, username.title(), actor="test", now=now,
                                users=app[dashboard_keys.USERS], audit=app[dashboard_keys.AUDIT])
    service = app[intake_keys.SERVICE]
    tickets = {}
    for i, (name, text) in enumerate(TEXTS.items()):
        caller = "+84912345000" if name in ("lockdown", "vaccine") else f"+8491234510{i}"
        tickets[name] = await service.create_manual(ManualReport(text, caller=caller), actor="test",
                                                    ticket_id=f"t-{name}")
    for i, text in enumerate(SURGE):
        await service.create_manual(ManualReport(text, caller=f"+8490000000{i}"), actor="test", ticket_id=f"surge-{i}")
    await app[intake_keys.STORE].refresh()
    yield Console(server, app, fake, chromium, tickets)  # the session's Chromium (tests/dashboards/conftest.py)
    for context in chromium.contexts:  # the module's pages
        await context.close()
    await server.close()
    await twilio.close()
    await es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")


async def test_two_operators_race_to_take_one_ticket_and_the_loser_sees_who_has_it(console: Console) -> None:
    lan, binh = await console.sign_in("lan"), await console.sign_in("binh")
    row = 'tr[data-ticket="t-emergency"]'
    assert await lan.locator("table.queue tbody tr").first.get_attribute("data-ticket") == "t-emergency"
    await binh.fill('#queue-filters input[name="q"]', "đang gõ dở")  # a form being edited must survive

    await asyncio.gather(lan.click(f"{row} button.take"), binh.click(f"{row} button.take"))
    # A locator wait, not wait_for_function: the CSP forbids the eval a string predicate needs.
    await asyncio.gather(*(p.locator(f"{row} button.take").wait_for(state="detached") for p in (lan, binh)))

    winner = (await console.ticket("emergency")).assignee
    assert winner in ("lan", "binh")
    loser = binh if winner == "lan" else lan
    error = await loser.inner_text("#action-error")
    assert "Người xử lý hiện tại: " + winner in error
    assert winner.title() in await loser.inner_text(f"{row} td.holder")  # the row was updated in place
    assert await binh.input_value('#queue-filters input[name="q"]') == "đang gõ dở"
    await loser.screenshot(path=ARTIFACTS / "operator-race-lost.png", full_page=True)
    await lan.close()
    await binh.close()


async def test_operator_finds_tickets_by_number_and_by_phone_and_sees_earlier_and_later_contacts(
        console: Console) -> None:
    page = await console.sign_in("lan")
    number = console.tickets["lockdown"].number

    await page.fill('#queue-filters input[name="q"]', number.lower())
    await page.press('#queue-filters input[name="q"]', "Enter")
    await page.wait_for_load_state("networkidle")
    assert [await r.get_attribute("data-ticket") for r in await page.locator("table.queue tbody tr").all()] == [
        "t-lockdown"]

    await page.fill('#queue-filters input[name="q"]', "0912.345.000")
    await page.press('#queue-filters input[name="q"]', "Enter")
    await page.wait_for_load_state("networkidle")
    found = {await r.get_attribute("data-ticket") for r in await page.locator("table.queue tbody tr").all()}
    assert found == {"t-lockdown", "t-vaccine"}
    await page.screenshot(path=ARTIFACTS / "operator-lookup-phone.png", full_page=True)

    await page.goto("/operator/tickets/t-vaccine")
    assert "Liên hệ trước" in await page.inner_text("#earlier") and number in await page.inner_text("#earlier")
    assert "Không có" in await page.inner_text("#later")
    await page.goto("/operator/tickets/t-lockdown")
    assert console.tickets["vaccine"].number in await page.inner_text("#later")
    await page.close()


async def test_district_picker_matches_without_accents(console: Console) -> None:
    page = await console.sign_in("lan")

    await page.goto("/operator?district=di+an")

    rows = page.locator("table.queue tbody tr[data-ticket]")
    assert await rows.count() >= 2
    assert all("Dĩ An" in text for text in await rows.all_inner_texts())
    assert await page.input_value('#queue-filters input[name="district"]') == "Dĩ An"
    await page.close()


async def test_operator_replies_by_sms_through_twilio_once(console: Console) -> None:
    page = await console.sign_in("lan")
    await page.goto("/operator/tickets/t-lockdown")

    await page.fill("#reply-body", "Tổ dân phố sẽ mang gạo đến trong chiều nay.")
    async with page.expect_navigation(timeout=30_000):  # the page reloads once the outcome is recorded
        await page.click("#reply-send")

    assert "Đã gửi" in await page.inner_text("#replies")
    assert [(m["To"], m["Body"]) for m in console.twilio.sms] == [
        ("+84912345000", "Tổ dân phố sẽ mang gạo đến trong chiều nay.")]
    assert "Lan nhắn tin trả lời người gọi" in await page.inner_text("#history")
    await page.screenshot(path=ARTIFACTS / "operator-sms-reply.png", full_page=True)
    await page.close()


async def test_operator_assigns_sets_a_call_back_merges_by_number_and_sees_it_in_vietnamese(
        console: Console) -> None:
    page = await console.sign_in("lan")
    target = console.tickets["water"]
    await page.goto(f"/operator/tickets/{target.id}")

    await page.select_option("#new-assignee", "binh")
    await page.select_option("#new-status", "in_progress")
    due = (datetime.now(timezone(timedelta(hours=7))) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    await page.fill("#follow-up", due)
    async with page.expect_navigation():
        await page.click("#save")
    assert await page.inner_text("#assignee") == "Binh"
    shown = datetime.strptime(due, "%Y-%m-%dT%H:%M").strftime("%d/%m/%Y %H:%M")
    assert shown in await page.inner_text("#follow-up-at")  # wall-clock time in Việt Nam, as typed
    history = await page.inner_text("#history")
    assert "Lan chuyển trạng thái: Đã nhận → Đang xử lý" in history or "chuyển trạng thái: Mới → Đang xử lý" in history
    assert "giao cho Binh" in history

    await page.goto("/operator/tickets/t-water-again")
    await page.fill("#merge-into", target.number.lower())
    async with page.expect_navigation():
        await page.click("#save")
    assert await page.inner_text("#merged-into") == target.number
    await page.click("#merged-into")
    await page.wait_for_load_state("networkidle")
    assert console.tickets["water-again"].number in await page.inner_text("#merged-here")

    await page.goto("/operator")
    assert target.number in await page.inner_text("#callbacks")  # the call-back is due: reminded on top
    await page.screenshot(path=ARTIFACTS / "operator-queue-callback.png", full_page=True)
    await page.close()


async def test_keyboard_moves_opens_and_takes_with_a_help_overlay(console: Console) -> None:
    page = await console.sign_in("lan")
    await page.goto("/operator?unassigned=1")
    rows = page.locator("table.queue tbody tr[data-ticket]")
    first, second = await rows.nth(0).get_attribute("data-ticket"), await rows.nth(1).get_attribute("data-ticket")

    await page.keyboard.press("?")
    assert await page.is_visible("#help")
    await page.screenshot(path=ARTIFACTS / "operator-keyboard-help.png")
    await page.keyboard.press("Escape")
    assert not await page.is_visible("#help")
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await page.keyboard.press("k")
    assert await page.get_attribute("tr.selected", "data-ticket") == first
    await page.keyboard.press("t")
    await page.locator(f'tr[data-ticket="{first}"] button.take').wait_for(state="detached")
    assert (await console.app[intake_keys.STORE].get(first))[0].assignee == "lan"
    await page.keyboard.press("j")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith(f"/operator/tickets/{second}")
    await page.close()


async def test_category_correction_replaces_the_confidence(console: Console) -> None:
    page = await console.sign_in("lan")
    await page.goto("/operator/tickets/t-room")
    assert "%" in await page.inner_text("#confidence")

    await page.select_option("#new-category", "public_order")
    async with page.expect_navigation():
        await page.click("#save")

    assert "sửa bởi người" in await page.inner_text("#confidence")
    assert "%" not in await page.inner_text("#confidence")
    await page.close()


async def test_leader_search_requires_every_word_and_drills_down_from_bar_cell_and_spike(console: Console) -> None:
    page = await console.sign_in("hoa")
    await page.fill('input[name="q"]', "phong toa di an")
    await page.click('form.filters button[type="submit"]')
    await page.wait_for_load_state("networkidle")
    results = await page.inner_text("#results")
    assert (await page.inner_text("#result-count")).startswith(f"{1 + len(SURGE)} ")
    assert "phòng trọ" not in results and "phong tỏa" in results
    await page.screenshot(path=ARTIFACTS / "leader-trends-search.png", full_page=True)

    await page.locator("#chart a.bar").first.click()
    await page.wait_for_load_state("networkidle")
    assert "from=" in page.url and "category=" in page.url
    assert int((await page.inner_text("#result-count")).split()[0]) >= 1

    await page.goto("/trends")
    await page.locator("#heat tbody tr").first.locator("td.cell a").first.click()
    await page.wait_for_load_state("networkidle")
    assert "district=D%C4%A9+An" in page.url and "category=" in page.url
    assert all("Dĩ An" in text for text in await page.locator('#results td[data-label="Địa bàn"]').all_inner_texts())

    await page.goto("/trends")
    spike = page.locator("#spikes a").first
    assert "Dĩ An" in await spike.inner_text()
    await spike.click()
    await page.wait_for_load_state("networkidle")
    assert int((await page.inner_text("#result-count")).split()[0]) >= len(SURGE)
    await page.close()


async def test_error_pages_are_vietnamese_pages_for_browsers(console: Console) -> None:
    page = await console.sign_in("lan")

    response = await page.goto("/operator/tickets/no-such-ticket")

    assert response is not None and response.status == 404
    assert "Không tìm thấy" in await page.inner_text("h1")
    api = await page.request.get("/api/tickets/no-such-ticket", headers={"Accept": "application/json"})
    assert api.status == 404 and (await api.json())["error"] == "ticket_not_found"
    await page.close()


PAGES = [("lan", ["/operator", "/operator/tickets/t-lockdown", "/operator/tickets/nope"]),
         ("hoa", ["/trends", "/trends?q=phong+toa+di+an"]), ("minh", ["/admin/users", "/admin/audit", "/comms"])]


async def test_every_console_page_fits_a_phone_and_its_tables_keep_their_labels(console: Console) -> None:
    login = await console.browser.new_page(base_url=str(console.server.make_url("")),
                                           viewport={"width": 390, "height": 844})
    await login.goto("/login")
    await login.screenshot(path=ARTIFACTS / "phone-console-login.png", full_page=True)
    assert await login.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    await login.close()
    for username, paths in PAGES:
        page = await console.sign_in(username, width=390, height=844)
        for path in paths:
            await page.goto(path)
            await page.wait_for_load_state("networkidle")
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-").replace("+", "-")
            await page.screenshot(path=ARTIFACTS / f"phone-console-{name}.png", full_page=True)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than a 390px phone screen"
            labels = await page.evaluate("""Array.from(document.querySelectorAll('table.cards tbody td[data-label]'))
                .filter(td => td.dataset.label && td.offsetParent)
                .map(td => getComputedStyle(td, '::before').content)""")
            assert all(label not in ("none", "normal", '""') for label in labels), path
        await page.close()
