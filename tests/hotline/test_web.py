"""The real app against the real node: health, readiness, error shape."""
from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient
from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.settings import Settings
from hotline.web import create_app

pytestmark = pytest.mark.asyncio


async def test_healthz_answers_ok(aiohttp_client, settings: Settings, es: AsyncElasticsearch) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(create_app(settings, domains=()))  # no domain needed

    resp = await client.get("/healthz")

    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_start_up_creates_indices_and_readyz_says_ok(
        aiohttp_client, settings: Settings, es: AsyncElasticsearch, unique_prefix: str) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(create_app(replace(settings, index_prefix=unique_prefix)))

    resp = await client.get("/readyz")

    body = await resp.json()
    assert resp.status == 200, body
    assert body["status"] == "ok"
    assert {i["alias"] for i in body["indices"]} == {f"{unique_prefix}{spec.name}" for spec in indices.SPECS}
    assert await es.indices.exists_alias(name=f"{unique_prefix}tickets")


async def test_readyz_is_unavailable_when_an_alias_needs_migration(
        aiohttp_client, settings: Settings, es: AsyncElasticsearch, unique_prefix: str) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(create_app(replace(settings, index_prefix=unique_prefix)))
    tickets = indices.SPECS[0]
    await es.indices.create(index=f"{unique_prefix}tickets-v0")
    await es.indices.update_aliases(actions=[
        {"remove": {"index": tickets.concrete(unique_prefix), "alias": tickets.alias(unique_prefix)}},
        {"add": {"index": f"{unique_prefix}tickets-v0", "alias": tickets.alias(unique_prefix)}}])

    resp = await client.get("/readyz")

    body = await resp.json()
    assert resp.status == 503
    assert body["status"] == "unavailable"
    assert [i["ok"] for i in body["indices"]] == [spec.name != "tickets" for spec in indices.SPECS]


async def test_unknown_route_gets_a_json_error(aiohttp_client, settings: Settings, es: AsyncElasticsearch) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(create_app(settings, domains=()))  # no domain needed

    resp = await client.get("/no-such-page")

    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


async def test_wrong_method_gets_a_json_405(aiohttp_client, settings: Settings, es: AsyncElasticsearch) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(create_app(settings, domains=()))  # no domain needed

    resp = await client.post("/healthz")

    assert resp.status == 405
    assert (await resp.json())["error"] == "method_not_allowed"
    assert "GET" in resp.headers["Allow"]


async def test_every_answer_carries_the_security_headers_and_personal_data_is_not_cached(
        aiohttp_client, settings: Settings, es: AsyncElasticsearch, unique_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 14, #11: no CSP, framing, nosniff, referrer or caching headers; Server named aiohttp's version."""
    from tests.factories import auth, make_settings
    client: TestClient = await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix)))

    page = await client.get("/operator", headers=auth("operator"))
    api = await client.get("/api/tickets", headers=auth("leader"))
    login = await client.get("/login")
    missing = await client.get("/api/tickets/..x", headers=auth("leader"))
    static = await client.get("/static/site.css")

    for resp in (page, api, login, missing, static):
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert "aiohttp" not in resp.headers.get("Server", "").lower() and "python" not in resp.headers.get("Server", "").lower()
    for resp in (page, api, login, missing):
        assert resp.headers["Cache-Control"] == "no-store"
    assert "no-store" not in static.headers.get("Cache-Control", "")


async def test_templates_have_no_inline_script_handler_or_style() -> None:
    """The CSP (script-src 'self'; style-src 'self') would block them: everything lives in dashboards/static."""
    import re
    from pathlib import Path
    import dashboards
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b|javascript:", re.IGNORECASE)
    folder = Path(dashboards.__file__).parent / "templates"
    found = {p.name: inline.findall(p.read_text(encoding="utf-8")) for p in folder.glob("*.html")}

    assert found and {name: hits for name, hits in found.items() if hits} == {}
