"""`hotline claims rebuild`: the index side of re-grouping every post (social_monitor/rebuild.py does the rest).

New concrete indices `{prefix}posts-v{N}-r{time}` and `{prefix}claims-v{N}-r{time}` are filled by the
service's own ingest; at the end one `update_aliases` call points both aliases at them, so readers see the old
claims or the new ones, never half of each. On any failure or interruption the new indices are deleted and the
old ones are untouched. Run it with the ingest worker stopped (or accept that posts it writes in the seconds
between the last catch-up and the swap are regrouped only by the next rebuild).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.settings import Settings
from hotline.social_ctx import load_claim_matcher, load_scorer, make_service
from social_monitor.rebuild import RebuildReport, rebuild
from social_monitor.store import SocialStore

log = logging.getLogger(__name__)

REBUILT_INDICES = ("posts", "claims")


async def rebuild_claims(settings: Settings, es: AsyncElasticsearch, *, on_start: Callable[[int], None],
                         on_progress: Callable[[int], None], batch: int = 500,
                         keep_old: bool = False) -> RebuildReport:
    """Regroup every post into new indices, carry reviews over, swap the aliases; old indices deleted unless kept."""
    prefix = settings.index_prefix
    await indices.ensure_all(es, prefix)
    specs = {spec.name: spec for spec in indices.SPECS}
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dt%H%M%S")
    new = {name: f"{specs[name].concrete(prefix)}{indices.REBUILT}{stamp}" for name in REBUILT_INDICES}
    old = {name: await indices.alias_targets(es, specs[name].alias(prefix)) for name in REBUILT_INDICES}
    for name, index in new.items():
        await es.indices.create(index=index, **specs[name].body(), wait_for_active_shards="1")
    try:
        current = make_service(settings, es, await load_scorer(settings), claim_matcher=await load_claim_matcher())
        target = replace(current, store=SocialStore(es, prefix, posts=new["posts"], claims=new["claims"]), audit=None)
        report = await rebuild(current.store, target, now=now, batch=batch, on_start=on_start,
                               on_progress=on_progress)
        actions: list[dict[str, dict[str, str]]] = []
        for name in REBUILT_INDICES:
            alias = specs[name].alias(prefix)
            actions += [{"remove": {"index": index, "alias": alias}} for index in old[name]]
            actions.append({"add": {"index": new[name], "alias": alias}})
        await es.indices.update_aliases(actions=actions)
    except BaseException:
        log.exception("claims rebuild failed; deleting %s, the old claims stay", ", ".join(new.values()))
        await es.indices.delete(index=",".join(new.values()), ignore_unavailable=True)
        raise
    if not keep_old:
        for index in (i for targets in old.values() for i in targets):
            await es.indices.delete(index=index, ignore_unavailable=True)
    log.info("claims rebuilt into %s", ", ".join(new.values()))
    return report
