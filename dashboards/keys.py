"""Typed application keys of the dashboards domain; set by the composition root."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from aiohttp import web

from dashboards.accounts import PasswordChecker
from dashboards.store import AuditStore, SessionStore, UserStore
from dashboards.throttle import SignInThrottle


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """How session cookies are issued."""

    ttl: timedelta
    secure_cookie: bool


USERS: Final = web.AppKey("users", UserStore)
SESSIONS: Final = web.AppKey("sessions", SessionStore)
AUDIT: Final = web.AppKey("audit", AuditStore)
SESSION_CONFIG: Final = web.AppKey("session_config", SessionConfig)
SIGN_IN_THROTTLE: Final = web.AppKey("sign_in_throttle", SignInThrottle)
PASSWORD_CHECKER: Final = web.AppKey("password_checker", PasswordChecker)
CSRF: Final = web.RequestKey("dashboards_csrf", str)
"""The signed-in session's CSRF token; set by the access middleware (hotline/access.py)."""
SESSION_COOKIE: Final = "hotline_session"
LOGIN_CSRF_COOKIE: Final = "hotline_login_csrf"
