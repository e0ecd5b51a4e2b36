"""Wires the intake domain into the app: models, journal, worker, escalation loop, Twilio client."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import aiohttp
from aiohttp import web
from elasticsearch import AsyncElasticsearch

from hotline import keys
from hotline.audit import AuditLog
from hotline.es import open_es
from hotline.fetch import GuardedFetcher, policy_from
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.social_ctx import make_leases
from intake import keys as intake_keys
from intake.isolation.keys import ISOLATION
from intake.isolation.service import IsolationConfig, IsolationService
from intake.isolation.store import CaseStore
from dashboards.accounts import USERNAME
from dashboards.errors import UserNotFound
from dashboards.store import UserStore
from intake.journal import Journal, JournalWriter
from intake.places import PlaceIndex
from intake.service import IntakeService, SlaPolicy
from intake.errors import StoreUnavailable
from intake.store import TicketStore
from intake.twilio_api import TwilioApi
from intake.worker import JournalWorker
from intake.zalo_api import TokenFile, TokenPair, ZaloApi
from models import registry
from social_monitor.leases import LeaseStore

log = logging.getLogger(__name__)

EXTERNAL_POLL_S: Final = 0.25
"""`hotline worker` cannot be woken by the web process; it looks for new entries this often."""
WORKER_BATCH: Final = 200
"""Journal entries the worker takes at a time; a run of SMS among them is classified and written in one batch."""


def _locator() -> Callable[[str], Any] | None:
    try:
        from classifier.gazetteer import Gazetteer
    except ImportError:
        return None
    return Gazetteer.load().locate


def _speech(model_dir: str | None) -> Any:
    if not model_dir:
        return None
    from intake.speech import make_engine
    return make_engine(model_dir)


ESCALATION_CLAIM: Final = timedelta(minutes=10)
"""A replica's claim on sending one ticket's escalation SMS: if it dies before the ticket is marked escalated,
another replica sends after this long."""


def make_escalation_claim(leases: LeaseStore) -> Callable[[str], Awaitable[bool]]:
    """Create-if-absent (or expired) of `escalation:<ticket id>` in the leases index: one replica sends."""
    async def claim(ticket_id: str) -> bool:
        return await leases.acquire(f"escalation:{ticket_id}", ESCALATION_CLAIM) is not None
    return claim


def leased(leases: LeaseStore, name: str, ttl: timedelta, job: Callable[[], Awaitable[Any]]) -> Callable[
        [], Awaitable[Any]]:
    """`job`, run only by the replica holding the lease `name` (renewed each round; taken over when it lapses)."""
    async def run() -> Any:
        if await leases.acquire(name, ttl) is None:
            return None
        return await job()
    return run


async def _every(interval_s: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await job()
        except StoreUnavailable:
            log.warning("%s skipped: Elasticsearch unavailable", name)
        except Exception:  # a failing round must not end the loop
            log.exception("%s failed", name)


def make_zalo(settings: Settings, session: aiohttp.ClientSession, fetcher: GuardedFetcher) -> ZaloApi | None:
    """The Zalo OA client, if an OA is connected; the initial tokens are used only until the first refresh."""
    if not (settings.zalo_app_id and (settings.zalo_access_token or settings.zalo_refresh_token
                                      or settings.zalo_token_path.exists())):
        return None
    # The initial access token's age is unknown: count it as expiring now, so the first use refreshes the pair.
    initial = TokenPair(settings.zalo_access_token, settings.zalo_refresh_token, datetime.now(timezone.utc)
                        if settings.zalo_refresh_token else datetime.now(timezone.utc) + timedelta(hours=25))
    return ZaloApi(session, api_base=settings.zalo_api_base, oauth_base=settings.zalo_oauth_base,
                   app_id=settings.zalo_app_id, app_secret=settings.zalo_app_secret,
                   tokens=TokenFile(settings.zalo_token_path), initial=initial, fetch=fetcher,
                   media_hosts=settings.zalo_media_hosts)


def make_isolation(settings: Settings, es: AsyncElasticsearch, service: IntakeService) -> IsolationService:
    """Home-isolation monitoring over intake's tickets and messaging; replies reach it through the journal."""
    isolation = IsolationService(
        cases=CaseStore(es, settings.alias("isolation_cases")), tickets=service.store, sla=service.sla,
        config=IsolationConfig.from_strings(
            settings.isolation_checkin_times, recovery_days=settings.isolation_recovery_days,
            retention_days=settings.isolation_retention_days, ward_on_call=settings.isolation_ward_on_call,
            fallback_on_call=settings.on_call_numbers),
        zalo=service.zalo, sms=service.messaging, audit=service.audit, locate=service.locate)
    service.check_in_reply = isolation.take_reply
    service.looks_like_check_in = isolation.looks_like_reply
    return isolation


def _operator_check(settings: Settings, es: AsyncElasticsearch) -> Callable[[str], Awaitable[bool]]:
    """Tickets go only to active users of the operator role (issue 13)."""
    users = UserStore(es, settings.alias("users"))

    async def is_active_operator(name: str) -> bool:
        if not USERNAME.match(name):  # not a user name at all: no lookup with an arbitrary id
            return False
        try:
            user = await users.get(name)
        except UserNotFound:
            return False
        return user.active and user.role == "operator"
    return is_active_operator


async def make_service(settings: Settings, es: AsyncElasticsearch, session: aiohttp.ClientSession,
                       fetcher: GuardedFetcher, leases: LeaseStore | None = None,
                       models: Models | None = None) -> IntakeService:
    """The intake service the settings describe, with the models given or loaded in threads (the web app and
    `hotline worker`)."""
    if models is not None:
        category, urgency = models.category, models.urgency
    else:
        category, urgency = await asyncio.gather(asyncio.to_thread(registry.load, "category"),
                                                 asyncio.to_thread(registry.load, "urgency"))
    locate = await asyncio.to_thread(_locator)
    speech = await asyncio.to_thread(_speech, settings.asr_model_dir)
    messaging = None
    if settings.twilio_account_sid and settings.twilio_auth_token:
        messaging = TwilioApi(session, api_base=settings.twilio_api_base, account_sid=settings.twilio_account_sid,
                              auth_token=settings.twilio_auth_token, from_number=settings.twilio_from_number,
                              fetch=fetcher)
    zalo = make_zalo(settings, session, fetcher)
    return IntakeService(
        store=TicketStore(es, settings.alias("tickets")), category=category, urgency=urgency, locate=locate,
        speech=speech, messaging=messaging, on_call=settings.on_call_numbers, outcome_sms=settings.outcome_sms,
        audit=AuditLog.for_settings(settings, es), zalo=zalo, assignees=_operator_check(settings, es),
        claim_escalation=make_escalation_claim(leases) if leases is not None else None,
        sla=SlaPolicy(timedelta(minutes=settings.sla_emergency_min), timedelta(minutes=settings.sla_high_min),
                      timedelta(minutes=settings.sla_normal_min)))


async def intake_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load models in a thread, open the journal, start the writer, the worker (if inline) and escalation."""
    settings = app[keys.SETTINGS]
    session = aiohttp.ClientSession()
    fetcher = GuardedFetcher(policy_from(settings))
    leases = make_leases(settings, app[keys.ES])
    try:
        service = await make_service(settings, app[keys.ES], session, fetcher, leases, app.get(keys.MODELS))
    except BaseException:
        await session.close()
        await fetcher.close()
        raise
    journal = Journal(settings.journal_path)
    worker = JournalWorker(journal, service.apply, max_backoff_s=settings.journal_max_backoff_s,
                           apply_sms_batch=service.apply_sms_batch, batch_size=WORKER_BATCH,
                           retention=timedelta(days=settings.journal_retention_days))
    writer = JournalWriter(journal)
    app[intake_keys.INTAKE_SETTINGS] = intake_keys.IntakeConfig(
        settings.public_base_url, settings.greeting_text, settings.greeting_audio_url, settings.record_max_length_s)
    app[intake_keys.JOURNAL], app[intake_keys.WORKER] = journal, worker
    app[intake_keys.JOURNAL_WRITER] = writer
    app[intake_keys.STORE], app[intake_keys.SERVICE] = service.store, service
    isolation = app[ISOLATION] = make_isolation(settings, app[keys.ES], service)
    app[intake_keys.PLACES] = await asyncio.to_thread(PlaceIndex.load)
    pending = journal.counts()["pending"]
    tasks = [asyncio.create_task(writer.run(), name="journal-writer")]
    if settings.intake_worker == "inline":
        if pending:
            log.info("replaying %d journal entries left from the last run", pending)
        tasks.append(asyncio.create_task(worker.run(), name="journal-worker"))
    else:
        # Classification (~7 ms of CPU per ticket, mostly holding the GIL) and the Elasticsearch writes run
        # in `hotline worker`; this process only journals and answers.
        log.info("journal worker external: %d entries pending for `hotline worker`", pending)
    tasks.append(asyncio.create_task(_every(settings.escalation_interval_s, service.escalate_overdue, "escalation"),
                                     name="escalation"))
    # One replica runs the check-in rounds (a round asks patients by SMS before it saves the case).
    round_ttl = timedelta(seconds=max(settings.lease_ttl_s, 3 * settings.isolation_interval_s))
    tasks.append(asyncio.create_task(_every(settings.isolation_interval_s, leased(
        leases, "round:isolation", round_ttl, lambda: isolation.tick(datetime.now(timezone.utc))),
        "isolation check-ins"), name="isolation"))
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await session.close()
    await fetcher.close()
    journal.close()


async def run_worker(settings: Settings, *, once: bool = False, poll_s: float = EXTERNAL_POLL_S) -> int:
    """`hotline worker`: drain the journal at `settings.journal_path` until cancelled, or once if `once`.

    Returns how many entries it stored when `once`. Raises SearchUnavailable if Elasticsearch is not there.
    Safe beside another worker on the same journal (every entry's effect is idempotent), but wasteful.
    """
    session = aiohttp.ClientSession()
    fetcher = GuardedFetcher(policy_from(settings))
    journal: Journal | None = None
    try:
        async with open_es(settings) as es:
            service = await make_service(settings, es, session, fetcher)
            make_isolation(settings, es, service)  # replies to check-ins are recognised by this worker too
            journal = Journal(settings.journal_path)
            worker = JournalWorker(journal, service.apply, idle_s=poll_s,
                                   max_backoff_s=settings.journal_max_backoff_s,
                                   apply_sms_batch=service.apply_sms_batch, batch_size=WORKER_BATCH,
                                   retention=timedelta(days=settings.journal_retention_days))
            log.info("journal worker on %s: %d entries pending", settings.journal_path,
                     journal.counts()["pending"])
            if once:
                return await worker.drain_once()
            await worker.run()
            return 0
    finally:
        if journal is not None:
            journal.close()
        await session.close()
        await fetcher.close()
