"""The drain loop every outbox worker runs: drain, then idle until notified; pause with backoff on outages.

A domain's worker subclasses `DrainWorker` and writes only `drain_once` (what storing a batch means for it),
as Home Assistant's integrations subclass one update coordinator instead of each writing a polling loop.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

from hotline.kernel.errors import Conflict, Unavailable
from hotline.kernel.outbox import Outbox

log = logging.getLogger(__name__)

MAX_BACKOFF_S: Final = 30.0
RETENTION: Final = timedelta(days=7)
"""How long done entries keep their key for duplicate detection: Twilio, Zalo and collectors re-deliver
within hours, so a week is ample; without pruning the file grows forever (issue 15)."""
PRUNE_EVERY_S: Final = 3600.0

PAUSES: Final = (Unavailable, Conflict)
"""Errors that pause the whole drain (a store outage, a record that keeps changing): they are not the entry's
fault, so retrying later is right and parking would be wrong."""


def describe_error(err: BaseException, redact: Callable[[str], str]) -> str:
    """One line for the outbox and the log: the error's kind and, for Elasticsearch, its status and type only.

    Never the message of an Elasticsearch refusal: it quotes the document ("Preview of field's value"), and
    documents hold phone numbers (issue 14, #10). Other messages pass through `redact`.
    """
    if type(err).__name__ == "BulkIndexError":
        items = getattr(err, "errors", None) or [{}]
        first: Any = next(iter(items[0].values()), {}) if isinstance(items[0], dict) else {}
        error = first.get("error") if isinstance(first, dict) else None
        return f"BulkIndexError({first.get('status') if isinstance(first, dict) else None}, " \
               f"{error.get('type') if isinstance(error, dict) else None})"
    status, kind = getattr(err, "status_code", None), getattr(err, "message", None)
    if isinstance(status, int) or from_elasticsearch(err):
        return f"{type(err).__name__}({status}, {kind})"
    return f"{type(err).__name__}: {redact(str(err))}"[:500]


def from_elasticsearch(err: BaseException) -> bool:
    """Whether `err` comes from the Elasticsearch client (its message may quote a document)."""
    return type(err).__module__.startswith(("elasticsearch", "elastic_transport"))


class DrainWorker:
    """Runs `drain_once` until cancelled; an outage pauses it with exponential backoff, never drops an entry."""

    name = "outbox"

    def __init__(self, outbox: Outbox[Any], *, idle_s: float = 1.0, first_backoff_s: float = 0.5,
                 max_backoff_s: float = MAX_BACKOFF_S, retention: timedelta = RETENTION) -> None:
        self._outbox = outbox
        self._idle_s, self._first_backoff_s, self._max_backoff_s = idle_s, first_backoff_s, max_backoff_s
        self._retention = retention
        self._pruned_at = float("-inf")
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """A new entry arrived: skip the idle wait."""
        self._wake.set()

    async def drain_once(self) -> int:
        """Store what is pending now; returns how many entries were stored. Raises PAUSES to pause."""
        raise NotImplementedError

    async def prune(self) -> int:
        """Forget done entries past the retention (at most once per PRUNE_EVERY_S); returns how many."""
        if time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
            return 0
        self._pruned_at = time.monotonic()
        pruned = await asyncio.to_thread(self._outbox.prune, self._retention)
        if pruned:
            log.info("%s: forgot %d done entries older than %s", self.name, pruned, self._retention)
        return pruned

    async def run(self) -> None:
        """Run until cancelled."""
        backoff = self._first_backoff_s
        while True:
            try:
                await self.drain_once()
                backoff = self._first_backoff_s
            except PAUSES as err:
                log.warning("%s paused for %.1fs: %s", self.name, backoff, type(err).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            await self.prune()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._idle_s)
            except TimeoutError:
                pass
