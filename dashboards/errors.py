"""Errors of the dashboards domain; each derives from a kernel base, by which hotline/web.py maps it to HTTP."""
from __future__ import annotations

from hotline.kernel.errors import Conflict, HotlineError, Invalid, NotFound


class DashboardError(HotlineError):
    """Base of every dashboards error."""


class InvalidUser(DashboardError, Invalid):
    """A user record or form is malformed (400)."""


class UserNotFound(DashboardError, NotFound):
    """No such user (404)."""


class UserExists(DashboardError, Conflict):
    """A user with that name exists already (409)."""


class ThrottleContended(DashboardError):
    """One sign-in throttle key changed by too many parallel attempts to be counted now (answered as 429)."""
