"""Fixtures of the dashboard tests: one Chromium for the whole session, a clean slate of contexts per test."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from tests.dashboards.chromium import launch


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Launched once: starting Chromium costs seconds on a busy machine, and every test of a session shares it.
    Tests never share a page or its cookies: each `browser.new_page()` opens a context of its own."""
    async with launch() as browser:
        yield browser


@pytest.fixture
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The session's Chromium; the contexts (pages, cookies, storage) a test opened are closed after it."""
    yield chromium
    for context in chromium.contexts:
        await context.close()
