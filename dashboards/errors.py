"""Errors of the dashboards domain; hotline/web.py maps them to HTTP."""
from __future__ import annotations


class DashboardError(Exception):
    """Base of every dashboards error."""

    code = "dashboard_error"


class InvalidUser(DashboardError):
    """A user record or form is malformed (400)."""

    code = "invalid_user"


class UserNotFound(DashboardError):
    """No such user (404)."""

    code = "user_not_found"


class UserExists(DashboardError):
    """A user with that name exists already (409)."""

    code = "user_exists"


class ThrottleContended(DashboardError):
    """One sign-in throttle key changed by too many parallel attempts to be counted now (answered as 429)."""

    code = "throttle_contended"
