"""Index creation, alias swap and client-side migration against the real node."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from hotline import indices

pytestmark = pytest.mark.asyncio

SPEC_V1 = indices.IndexSpec(
    name="things", version=1,
    mapping={"dynamic": "strict", "properties": {"title": {"type": "text"}, "kind": {"type": "keyword"}}},
)
SPEC_V2 = replace(
    SPEC_V1, version=2,
    mapping={"dynamic": "strict", "properties": {"title": {"type": "text"}, "kind": {"type": "keyword"},
                                                 "kind_folded": {"type": "keyword",
                                                                 "normalizer": "lowercase_keyword"}}},
    upgrade=lambda doc: {**doc, "kind_folded": doc["kind"]},
)


async def _index_docs(es: AsyncElasticsearch, alias: str, n: int) -> None:
    for i in range(n):
        await es.index(index=alias, id=f"doc-{i}", document={"title": f"phong tỏa {i}", "kind": "Loại" if i % 2 else "Khác"})
    await es.indices.refresh(index=alias)


async def test_ensure_creates_versioned_index_behind_alias(es: AsyncElasticsearch, unique_prefix: str) -> None:
    state = await indices.ensure(es, SPEC_V1, unique_prefix)

    assert state.ok
    assert await indices.alias_targets(es, f"{unique_prefix}things") == (f"{unique_prefix}things-v1",)


async def test_ensure_is_idempotent_and_keeps_documents(es: AsyncElasticsearch, unique_prefix: str) -> None:
    await indices.ensure(es, SPEC_V1, unique_prefix)
    await _index_docs(es, f"{unique_prefix}things", 3)

    again = await indices.ensure(es, SPEC_V1, unique_prefix)

    assert again.ok
    assert (await es.count(index=f"{unique_prefix}things"))["count"] == 3


async def test_ensure_reports_an_alias_on_an_older_version(es: AsyncElasticsearch, unique_prefix: str) -> None:
    await indices.ensure(es, SPEC_V1, unique_prefix)

    state = await indices.ensure(es, SPEC_V2, unique_prefix)

    assert not state.ok
    assert state.current == (f"{unique_prefix}things-v1",)


async def test_migrate_copies_documents_and_swaps_alias(es: AsyncElasticsearch, unique_prefix: str) -> None:
    alias = f"{unique_prefix}things"
    await indices.ensure(es, SPEC_V1, unique_prefix)
    await _index_docs(es, alias, 25)

    done = await indices.migrate(es, SPEC_V2, unique_prefix)

    assert done.copied == 25
    assert await indices.alias_targets(es, alias) == (f"{unique_prefix}things-v2",)
    assert not await es.indices.exists(index=f"{unique_prefix}things-v1")
    found = await es.search(index=alias, query={"term": {"kind_folded": "loại"}}, size=0)
    assert found["hits"]["total"]["value"] == 12
    settings = (await es.indices.get_settings(index=f"{unique_prefix}things-v2"))[f"{unique_prefix}things-v2"]
    assert settings["settings"]["index"].get("refresh_interval") != "-1"


async def test_migrate_to_current_version_is_a_no_op(es: AsyncElasticsearch, unique_prefix: str) -> None:
    await indices.ensure(es, SPEC_V1, unique_prefix)

    done = await indices.migrate(es, SPEC_V1, unique_prefix)

    assert done.copied == 0
    assert done.source == (done.target,)


async def test_failed_migration_deletes_half_built_index_and_keeps_alias(
        es: AsyncElasticsearch, unique_prefix: str) -> None:
    alias = f"{unique_prefix}things"
    await indices.ensure(es, SPEC_V1, unique_prefix)
    await _index_docs(es, alias, 5)

    def broken_upgrade(doc: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("upgrade failed")

    with pytest.raises(RuntimeError, match="upgrade failed"):
        await indices.migrate(es, replace(SPEC_V2, upgrade=broken_upgrade), unique_prefix)

    assert not await es.indices.exists(index=f"{unique_prefix}things-v2")
    assert await indices.alias_targets(es, alias) == (f"{unique_prefix}things-v1",)
    assert (await es.count(index=alias))["count"] == 5


async def test_domain_indices_are_created_with_vietnamese_fields(es: AsyncElasticsearch, unique_prefix: str) -> None:
    states = await indices.ensure_all(es, unique_prefix)

    assert [s.alias for s in states] == [f"{unique_prefix}{spec.name}" for spec in indices.SPECS]
    assert {"tickets", "posts", "users", "sessions", "audit"} <= {spec.name for spec in indices.SPECS}
    mapping = (await es.indices.get_mapping(index=f"{unique_prefix}tickets"))[f"{unique_prefix}tickets-v1"]
    props = mapping["mappings"]["properties"]
    assert props["text_segmented"]["analyzer"] == "whitespace"
    assert props["text_folded"]["analyzer"] == "standard" and props["district"]["type"] == "keyword"


async def test_ticket_document_round_trip_and_folded_search(es: AsyncElasticsearch, unique_prefix: str) -> None:
    await indices.ensure_all(es, unique_prefix)
    alias = f"{unique_prefix}tickets"
    doc = {"id": "t-1", "number": "HL-000001", "channel": "sms", "status": "new", "district": "Dĩ An",
           "text": "Khu phố 3 Dĩ An bị phong tỏa, không có rau ăn",
           "text_segmented": "khu_phố 3 dĩ_an bị phong_tỏa , không có rau ăn",
           "text_folded": "khu pho 3 di an bi phong toa khong co rau an",
           "created_at": "2026-11-27T10:00:00+07:00"}

    await es.index(index=alias, id="t-1", document=doc, refresh="wait_for")

    assert (await es.get(index=alias, id="t-1"))["_source"] == doc
    hits = await es.search(index=alias, query={"bool": {"must": {"match": {"text_folded": "phong toa di an"}},
                                                        "filter": {"term": {"district": "Dĩ An"}}}})
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["t-1"]
