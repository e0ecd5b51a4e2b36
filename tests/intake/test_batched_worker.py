"""The batched intake worker (issue 16): the same journal drained one at a time and in batches gives the same
tickets on the real node; a bad entry is parked on its own; a batch replayed after a crash applies nothing twice."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.fetch import GuardedFetcher, policy_from
from hotline.intake_ctx import make_service
from hotline.settings import Settings
from intake.journal import Journal, JournalEntry, NewEntry
from intake.records import Ticket, ticket_number
from intake.service import BatchOutcome, IntakeService, call_ticket_id, sms_ticket_id
from intake.store import TicketStore
from intake.worker import JournalWorker

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
TEXTS = ["Khu phố 3 phường Phú Hòa có người sốt cao khó thở cần xe cấp cứu gấp",
         "xin hoi lich tiem vaccine o tx thuan an khi nao co a",
         "Chợ Thủ Dầu Một vẫn họp đông người không đeo khẩu trang",
         "nha em bi phong toa 5 ngay roi het gao het sua cho con, xin ho tro",
         "Cho hỏi giấy đi đường cấp ở đâu, công ty em ở KCN VSIP 1"]


def _sms(n: int, *, ticket_of: int | None = None, body: str | None = None, sender: int | None = None) -> NewEntry:
    sid = f"SMbatch{n:026d}"
    ticket_id = sms_ticket_id(f"SMbatch{ticket_of:026d}") if ticket_of is not None else sms_ticket_id(sid)
    payload: dict[str, Any] = {"message_sid": sid, "sender": f"+849000000{(sender if sender is not None else n) % 7:02d}",
                               "ticket_id": ticket_id, "number": ticket_number(ticket_id, NOW),
                               "received_at": NOW.isoformat()}
    if body != "":
        payload["body"] = body or TEXTS[n % len(TEXTS)]
    return NewEntry("sms", f"sms:{sid}", payload, NOW)


def _journal_entries() -> list[NewEntry]:
    entries = [_sms(n) for n in range(1, 13)]
    entries += [_sms(13, ticket_of=2, sender=2), _sms(14, ticket_of=2, sender=2),  # two joins to one new ticket
                _sms(15, ticket_of=0, sender=0),  # a join to a ticket stored before the batch
                _sms(16, ticket_of=5, body="", sender=5),  # no body: a bad entry on a ticket good ones share
                _sms(17, ticket_of=5, sender=5)]
    entries.append(NewEntry("call", "call:CAbatch1", {"call_sid": "CAbatch1", "caller": "+84900000001",
                                                      "received_at": NOW.isoformat()}, NOW))
    entries += [_sms(n) for n in range(18, 30)]
    return entries


@pytest.fixture
async def services(settings: Settings, es: AsyncElasticsearch, unique_prefix: str
                   ) -> AsyncIterator[tuple[IntakeService, IntakeService]]:
    """The same service writing to two index sets, with a fixed clock, and refreshes only when asked.

    With the refresh interval off, what the related-tickets query sees does not depend on timing, so the
    two runs can be compared field for field.
    """
    a, b = f"{unique_prefix}a-", f"{unique_prefix}b-"
    for prefix in (a, b):
        await indices.ensure_all(es, prefix)
        await es.indices.put_settings(index=f"{prefix}tickets", settings={"refresh_interval": "-1"})
    fetcher = GuardedFetcher(policy_from(settings))
    async with aiohttp.ClientSession() as session:
        service = await make_service(replace(settings, index_prefix=a), es, session, fetcher)
        service.clock = lambda: NOW
        # chunks of 4 tickets: the batches' chunks are written concurrently, as with a full batch of 200
        yield service, replace(service, store=TicketStore(es, f"{b}tickets"), sms_chunk=4)
    await fetcher.close()


async def _tickets(es: AsyncElasticsearch, alias: str) -> dict[str, dict[str, Any]]:
    await es.indices.refresh(index=alias)
    resp = await es.search(index=alias, size=100, query={"match_all": {}})
    return {h["_id"]: h["_source"] for h in resp["hits"]["hits"]}


async def _seed(service: IntakeService, es: AsyncElasticsearch, tmp: Path) -> None:
    """A ticket stored (and searchable) before the journal is drained: a join target and a related ticket."""
    journal = Journal(tmp)
    journal.append_many([_sms(0, body=TEXTS[0])])
    assert await JournalWorker(journal, service.apply).drain_once() == 1
    journal.close()
    await es.indices.refresh(index=service.store._alias)


async def test_batched_drain_gives_the_same_tickets_as_one_at_a_time(
        services: tuple[IntakeService, IntakeService], es: AsyncElasticsearch, tmp_path: Path) -> None:
    single, batched = services
    for name, service in (("a", single), ("b", batched)):
        await _seed(service, es, tmp_path / f"seed-{name}.sqlite3")
    ja, jb = Journal(tmp_path / "a.sqlite3"), Journal(tmp_path / "b.sqlite3")
    ja.append_many(_journal_entries())
    jb.append_many(_journal_entries())

    stored_a = await JournalWorker(ja, single.apply).drain_once()
    outcomes: list[BatchOutcome] = []

    async def recorded(entries: list[JournalEntry]) -> BatchOutcome:
        outcomes.append(await batched.apply_sms_batch(entries))
        return outcomes[-1]
    stored_b = await JournalWorker(jb, batched.apply, apply_sms_batch=recorded, batch_size=200).drain_once()

    tickets_a = await _tickets(es, single.store._alias)
    tickets_b = await _tickets(es, batched.store._alias)
    assert stored_a == stored_b == len(_journal_entries()) - 1
    assert ja.counts() == jb.counts() == {"pending": 0, "done": stored_a, "dead": 1}
    assert tickets_a == tickets_b
    # the folds really happened: two joins, a join to the stored ticket, the good entry beside the bad one
    two = Ticket.from_doc(tickets_b[sms_ticket_id(f"SMbatch{2:026d}")])
    assert len(two.messages) == 3 and two.urgency is not None
    assert len(Ticket.from_doc(tickets_b[sms_ticket_id(f"SMbatch{0:026d}")]).messages) == 2
    assert Ticket.from_doc(tickets_b[sms_ticket_id(f"SMbatch{5:026d}")]).message_sids[-1] == f"SMbatch{17:026d}"
    assert call_ticket_id("CAbatch1") in tickets_b
    # the batches did the work: only ticket 5's entries (one of them bad) went one at a time
    assert len(outcomes[0].done) == 14 and len(outcomes[1].done) == 12
    assert {e.payload["message_sid"][-2:] for o in outcomes for e in o.fallback} == {"05", "16", "17"}
    assert any(Ticket.from_doc(doc).related for doc in tickets_b.values())  # the seed is found as related
    ja.close()
    jb.close()


async def test_a_batch_replayed_after_a_crash_applies_nothing_twice(
        services: tuple[IntakeService, IntakeService], es: AsyncElasticsearch, tmp_path: Path) -> None:
    _, batched = services
    journal = Journal(tmp_path / "j.sqlite3")
    journal.append_many([_sms(n) for n in range(1, 9)] + [_sms(9, ticket_of=1, sender=1)])
    pending = journal.pending(100)

    first = await batched.apply_sms_batch(pending)  # written to Elasticsearch; the crash loses `mark_done`
    after_crash = await _tickets(es, batched.store._alias)
    replayed = await JournalWorker(journal, batched.apply,
                                   apply_sms_batch=batched.apply_sms_batch).drain_once()

    assert len(first.done) == 9 and first.fallback == []
    assert replayed == 9 and journal.counts()["pending"] == 0
    assert await _tickets(es, batched.store._alias) == after_crash
    assert len(Ticket.from_doc(after_crash[sms_ticket_id(f"SMbatch{1:026d}")]).messages) == 2
    journal.close()


async def test_write_many_reports_a_stale_version_as_a_conflict(
        services: tuple[IntakeService, IntakeService], es: AsyncElasticsearch, tmp_path: Path) -> None:
    single, _ = services
    await _seed(single, es, tmp_path / "seed.sqlite3")
    ticket_id = sms_ticket_id(f"SMbatch{0:026d}")
    ticket, version = (await single.store.mget([ticket_id]))[ticket_id]
    await single.store.save(replace(ticket, messages=(*ticket.messages, "một tin nữa")), version)

    results = await single.store.write_many([(ticket, version), (replace(ticket, id="sms-new"), None)])

    assert results == {ticket_id: "conflict", "sms-new": None}
