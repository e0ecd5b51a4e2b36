"""Fixtures of the social-monitor tests: a store on fresh indices, and a local server playing the sources."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.web import index_specs
from models import registry
from social_monitor.scoring import MisinformationScorer
from social_monitor.store import SocialStore

DATA = Path(__file__).resolve().parent.parent / "data" / "social"
GOOD_TOKEN = "EAAB-test-token-0123456789"


@pytest.fixture
async def store(es: AsyncElasticsearch, unique_prefix: str) -> SocialStore:
    """A store on fresh indices of this test only: those the social monitor reads and writes (posts, claims,
    known claims, claim pairs and the hotline's tickets), not the others (each one costs a cluster-state update)."""
    await indices.ensure_all(es, unique_prefix, index_specs({"social"}, core=False))
    return SocialStore(es, unique_prefix)


class Sources:
    """What the local source server serves; tests switch a source to failing by editing `broken`."""

    def __init__(self) -> None:
        self.broken: dict[str, int] = {}
        self.requests: list[str] = []


def make_source_app(sources: Sources) -> web.Application:
    """Feeds and a Graph API v19 look-alike, serving the recorded payloads of tests/data/social."""
    routes = web.RouteTableDef()

    def _feed(name: str, content_type: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            sources.requests.append(request.path_qs)
            if request.path in sources.broken:
                return web.Response(status=sources.broken[request.path], text="upstream error")
            return web.Response(body=(DATA / name).read_bytes(), content_type=content_type)
        return handler

    routes.get("/news.rss")(_feed("feed_news.rss", "application/rss+xml"))
    routes.get("/official.atom")(_feed("feed_official.atom", "application/atom+xml"))
    routes.get("/broken.xml")(_feed("feed_malformed.xml", "text/html"))

    @routes.get("/v19.0/{node}/feed")
    async def graph_feed(request: web.Request) -> web.Response:
        sources.requests.append(request.path_qs)
        if request.path in sources.broken:
            return web.json_response({"error": {"message": "An unknown error occurred", "type": "OAuthException",
                                                "code": 1, "fbtrace_id": "Aa1"}}, status=sources.broken[request.path])
        if request.query.get("access_token") != GOOD_TOKEN:
            return web.json_response(json.loads((DATA / "graph_expired_token.json").read_text()), status=400)
        page = "graph_feed_page2.json" if request.query.get("after") == "QVFIUmlQbVlfcGFnZTI" else "graph_feed_page1.json"
        body = json.loads((DATA / page).read_text())
        since = request.query.get("since")
        if since:  # as the Graph API does: only posts created at or after `since` (Unix seconds)
            from datetime import datetime
            kept = [p for p in body["data"] if datetime.strptime(
                p["created_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp() >= int(since)]
            if len(kept) < len(body["data"]):
                body["paging"].pop("next", None)
            body["data"] = kept
        return web.json_response(body)

    app = web.Application()
    app.add_routes(routes)
    return app


@pytest.fixture
async def source_server(aiohttp_server: Any) -> tuple[TestServer, Sources]:
    """The local server and its switchboard."""
    sources = Sources()
    server = await aiohttp_server(make_source_app(sources))
    return server, sources


@pytest.fixture(scope="session")
def scorer() -> MisinformationScorer:
    """The trained misinformation model (models/misinformation.vN), as the app loads it."""
    return MisinformationScorer(registry.load("misinformation"))
