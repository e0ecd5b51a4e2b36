"""Wires the social monitor into the app (and the CLI): model, journal, collectors, scheduler, worker."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
import logging
from datetime import timedelta
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, Final

from aiohttp import web
from elasticsearch import AsyncElasticsearch

from hotline import indices, keys
from hotline.es import make_es, open_es
from hotline.fetch import FetchFailed, GuardedFetcher, policy_from, safe_url
from hotline.audit import AuditLog
from hotline.settings import Settings
from models import registry
from social_monitor import keys as social_keys
from social_monitor.analysis import Analyser, ProcessAnalyser, ThreadAnalyser
from social_monitor.clustering import FlagPolicy
from social_monitor.collectors import (Collector, FacebookCollector, RssCollector, TicketCollector,
                                       parse_sources)
from social_monitor.journal import PostJournal
from social_monitor.leases import LeaseStore
from social_monitor.matching import ClaimMatcher
from social_monitor.pairs import PairScorer
from social_monitor.scheduler import CollectorScheduler
from social_monitor.scoring import MisinformationScorer, Scorer
from social_monitor.service import SocialService
from social_monitor.store import SocialStore
from social_monitor.worker import IngestWorker

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES: Final = 50 * 1024 * 1024
"""At most this much of one attachment (FETCH_MAX_BYTES may lower it)."""
GROWTH_REFRESH_S: Final = 600.0


async def _refresh_growth_every(service: SocialService, interval_s: float) -> None:
    """Keep claims' 24-hour growth current between mentions (a quiet rumour must stop looking hot)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            changed = await service.refresh_growth()
            log.info("claim growth refreshed: %d claims changed", changed)
        except Exception:  # a failed round (Elasticsearch away) must not end the loop
            log.exception("claim growth refresh failed")


async def load_scorer(settings: Settings) -> Scorer | None:
    ref = settings.misinformation_model
    try:
        model = await asyncio.to_thread(registry.load, ref)
    except registry.ModelNotFound:
        log.error("no misinformation model %r: posts are grouped and matched but not scored", ref)
        return None
    return MisinformationScorer(model)


async def load_claim_matcher() -> ClaimMatcher | None:
    """The paraphrase matcher of issue 11 (models/claim_matcher.vN); without it, near-copy grouping."""
    try:
        artifact = await asyncio.to_thread(registry.load, "claim_matcher")
    except registry.ModelNotFound:
        log.error("no claim_matcher model: posts are grouped as near-copies only (train it with "
                  "`hotline claims train-matcher`)")
        return None
    return ClaimMatcher(PairScorer(artifact))


def _speech(settings: Settings) -> Any:
    if not settings.asr_model_dir:
        return None
    from intake.speech import make_engine  # the same engine as hotline recordings; wired here, not imported there
    return make_engine(settings.asr_model_dir)


def media_fetcher(fetcher: GuardedFetcher) -> Any:
    """Download a post's attachment through the guarded fetcher (https, public addresses, size and time limits)."""
    async def fetch(url: str) -> tuple[bytes, str]:
        fetched = await fetcher(url, max_bytes=MAX_MEDIA_BYTES)
        if fetched.status >= 400:
            raise FetchFailed(f"attachment {safe_url(url)} answered {fetched.status}")
        return fetched.body, fetched.content_type
    return fetch


def make_service(settings: Settings, es: AsyncElasticsearch, scorer: Scorer | None, *, speech: Any = None,
                 fetcher: GuardedFetcher | None = None, analyser: Analyser | None = None,
                 claim_matcher: ClaimMatcher | None = None) -> SocialService:
    """The service with every dependency the settings describe."""
    policy = FlagPolicy(score_threshold=float(settings.misinformation_threshold),
                        growth_min_mentions=int(settings.claim_growth_min_mentions),
                        growth_ratio=float(settings.claim_growth_ratio))
    return SocialService(store=SocialStore(es, settings.index_prefix), scorer=scorer, policy=policy, speech=speech,
                         fetch_media=media_fetcher(fetcher) if fetcher is not None else None, analyser=analyser,
                         audit=AuditLog.for_settings(settings, es), claim_matcher=claim_matcher)


def make_analyser(settings: Settings, scorer: Scorer | None) -> Analyser:
    """Where the CPU half of ingest runs: SOCIAL_ANALYSIS_PROCESSES worker processes, or a thread."""
    if settings.social_analysis_processes:
        return ProcessAnalyser(scorer, settings.social_analysis_processes)
    return ThreadAnalyser(scorer)


def make_leases(settings: Settings, es: AsyncElasticsearch) -> LeaseStore:
    """This replica's leases (sources, periodic rounds, escalation SMS), held as REPLICA_ID or hostname:pid."""
    return LeaseStore(es, settings.alias("leases"), settings.replica)


def make_collectors(settings: Settings, fetcher: GuardedFetcher, store: SocialStore) -> list[Collector]:
    """One collector per configured source, plus the hotline's misinformation tickets."""
    interval = float(settings.social_poll_interval_s)
    collectors: list[Collector] = [
        RssCollector(s.name, s.target, fetcher, interval_s=s.interval_s)
        for s in parse_sources(settings.social_feeds, default_interval_s=interval)]
    collectors += [
        FacebookCollector(s.name, s.target, fetcher, access_token=settings.facebook_access_token,
                          graph_base=settings.facebook_graph_base,
                          interval_s=s.interval_s)
        for s in parse_sources(settings.facebook_feeds, default_interval_s=interval)]
    collectors.append(TicketCollector(store, interval_s=float(settings.social_tickets_interval_s)))
    return collectors


async def social_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the model in a thread, open the journal, start the collectors and the ingest worker."""
    settings, es = app[keys.SETTINGS], app[keys.ES]
    models = app.get(keys.MODELS)
    scorer: Scorer | None
    claim_matcher: ClaimMatcher | None
    if models is not None and models.misinformation_ref == settings.misinformation_model:
        scorer = MisinformationScorer(models.misinformation) if models.misinformation is not None else None
        claim_matcher = ClaimMatcher(PairScorer(models.claim_matcher)) if models.claim_matcher is not None else None
        speech = await asyncio.to_thread(_speech, settings)
    else:
        scorer, speech, claim_matcher = await asyncio.gather(load_scorer(settings),
                                                             asyncio.to_thread(_speech, settings), load_claim_matcher())
    fetcher = GuardedFetcher(policy_from(settings))
    analyser = make_analyser(settings, scorer)
    service = make_service(settings, es, scorer, speech=speech, fetcher=fetcher, analyser=analyser,
                           claim_matcher=claim_matcher)
    journal = PostJournal(settings.data_dir / "social.sqlite3")
    worker = IngestWorker(journal, service, max_backoff_s=settings.journal_max_backoff_s,
                          retention=timedelta(days=settings.journal_retention_days))
    scheduler = CollectorScheduler(journal, make_collectors(settings, fetcher, service.store), on_accept=worker.notify,
                                   max_backoff_s=float(settings.social_max_backoff_s),
                                   leases=make_leases(settings, es), lease_ttl=timedelta(seconds=settings.lease_ttl_s))
    app[social_keys.CONFIG] = social_keys.SocialConfig(
        claimreview_publisher=settings.claimreview_publisher)
    app[social_keys.JOURNAL], app[social_keys.WORKER], app[social_keys.SCHEDULER] = journal, worker, scheduler
    app[social_keys.STORE], app[social_keys.SERVICE] = service.store, service
    tasks = [asyncio.create_task(worker.run(), name="social-ingest"), *scheduler.start(),
             asyncio.create_task(_refresh_growth_every(service, GROWTH_REFRESH_S), name="claim-growth")]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await fetcher.close()
    await asyncio.to_thread(analyser.close)
    journal.close()


@contextlib.asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[SocialService]:
    """The service for the CLI: a checked client, the indices, the model; closed on exit."""
    async with open_es(settings) as es:
        scorer, claim_matcher = await asyncio.gather(load_scorer(settings), load_claim_matcher())
        analyser = make_analyser(settings, scorer)
        try:
            yield make_service(settings, es, scorer, analyser=analyser, claim_matcher=claim_matcher)
        finally:
            await asyncio.to_thread(analyser.close)


@contextlib.asynccontextmanager
async def open_scratch_service(settings: Settings) -> AsyncIterator[SocialService]:
    """A service on throw-away indices (the prefix plus "scratch-<id>-"), deleted on exit: measurements such as
    `hotline claims evaluate` must start empty and leave nothing behind."""
    scratch = dataclasses.replace(settings, index_prefix=f"{settings.index_prefix}scratch-{uuid.uuid4().hex[:8]}-")
    try:
        async with open_service(scratch) as service:
            yield service
    finally:
        es = make_es(scratch)
        try:
            await es.indices.delete(index=f"{scratch.index_prefix}*", ignore_unavailable=True,
                                    expand_wildcards="all")
        finally:
            await es.close()
