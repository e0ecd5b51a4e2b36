"""Wires the dashboards domain: stores for users, sessions, audit and sign-in throttling; Jinja2 templates.

Sessions and throttle counts live in Elasticsearch, so any replica behind the proxy honours a session opened
on another and the sign-in limits add up across replicas (issue 16). Sessions are read with a real-time get on
every request and not cached: a sign-out or a revoked session ends on every replica at once, for one get by id.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

import aiohttp_jinja2
import jinja2
from aiohttp import web

import dashboards
from hotline.kernel.records import LOCAL_TZ
from dashboards import keys as dashboard_keys
from dashboards.accounts import PasswordChecker
from dashboards.store import AuditStore, SessionStore, ThrottleStore, UserStore
from dashboards.throttle import SignInThrottle, ThrottlePolicy
from hotline import keys

TEMPLATES_DIR: Final = Path(dashboards.__file__).resolve().parent / "templates"
STATIC_DIR: Final = Path(dashboards.__file__).resolve().parent / "static"
THROTTLE_PURGE_S: Final = 900.0
log = logging.getLogger(__name__)


async def _purge_throttle_every(store: ThrottleStore, window: timedelta) -> None:
    """Forget keys with no failure within the window (random user names must not fill the index)."""
    while True:
        await asyncio.sleep(THROTTLE_PURGE_S)
        try:
            await store.purge(datetime.now(timezone.utc) - window)
        except Exception:  # Elasticsearch away: the next round purges
            log.exception("sign-in throttle purge failed")


def local_time(value: datetime | str | None) -> str:
    """Show a stored UTC time as Vietnamese local time, dd/mm/yyyy HH:MM."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def show_json(value: object) -> str:
    """Compact JSON for people: Vietnamese letters as letters, not \\u escapes (autoescaping still applies)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def is_web_url(value: object) -> bool:
    """Whether a link from outside (a post's URL, an attachment) may be an href: http(s) only, never javascript:."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def setup_templates(app: web.Application) -> None:
    """Jinja2 with autoescaping; templates live in dashboards/templates."""
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    env.filters["local_time"] = local_time
    env.filters["show_json"] = show_json
    env.tests["web_url"] = is_web_url


async def dashboards_ctx(app: web.Application) -> AsyncIterator[None]:
    """Stores over the shared client; nothing to close of their own."""
    settings = app[keys.SETTINGS]
    es = app[keys.ES]
    app[dashboard_keys.USERS] = UserStore(es, settings.alias("users"))
    app[dashboard_keys.SESSIONS] = SessionStore(es, settings.alias("sessions"))
    app[dashboard_keys.AUDIT] = AuditStore(es, settings.alias("audit"))
    app[dashboard_keys.SESSION_CONFIG] = dashboard_keys.SessionConfig(
        ttl=timedelta(hours=settings.session_ttl_hours),
        secure_cookie=settings.public_base_url.startswith("https://"))
    policy = ThrottlePolicy()
    failures = ThrottleStore(es, settings.alias("sign_in_failures"))
    app[dashboard_keys.SIGN_IN_THROTTLE] = SignInThrottle(policy, failures)
    checker = app[dashboard_keys.PASSWORD_CHECKER] = PasswordChecker(settings.password_checks)
    purge = asyncio.create_task(_purge_throttle_every(failures, policy.window), name="throttle-purge")
    yield
    purge.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purge
    checker.close()
