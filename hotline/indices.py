"""Versioned indices behind aliases: creation at start-up and client-side migration by alias swap.

Each domain declares NAME, VERSION, MAPPING and SETTINGS in its `index.py`. The concrete index is
`{prefix}{NAME}-v{VERSION}`; everybody reads and writes through the alias `{prefix}{NAME}`. A mapping change
is a new VERSION plus `hotline index migrate`, which copies documents with scan + bulk (the local node has no
`_reindex`) into the new index and swaps the alias atomically.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from elasticsearch import AsyncElasticsearch, BadRequestError, NotFoundError
from elasticsearch.helpers import async_bulk, async_scan

import dashboards.audit_index
import dashboards.sessions_index
import dashboards.throttle_index
import dashboards.users_index
import intake.index
import intake.isolation.index
import social_monitor.claim_pairs_index
import social_monitor.claims_index
import social_monitor.index
import social_monitor.known_claims_index
import social_monitor.leases_index

log = logging.getLogger(__name__)

# Analysis pieces every index may use; all are in Elasticsearch core, so no plugin is needed.
COMMON_ANALYSIS: Final[dict[str, Any]] = {
    "normalizer": {"lowercase_keyword": {"type": "custom", "filter": ["lowercase"]}},
}

Document = dict[str, Any]
REBUILT: Final = "-r"
"""Infix of an index rebuilt from the same mapping version (`hotline claims rebuild`): `claims-v1-r20261202t0300`."""


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """One versioned index: what it is called and how it is mapped."""

    name: str
    version: int
    mapping: Mapping[str, Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    upgrade: Callable[[Document], Document] | None = None
    """Turns a document of the previous version into this one during a migration (None: copy as is)."""

    @classmethod
    def from_module(cls, module: ModuleType) -> IndexSpec:
        """Read NAME, VERSION, MAPPING, SETTINGS (and an optional `upgrade`) from a domain's index.py."""
        return cls(module.NAME, module.VERSION, module.MAPPING, getattr(module, "SETTINGS", {}),
                   getattr(module, "upgrade", None))

    def alias(self, prefix: str) -> str:
        """The stable name readers and writers use."""
        return f"{prefix}{self.name}"

    def concrete(self, prefix: str) -> str:
        """The physical index for this version."""
        return f"{prefix}{self.name}-v{self.version}"

    def body(self) -> dict[str, Any]:
        """Settings and mappings for `indices.create`."""
        settings = copy.deepcopy(dict(self.settings))
        settings.setdefault("analysis", {})
        for kind, entries in COMMON_ANALYSIS.items():
            settings["analysis"].setdefault(kind, {}).update(copy.deepcopy(entries))
        return {"settings": settings, "mappings": copy.deepcopy(dict(self.mapping))}


SPECS: Final = tuple(IndexSpec.from_module(m) for m in (
    intake.index, intake.isolation.index, social_monitor.index, social_monitor.claims_index,
    social_monitor.known_claims_index, social_monitor.claim_pairs_index, dashboards.users_index,
    dashboards.sessions_index, dashboards.audit_index, social_monitor.leases_index,
    dashboards.throttle_index))


@dataclass(frozen=True, slots=True)
class IndexState:
    """Where an alias points now, compared with the version the code expects."""

    alias: str
    expected: str
    current: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the alias points at exactly the expected index, or a rebuild of it (`...-v1-r<time>`)."""
        return len(self.current) == 1 and (self.current[0] == self.expected
                                           or self.current[0].startswith(f"{self.expected}{REBUILT}"))

    def as_json(self) -> dict[str, Any]:
        """JSON form for /readyz and the CLI."""
        return {"alias": self.alias, "expected": self.expected, "current": list(self.current), "ok": self.ok}


async def alias_targets(es: AsyncElasticsearch, alias: str) -> tuple[str, ...]:
    """The indices an alias points at (empty if it does not exist)."""
    try:
        resp = await es.indices.get_alias(name=alias)
    except NotFoundError:
        return ()
    return tuple(sorted(resp.body))


async def state(es: AsyncElasticsearch, spec: IndexSpec, prefix: str) -> IndexState:
    """Compare the live alias with the spec."""
    return IndexState(spec.alias(prefix), spec.concrete(prefix), await alias_targets(es, spec.alias(prefix)))


async def ensure(es: AsyncElasticsearch, spec: IndexSpec, prefix: str) -> IndexState:
    """Create the index and its alias if the alias does not exist yet; never touch an existing one."""
    alias, concrete = spec.alias(prefix), spec.concrete(prefix)
    current = await alias_targets(es, alias)
    if not current:
        created = False
        if not await es.indices.exists(index=concrete):
            try:
                # The alias comes with the index: one cluster-state update instead of two (a test run makes
                # hundreds of these, and each one waits on the master).
                await es.indices.create(index=concrete, **spec.body(), aliases={alias: {}},
                                        wait_for_active_shards="1")
                created = True
                log.info("created index %s", concrete)
            except BadRequestError as err:
                # A busy node answers a create late; the client's retry then finds the index made.
                if err.error != "resource_already_exists_exception":
                    raise
        if not created:
            await es.indices.put_alias(index=concrete, name=alias)
        current = (concrete,)
    found = IndexState(alias, concrete, current)
    if not found.ok:
        log.warning("alias %s points at %s, code expects %s: run `hotline index migrate`",
                    alias, ",".join(current), concrete)
    return found


async def ensure_all(es: AsyncElasticsearch, prefix: str, specs: Iterable[IndexSpec] = SPECS) -> list[IndexState]:
    """Ensure every domain index (or those of `specs`) exists behind its alias (concurrently: start-up waits on
    the slowest)."""
    return list(await asyncio.gather(*(ensure(es, spec, prefix) for spec in specs)))


@dataclass(frozen=True, slots=True)
class Migration:
    """What a migration did."""

    alias: str
    source: tuple[str, ...]
    target: str
    copied: int

    def as_json(self) -> dict[str, Any]:
        """JSON form for the CLI."""
        return {"alias": self.alias, "source": list(self.source), "target": self.target, "copied": self.copied}


async def migrate(es: AsyncElasticsearch, spec: IndexSpec, prefix: str, *, keep_old: bool = False) -> Migration:
    """Copy the alias's documents into the spec's index and swap the alias; delete the new index on failure."""
    alias, target = spec.alias(prefix), spec.concrete(prefix)
    source = await alias_targets(es, alias)
    if IndexState(alias, target, source).ok:  # current, or rebuilt from the current mapping
        return Migration(alias, source, source[0], 0)
    if target in source:
        raise ValueError(f"alias {alias} points at {source}; fix it by hand before migrating")
    if await es.indices.exists(index=target):
        raise ValueError(f"{target} exists but the alias does not point at it; delete it or finish by hand")
    body = spec.body()
    final_settings = await _settings_to_restore(es, source, body["settings"])
    body["settings"].update({"number_of_replicas": 0, "refresh_interval": "-1"})
    await es.indices.create(index=target, **body, wait_for_active_shards="1")
    try:
        copied = await _copy(es, source, target, spec.upgrade) if source else 0
        await es.indices.put_settings(index=target, settings={"index": final_settings})
        await es.indices.refresh(index=target)
        actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in source]
        actions.append({"add": {"index": target, "alias": alias}})
        await es.indices.update_aliases(actions=actions)
    except BaseException:
        log.exception("migration of %s to %s failed; deleting the half-built index", alias, target)
        await es.indices.delete(index=target, ignore_unavailable=True)
        raise
    if not keep_old:
        for old in source:
            await es.indices.delete(index=old)
    log.info("migrated %s: %s -> %s (%d documents)", alias, ",".join(source), target, copied)
    return Migration(alias, source, target, copied)


async def _settings_to_restore(es: AsyncElasticsearch, source: tuple[str, ...],
                               wanted: Mapping[str, Any]) -> dict[str, Any]:
    # The copy runs with no replicas and no refresh; afterwards the new index gets what the spec asks for,
    # or else what the old index had, so a production cluster keeps its replica count.
    restored: dict[str, Any] = {"number_of_replicas": "1", "refresh_interval": None}
    if source:
        resp = await es.indices.get_settings(index=source[0], name="index.number_of_replicas,index.refresh_interval")
        old = resp.body[source[0]]["settings"]["index"]
        restored = {"number_of_replicas": old.get("number_of_replicas", "1"),
                    "refresh_interval": old.get("refresh_interval")}
    for key in restored:
        if key in wanted:
            restored[key] = wanted[key]
    return restored


async def _copy(es: AsyncElasticsearch, source: tuple[str, ...], target: str,
                upgrade: Callable[[Document], Document] | None) -> int:
    async def actions() -> Any:
        async for hit in async_scan(es, index=",".join(source), query={"query": {"match_all": {}}},
                                    size=1000, preserve_order=False):
            doc = hit["_source"]
            yield {"_op_type": "index", "_index": target, "_id": hit["_id"],
                   "_source": upgrade(doc) if upgrade else doc}

    ok, errors = await async_bulk(es, actions(), chunk_size=1000, max_retries=3, raise_on_error=True)
    return int(ok)
