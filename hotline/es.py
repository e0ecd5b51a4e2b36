"""The Elasticsearch client: one factory, one reachability check, one cleanup context."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from elastic_transport import ApiError, TransportError
from elasticsearch import AsyncElasticsearch

from hotline import indices, keys
from hotline.settings import Settings

log = logging.getLogger(__name__)


class SearchUnavailable(RuntimeError):
    """Elasticsearch cannot be reached or refuses to serve; the message is one line for operators."""


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
    return AsyncElasticsearch(
        settings.es_url,
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


async def es_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the client, check the cluster and the indices at start-up; close it at shutdown."""
    settings = app[keys.SETTINGS]
    specs: tuple[indices.IndexSpec, ...] = app.get(keys.INDICES, indices.SPECS)
    es = make_es(settings)
    try:
        await check_reachable(es, settings.es_url or "")
        await indices.ensure_all(es, settings.index_prefix, specs)
    except BaseException:
        await es.close()
        raise
    app[keys.ES] = es
    log.info("connected to Elasticsearch at %s (prefix %s)", settings.es_url, settings.index_prefix)
    yield
    await es.close()
