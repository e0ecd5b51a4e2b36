"""Typed application keys of the social monitor; set by hotline/social_ctx.py, read by social_monitor/views.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from social_monitor.journal import PostJournal
from social_monitor.scheduler import CollectorScheduler
from social_monitor.service import SocialService
from social_monitor.store import SocialStore
from social_monitor.worker import IngestWorker


@dataclass(frozen=True, slots=True)
class SocialConfig:
    """The settings the views need (built from hotline.settings.Settings)."""

    claimreview_publisher: str
    max_push_posts: int = 1000


CONFIG: Final = web.AppKey("social_config", SocialConfig)
JOURNAL: Final = web.AppKey("social_journal", PostJournal)
WORKER: Final = web.AppKey("social_worker", IngestWorker)
SCHEDULER: Final = web.AppKey("social_scheduler", CollectorScheduler)
STORE: Final = web.AppKey("social_store", SocialStore)
SERVICE: Final = web.AppKey("social_service", SocialService)
