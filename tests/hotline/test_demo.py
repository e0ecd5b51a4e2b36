"""`hotline demo load` fills a node with data every page can show."""
from __future__ import annotations

import asyncio
import re
from typing import Any

from click.testing import CliRunner
from elasticsearch import AsyncElasticsearch

from hotline.cli import cli
from hotline.settings import Settings


async def test_demo_load_creates_users_and_tickets_with_a_surge(settings: Settings, es: AsyncElasticsearch,
                                                               unique_prefix: str) -> None:
    env = {"ES_URL": settings.es_url or "", "INDEX_PREFIX": unique_prefix, "LOG_LEVEL": "WARNING",
           "DEMO_PASSWORD": "demo-password-123"}

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["demo", "load", "--tickets", "80"], env=env)

    assert result.exit_code == 0, result.output
    made = re.search(r"created 6 users, 81 tickets, (\d+) posts and 6 home-isolation cases", result.output)
    assert made is not None and 60 <= int(made[1]) <= 71  # exact copies in the sample are stored once
    tickets = f"{unique_prefix}tickets"
    await es.indices.refresh(index=tickets)
    counts: Any = await es.search(index=tickets, size=0, aggs={
        "district": {"terms": {"field": "district", "size": 20}}, "category": {"terms": {"field": "category"}}})
    districts = {b["key"]: b["doc_count"] for b in counts["aggregations"]["district"]["buckets"]}
    assert districts.get("Dĩ An", 0) >= 10
    assert len(counts["aggregations"]["category"]["buckets"]) >= 5
    again = await asyncio.to_thread(CliRunner().invoke, cli, ["demo", "load", "--tickets", "80"], env=env)
    assert "created 0 users, 0 tickets, 0 posts and 0 home-isolation cases" in again.output
    claims = await es.search(index=f"{unique_prefix}claims", size=0)
    assert 5 <= claims["hits"]["total"]["value"] <= 40  # rumours grouped, not one claim per post
    # Issue 17: a Zalo conversation and one ward's home-isolation cases, one of them worsening.
    zalo = await es.search(index=tickets, query={"term": {"channel": "zalo"}})
    assert zalo["hits"]["total"]["value"] == 1 and len(zalo["hits"]["hits"][0]["_source"]["messages"]) == 3
    cases = f"{unique_prefix}isolation_cases"
    await es.indices.refresh(index=cases)
    risks: Any = await es.search(index=cases, size=0, aggs={"risk": {"terms": {"field": "risk"}},
                                                            "place": {"terms": {"field": "place"}}})
    assert {b["key"] for b in risks["aggregations"]["place"]["buckets"]} == {"Dĩ An/Đông Hòa"}
    assert {b["key"] for b in risks["aggregations"]["risk"]["buckets"]} >= {"red", "yellow", "green"}
