"""CaseStore: thin async I/O between Case records and the `isolation_cases` alias."""
from __future__ import annotations

from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError

from intake.errors import TicketConflict, TicketNotFound
from intake.isolation.records import Case
from intake.records import is_ticket_id
from hotline.kernel.records import Version
from intake.errors import StoreUnavailable


class CaseNotFound(TicketNotFound):
    """No case with that id (404)."""


class CaseStore:
    """Reads and writes cases; writes of an existing case are conditional on the version read."""

    def __init__(self, es: AsyncElasticsearch, alias: str) -> None:
        self._es = es
        self._alias = alias

    async def get(self, case_id: str) -> tuple[Case, Version]:
        """The case and its version."""
        if not is_ticket_id(case_id):  # case ids ("f0-…") have the ticket ids' shape; anything else never reaches ES
            raise CaseNotFound("no such case")
        try:
            resp = await self._es.get(index=self._alias, id=case_id)
        except NotFoundError as err:
            raise CaseNotFound(f"no case {case_id}") from err
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return Case.from_doc(resp["_source"]), Version(resp["_seq_no"], resp["_primary_term"])

    async def create(self, case: Case) -> None:
        """Add a new case (visible to searches at once: the medical page is read right after)."""
        await self._es.create(index=self._alias, id=case.id, document=case.as_doc(), refresh="wait_for")

    async def save(self, case: Case, version: Version) -> None:
        """Overwrite if nobody changed the case since `version`; TicketConflict otherwise."""
        try:
            await self._es.index(index=self._alias, id=case.id, document=case.as_doc(), if_seq_no=version.seq_no,
                                 if_primary_term=version.primary_term, refresh="wait_for")
        except ConflictError as err:
            raise TicketConflict(f"case {case.id} changed meanwhile") from err

    async def search(self, body: dict[str, Any]) -> list[Case]:
        """The cases a query finds."""
        try:
            resp = await self._es.search(index=self._alias, **body)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return [Case.from_doc(h["_source"]) for h in resp["hits"]["hits"]]

    async def aggregate(self, body: dict[str, Any]) -> dict[str, Any]:
        """The aggregations of a size-0 query."""
        resp = await self._es.search(index=self._alias, **body)
        return dict(resp.get("aggregations") or {})

    async def sources(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The raw `_source` of each hit (for queries that ask for a few fields only)."""
        try:
            resp = await self._es.search(index=self._alias, **body)
        except (TransportConnectionError, ConnectionTimeout) as err:
            raise StoreUnavailable(str(err)) from err
        return [dict(h["_source"]) for h in resp["hits"]["hits"]]

    async def ids(self, body: dict[str, Any]) -> list[str]:
        """Just the ids a query finds."""
        resp = await self._es.search(index=self._alias, **body)
        return [h["_id"] for h in resp["hits"]["hits"]]

    async def delete(self, case_id: str) -> None:
        """Remove a case for good (retention)."""
        try:
            await self._es.delete(index=self._alias, id=case_id, refresh="wait_for")
        except NotFoundError:
            pass

    async def refresh(self) -> None:
        """Make recent writes searchable (tests, CLI)."""
        await self._es.indices.refresh(index=self._alias)
