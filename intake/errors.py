"""Errors of the intake domain; each derives from a kernel base, by which hotline/web.py maps it to HTTP."""
from __future__ import annotations

from hotline.kernel.errors import Conflict, Forbidden, HotlineError, Invalid, NotFound, SearchUnavailable


class IntakeError(HotlineError):
    """Base of every intake error."""


class InvalidWebhook(IntakeError, Invalid):
    """A Twilio webhook is missing fields or has malformed ones (400)."""


class InvalidSignature(IntakeError, Forbidden):
    """A webhook's X-Twilio-Signature is missing or wrong (403)."""


class InvalidTicket(IntakeError, Invalid):
    """A ticket request or update is malformed (400)."""


class TicketNotFound(IntakeError, NotFound):
    """No ticket with that id (404)."""


class TicketConflict(IntakeError, Conflict):
    """The ticket changed since the client read it (409); the journal worker pauses and retries."""


StoreUnavailable = SearchUnavailable
"""Elasticsearch did not answer; the caller should retry later (the journal keeps the work): the kernel's error."""
