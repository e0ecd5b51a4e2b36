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
    client: TestClient = await aiohttp_client(create_app(settings))

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
    client: TestClient = await aiohttp_client(create_app(settings))

    resp = await client.get("/no-such-page")

    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


async def test_wrong_method_gets_a_json_405(aiohttp_client, settings: Settings, es: AsyncElasticsearch) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(create_app(settings))

    resp = await client.post("/healthz")

    assert resp.status == 405
    assert (await resp.json())["error"] == "method_not_allowed"
    assert "GET" in resp.headers["Allow"]
