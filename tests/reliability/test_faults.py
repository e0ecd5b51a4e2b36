"""Short runs of the fault scenarios: nothing accepted is lost or stored twice."""
from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from hotline import search_node
from hotline.settings import Settings
from tests.reliability.storm import app_killed_mid_storm, search_down_during_storm

pytestmark = pytest.mark.asyncio


async def test_app_killed_mid_storm_loses_nothing(settings: Settings, es: AsyncElasticsearch, unique_prefix: str,
                                                  tmp_path: Path) -> None:
    # Only the app dies here, so it runs on the session's node under a prefix of its own (a node of its own
    # cost a JVM start); the outage test below stops Elasticsearch and keeps a private node.
    assert settings.es_url
    tally = await app_killed_mid_storm(settings.es_url, tmp_path, n=120, prefix=unique_prefix)

    assert (tally.sent, tally.stored, tally.duplicates, tally.lost) == (120, 120, 0, 0)


async def test_search_down_during_storm_loses_nothing(tmp_path: Path) -> None:
    node = search_node.start(tmp_path / "node", port=0, heap="512m")
    port = int(node.url.rsplit(":", 1)[1])
    try:
        tally = await search_down_during_storm(tmp_path / "node", port, node.url, tmp_path, outage_s=5, n=120)
    finally:
        search_node.stop(tmp_path / "node")

    assert (tally.sent, tally.stored, tally.duplicates, tally.lost) == (120, 120, 0, 0)
