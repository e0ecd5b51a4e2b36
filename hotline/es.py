"""The Elasticsearch client: one factory, one reachability check, one cleanup context."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from elastic_transport import ApiError, TransportError
from elasticsearch import AsyncElasticsearch

from hotline import indices, keys
from hotline.kernel.errors import SearchUnavailable
from hotline.settings import Settings

log = logging.getLogger(__name__)


def make_es(settings: Settings) -> AsyncElasticsearch:
    """Build the async client for `settings.es_url` (credentials only from the environment)."""
    if settings.es_url is None:
        raise SearchUnavailable("ES_URL is not set and no local search node was started")
    auth: dict[str, object] = {}
    if settings.es_api_key:
        auth["api_key"] = settings.es_api_key
    elif settings.es_username and settings.es_password:
        auth["basic_auth"] = (settings.es_username, settings.es_password)
    if settings.es_ca_certs:
        auth["ca_certs"] = settings.es_ca_certs
    # ES_URL may list several nodes of one cluster, comma-separated: the client spreads requests over them
    # and keeps going when one is down (deploy/replicas.compose.yml).
    hosts = [url.strip() for url in settings.es_url.split(",") if url.strip()]
    return AsyncElasticsearch(
        hosts,
        request_timeout=settings.es_timeout_s,
        max_retries=2,
        retry_on_timeout=True,
        **auth,  # type: ignore[arg-type]
    )


async def check_reachable(es: AsyncElasticsearch, url: str) -> dict[str, object]:
    """Return cluster health, or raise SearchUnavailable with a one-line reason."""
    try:
        # cluster.health, not ping(): health works on every cluster whatever its root endpoint does.
        health = await es.options(max_retries=0, request_timeout=5).cluster.health()
    except (TransportError, ApiError) as err:
        reason = (getattr(err, "message", "") or str(err) or type(err).__name__).splitlines()[0]
        raise SearchUnavailable(f"Elasticsearch is not reachable at {url}: {reason}") from err
    status = health.body.get("status")
    if status == "red":
        raise SearchUnavailable(f"Elasticsearch at {url} reports cluster status red")
    return dict(health.body)


@contextlib.asynccontextmanager
async def open_es(settings: Settings, *, ensure_indices: bool = True,
                  specs: tuple[indices.IndexSpec, ...] = indices.SPECS) -> AsyncIterator[AsyncElasticsearch]:
    """The one way to get a checked client: reachable, cluster not red, and (unless told otherwise) every index
    alias in place; closed on exit. The app, the CLI and the external worker all open it here (issue 15)."""
    es = make_es(settings)
    try:
        await check_reachable(es, settings.es_url or "")
        if ensure_indices:
            await indices.ensure_all(es, settings.index_prefix, specs)
        yield es
    finally:
        await es.close()


async def es_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the checked client at start-up; close it at shutdown."""
    settings = app[keys.SETTINGS]
    specs: tuple[indices.IndexSpec, ...] = app.get(keys.INDICES, indices.SPECS)  # only the app's domains' indices
    async with open_es(settings, specs=specs) as es:
        app[keys.ES] = es
        log.info("connected to Elasticsearch at %s (prefix %s)", settings.es_url, settings.index_prefix)
        yield
