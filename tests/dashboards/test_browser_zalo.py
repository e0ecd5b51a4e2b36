"""Real headless Chromium: an operator answers a Zalo report from the ticket page and registers the citizen
for home-isolation follow-up (issue 17)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from dashboards import keys as dashboard_keys
from dashboards import service as accounts
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.errors import TicketNotFound
from intake.isolation.keys import ISOLATION
from tests.dashboards.chromium import ARTIFACTS
from tests.dashboards.test_browser import PASSWORD, sign_in
from tests.intake.test_zalo import zalo_settings
from tests.intake.zalo_fake import USER, FakeZalo, sign, text_event

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def setup(settings: Settings, es: Any, unique_prefix: str,
                tmp_path: Path) -> AsyncIterator[tuple[TestServer, FakeZalo, str]]:
    fake = FakeZalo()
    zalo_server = TestServer(fake.app(), host="127.0.0.1")
    await zalo_server.start_server()
    app = create_app(zalo_settings(settings, tmp_path, unique_prefix, str(zalo_server.make_url("")).rstrip("/"),
                                   public_base_url="http://127.0.0.1", twilio_account_sid=""))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await accounts.add_user("lan", "operator", PASSWORD, "Lan", actor="test", now=datetime.now(timezone.utc),
                            users=app[dashboard_keys.USERS], audit=app[dashboard_keys.AUDIT])
    body = text_event("Nhà em ở khu phố Tân Hòa phường Đông Hòa Dĩ An, em bị dương tính, xin được hướng dẫn")
    raw, headers = sign(body)
    async with aiohttp.ClientSession() as session:
        async with session.post(server.make_url("/zalo/webhook"), data=raw, headers=headers) as resp:
            assert resp.status == 200
    ticket_id = f"zalo-{body['message']['msg_id']}"
    for _ in range(200):
        try:
            ticket, _ = await app[intake_keys.STORE].get(ticket_id)
            if ticket.history[-1].action == "zalo_ack_sent":
                break
        except TicketNotFound:
            pass
        await asyncio.sleep(0.1)
    yield server, fake, ticket_id
    await server.close()
    await zalo_server.close()


async def test_operator_replies_by_zalo_and_registers_the_citizen_for_follow_up(
        browser: Browser, setup: tuple[TestServer, FakeZalo, str]) -> None:
    server, fake, ticket_id = setup
    page = await sign_in(browser, server, "lan")
    await page.goto(f"/operator/tickets/{ticket_id}")
    assert "Zalo" in await page.inner_text(".meta")

    await page.fill("#zalo-text", "Chào anh, trạm y tế phường Đông Hòa sẽ liên hệ hướng dẫn cách ly tại nhà.")
    async with page.expect_navigation():
        await page.click("#zalo-send")
    assert fake.texts_to(USER)[-1].startswith("Chào anh, trạm y tế")
    assert "[Trả lời qua Zalo]" in await page.inner_text("#notes")

    await page.fill("#f0-name", "Ngô Văn Mười")
    await page.fill("#f0-age", "58")
    await page.click("#f0-register")  # refused: no consent yet
    await page.wait_for_selector("#f0-error:not([hidden])")
    assert "đồng ý" in await page.inner_text("#f0-error")
    await page.check("#f0-consent")
    await page.click("#f0-register")
    await page.wait_for_selector("#f0-ok:not([hidden])")
    assert "Đông Hòa" in await page.inner_text("#f0-ok")
    await page.screenshot(path=ARTIFACTS / "operator-zalo-ticket.png", full_page=True)
    cases = await server.app[ISOLATION].cases.search({"query": {"term": {"zalo_user_id": USER}}})
    assert [(c.name, c.age, c.ward, c.ticket_id) for c in cases] == [("Ngô Văn Mười", 58, "Đông Hòa", ticket_id)]
