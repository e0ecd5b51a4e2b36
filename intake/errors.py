"""Errors of the intake domain; hotline/web.py maps them to HTTP."""
from __future__ import annotations


class IntakeError(Exception):
    """Base of every intake error."""

    code = "intake_error"


class InvalidWebhook(IntakeError):
    """A Twilio webhook is missing fields or has malformed ones (400)."""

    code = "invalid_webhook"


class InvalidSignature(IntakeError):
    """A webhook's X-Twilio-Signature is missing or wrong (403)."""

    code = "invalid_signature"


class InvalidTicket(IntakeError):
    """A ticket request or update is malformed (400)."""

    code = "invalid_ticket"


class TicketNotFound(IntakeError):
    """No ticket with that id (404)."""

    code = "ticket_not_found"


class TicketConflict(IntakeError):
    """The ticket changed since the client read it (409)."""

    code = "ticket_conflict"
