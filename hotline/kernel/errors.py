"""The error bases: each domain's errors subclass one of these, and hotline/web.py maps them by base class.

A domain error keeps its own `code` (the JSON `error` field clients read); its HTTP status comes from the
kernel class it derives from, so a new error needs no new line in the middleware.
"""
from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final


class HotlineError(Exception):
    """Base of every error a domain raises on purpose; 400 unless a subclass says otherwise."""

    code = "error"


class Invalid(HotlineError):
    """The request or its data is malformed (400)."""

    code = "invalid"


class Forbidden(HotlineError):
    """The caller may not do this (403)."""

    code = "forbidden"


class NotFound(HotlineError):
    """No such thing (404)."""

    code = "not_found"


class Conflict(HotlineError):
    """It changed since the client read it, or already exists (409); a worker pauses and retries."""

    code = "conflict"


class Unavailable(HotlineError):
    """A service we depend on did not answer (503); a worker pauses and retries, the outbox keeps the work."""

    code = "unavailable"


class SearchUnavailable(Unavailable):
    """Elasticsearch did not answer or refuses to serve (503): every domain's store raises this one, the workers
    pause on it and the outboxes keep the work; the message is one line for operators."""

    code = "search_unavailable"


class Upstream(HotlineError):
    """A third-party API answered with an error (502)."""

    code = "upstream_error"


STATUS: Final[Mapping[type[HotlineError], HTTPStatus]] = {
    Invalid: HTTPStatus.BAD_REQUEST, Forbidden: HTTPStatus.FORBIDDEN, NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT, Unavailable: HTTPStatus.SERVICE_UNAVAILABLE, Upstream: HTTPStatus.BAD_GATEWAY,
}


def http_status(err: HotlineError) -> HTTPStatus:
    """The status of the first kernel base in the error's class hierarchy; 400 for a bare domain error."""
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return HTTPStatus.BAD_REQUEST
