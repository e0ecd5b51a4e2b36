"""The error bases: each domain's errors subclass one of these, and hotline/web.py maps them by base class.

A domain error keeps its own `code` (the JSON `error` field clients read); its HTTP status comes from the
kernel class it derives from, so a new error needs no new line in the middleware.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final


_WORD: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class HotlineError(Exception):
    """Base of every error a domain raises on purpose; 400 unless a subclass says otherwise.

    Its `code` (the JSON `error` field clients read) is the class name in snake case, `TicketNotFound` ->
    "ticket_not_found", unless the class sets one: the code and the name cannot drift apart.
    """

    code = "error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _WORD.sub("_", cls.__name__).lower()


class Invalid(HotlineError):
    """The request or its data is malformed (400)."""


class Forbidden(HotlineError):
    """The caller may not do this (403)."""


class NotFound(HotlineError):
    """No such thing (404)."""


class Conflict(HotlineError):
    """It changed since the client read it, or already exists (409); a worker pauses and retries."""


class Unavailable(HotlineError):
    """A service we depend on did not answer (503); a worker pauses and retries, the outbox keeps the work."""


class SearchUnavailable(Unavailable):
    """Elasticsearch did not answer or refuses to serve (503): every domain's store raises this one, the workers
    pause on it and the outboxes keep the work; the message is one line for operators."""


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
