"""TicketStore: thin async I/O between Ticket records and the `tickets` alias."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError

from classifier.text import normalise
from intake import queries
from hotline.kernel.records import Version
from intake.errors import StoreUnavailable, TicketConflict, TicketNotFound
from intake.records import Status, Ticket, is_ticket_id


forms_of = lru_cache(maxsize=4096)(normalise)
"""`normalise`, remembered: the batched worker needs a text's forms to classify it, to find related tickets and
to index it, and pyvi's segmentation is the costliest step of all (issue 16)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of search results."""

    tickets: list[Ticket]
    total: int
    versions: dict[str, Version] = field(default_factory=dict)
    """The version each ticket was read at, when the body asked for `seq_no_primary_term`."""


def _page(resp: Any) -> Page:
    hits = resp["hits"]["hits"]
    versions = {h["_id"]: Version(h["_seq_no"], h["_primary_term"]) for h in hits if "_seq_no" in h}
    return Page([Ticket.from_doc(h["_source"]) for h in hits], int(resp["hits"]["total"]["value"]), versions)


class TicketStore:
    """Reads and writes tickets; every write of an existing ticket is conditional on its version."""

    def __init__(self, es: AsyncElasticsearch, alias: str) -> None:
        self._es = es
        self._alias = alias
        self._quick: dict[float, AsyncElasticsearch] = {}

    def _quick_client(self, timeout_s: float) -> AsyncElasticsearch:
        """A client with a short timeout and no retries, built once per timeout.

        `es.options()` builds a new client object each call (~1 ms of CPU: it re-reads its OpenTelemetry
        settings from os.environ); per webhook that was a fifth of the app's CPU under load (issue 7).
        """
        client = self._quick.get(timeout_s)
        if client is None:
            client = self._quick[timeout_s] = self._es.options(request_timeout=timeout_s, max_retries=0)
        return client

    def _doc(self, ticket: Ticket) -> dict[str, Any]:
        forms = forms_of(ticket.text)
        return ticket.as_doc(segmented=forms.segmented, folded=forms.folded)

    async def get(self, ticket_id: str) -> tuple[Ticket, Version]:
        """The ticket and the version to pass back to `save`."""
        if not is_ticket_id(ticket_id):  # never an Elasticsearch URL path of "..", ".", or 8,000 characters
            raise TicketNotFound("no such ticket")
        try:
            resp = await self._es.get(index=self._alias, id=ticket_id)
        except NotFoundError as err:
            raise TicketNotFound(f"no ticket {ticket_id}") from err
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return Ticket.from_doc(resp["_source"]), Version(resp["_seq_no"], resp["_primary_term"])

    async def create(self, ticket: Ticket) -> bool:
        """Index a new ticket; False if a ticket with that id exists already (a replayed entry)."""
        try:
            await self._es.create(index=self._alias, id=ticket.id, document=self._doc(ticket))
        except ConflictError:
            return False
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return True

    async def save(self, ticket: Ticket, version: Version, *, visible: bool = False) -> Version:
        """Overwrite the ticket only if nobody changed it since `version` was read.

        `visible` waits until searches see the change: an operator reloading the queue expects it.
        """
        try:
            resp = await self._es.index(index=self._alias, id=ticket.id, document=self._doc(ticket),
                                        if_seq_no=version.seq_no, if_primary_term=version.primary_term,
                                        refresh="wait_for" if visible else None)
        except ConflictError as err:
            raise TicketConflict(f"ticket {ticket.id} changed since version {version}") from err
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return Version(resp["_seq_no"], resp["_primary_term"])

    async def mget(self, ticket_ids: Sequence[str]) -> dict[str, tuple[Ticket, Version]]:
        """The tickets among `ticket_ids` that exist, with their versions, in one request (the batched worker)."""
        if not ticket_ids:
            return {}
        try:
            resp = await self._es.mget(index=self._alias, ids=list(ticket_ids))
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return {d["_id"]: (Ticket.from_doc(d["_source"]), Version(d["_seq_no"], d["_primary_term"]))
                for d in resp["docs"] if d.get("found")}

    async def write_many(self, writes: Sequence[tuple[Ticket, Version | None]]) -> dict[str, str | None]:
        """Create (version None) or conditionally overwrite several tickets in one bulk request.

        Returns, per ticket id, None when written, "conflict" when the ticket exists already or changed since
        its version (re-read and retry it), or the item's error type otherwise (its status and type only:
        an Elasticsearch refusal quotes the document).
        """
        if not writes:
            return {}
        operations: list[dict[str, Any]] = []
        for ticket, version in writes:
            if version is None:
                operations.append({"create": {"_index": self._alias, "_id": ticket.id}})
            else:
                operations.append({"index": {"_index": self._alias, "_id": ticket.id, "if_seq_no": version.seq_no,
                                             "if_primary_term": version.primary_term}})
            operations.append(self._doc(ticket))
        try:
            resp = await self._es.bulk(operations=operations)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        out: dict[str, str | None] = {}
        for item in resp["items"]:
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if status < 300:
                out[result["_id"]] = None
            elif status == 409:
                out[result["_id"]] = "conflict"
            else:
                error = result.get("error") or {}
                out[result["_id"]] = f"{status} {error.get('type', 'error') if isinstance(error, dict) else 'error'}"
        return out

    async def ids_many(self, bodies: Sequence[dict[str, Any]]) -> list[list[str]]:
        """`ids` for several bodies in one multi-search."""
        if not bodies:
            return []
        searches: list[dict[str, Any]] = []
        for body in bodies:
            searches.extend(({"index": self._alias}, body))
        try:
            resp = await self._es.msearch(searches=searches)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        out = []
        for r in resp["responses"]:
            if "error" in r:
                raise RuntimeError(f"related-tickets search failed: {r.get('status')}")
            out.append([h["_id"] for h in r["hits"]["hits"]])
        return out

    async def search(self, body: dict[str, Any]) -> Page:
        """Run a body from queries.py."""
        try:
            resp = await self._es.search(index=self._alias, **body)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return _page(resp)

    async def search_with_aggs(self, body: dict[str, Any]) -> tuple[Page, dict[str, Any]]:
        """Run a body that has aggregations; the dashboards' queries module reads the second part."""
        try:
            resp = await self._es.search(index=self._alias, **body)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return _page(resp), dict(resp.get("aggregations") or {})

    async def ids(self, body: dict[str, Any]) -> list[str]:
        """Only the ids of the matching tickets."""
        try:
            resp = await self._es.search(index=self._alias, **body)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return [h["_id"] for h in resp["hits"]["hits"]]

    async def open_ticket_of(self, caller: str, since: datetime, *, timeout_s: float) -> Ticket | None:
        """The caller's newest open ticket since `since`, asked with a short timeout (webhooks wait on it)."""
        try:
            resp = await self._quick_client(timeout_s).search(
                index=self._alias, **queries.build_open_ticket_of_caller(caller, since))
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        hits = resp["hits"]["hits"]
        return Ticket.from_doc(hits[0]["_source"]) if hits else None

    async def status_of(self, ticket_id: str, *, timeout_s: float) -> Status | None:
        """The ticket's current status (a real-time get, no refresh needed); None if there is no such ticket."""
        try:
            resp = await self._quick_client(timeout_s).get(index=self._alias, id=ticket_id,
                                                           source_includes=["status"])
        except NotFoundError:
            return None
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return Status(resp["_source"]["status"])

    async def refresh(self) -> None:
        """Make recent writes searchable (tests and the CLI)."""
        await self._es.indices.refresh(index=self._alias)
