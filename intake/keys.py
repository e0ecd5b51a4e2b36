"""Typed application keys of the intake domain; set by the composition root, read by intake/views.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from intake.journal import Journal, JournalWriter
from intake.places import PlaceIndex
from intake.service import IntakeService
from intake.store import TicketStore
from intake.worker import JournalWorker


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """The settings the webhooks need (built from hotline.settings.Settings)."""

    public_base_url: str
    greeting_text: str
    greeting_audio_url: str | None
    record_max_length_s: int


INTAKE_SETTINGS: Final = web.AppKey("intake_settings", IntakeConfig)
JOURNAL: Final = web.AppKey("journal", Journal)
JOURNAL_WRITER: Final = web.AppKey("journal_writer", JournalWriter)
WORKER: Final = web.AppKey("journal_worker", JournalWorker)
STORE: Final = web.AppKey("ticket_store", TicketStore)
SERVICE: Final = web.AppKey("intake_service", IntakeService)
PLACES: Final = web.AppKey("places", PlaceIndex)
"""District and ward names for pickers and searches (from classifier.gazetteer)."""
