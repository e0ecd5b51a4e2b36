"""What handlers of every domain read from a request: who is asking, query parameters and JSON bodies.

The parsers raise the caller's `Invalid` subclass, so each domain keeps its own error code while the rules
(ASCII digits only, bounds, one list syntax) are written once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from aiohttp import web

from hotline.kernel.errors import Invalid
from hotline.kernel.records import LOCAL_TZ

ACTOR: Final = web.RequestKey("actor", str)
"""Who is making the request (user name or API key name); set by the access middleware (hotline/access.py)."""
ROLE: Final = web.RequestKey("role", str)
"""The role of the user or API key making the request; set by the access middleware."""


async def json_body(request: web.Request, error: type[Invalid]) -> Any:
    """The request's JSON body, or `error` when it is not JSON."""
    try:
        return await request.json()
    except ValueError as err:
        raise error("body must be JSON") from err


def list_param(request: web.Request, name: str, error: type[Invalid],
               allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """`?name=a,b&name=c` -> ('a', 'b', 'c'); a value outside `allowed` is refused."""
    values = tuple(v for raw in request.query.getall(name, []) for v in raw.split(",") if v)
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            raise error(f"unknown {name}: {', '.join(bad)}; one of {', '.join(allowed)}")
    return values


def int_param(request: web.Request, name: str, error: type[Invalid], default: int, low: int, high: int) -> int:
    """A whole number from `low` to `high` written in ASCII digits (int() would take '١٢' or ' 12')."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise error(f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def bool_param(request: web.Request, name: str, error: type[Invalid]) -> bool | None:
    """`true` or `false`; None when absent."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise error(f"'{name}' must be true or false")
    return raw == "true"


def date_param(request: web.Request, name: str, error: type[Invalid]) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is Vietnam's time (what people type)."""
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        if not raw.isascii():
            raise ValueError("non-ASCII digits")
        value = datetime.fromisoformat(raw)
    except ValueError as err:
        raise error(f"'{name}' must be an ISO 8601 date or date-time") from err
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
