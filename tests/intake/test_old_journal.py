"""Entries pending on disk at the upgrade to the kernel's outbox and the typed commands replay unchanged
(issue 15): tests/data/journals/intake-d531065.sqlite3 was written by the journal of commit d531065 (see
make_old_journals.py there); today's code opens it, decodes every entry and stores them on the real node."""
from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.fetch import GuardedFetcher, policy_from
from hotline.intake_ctx import make_service
from hotline.settings import Settings
from intake.commands import (CallStarted, RecordingCompleted, ReplyRequested, SmsReceived, TranscriptSegment,
                             ZaloFollow, ZaloMessage, decode)
from intake.journal import Journal
from intake.records import ticket_number
from intake.service import IntakeService
from intake.worker import JournalWorker

OLD = Path(__file__).parent.parent / "data" / "journals" / "intake-d531065.sqlite3"
AT = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    """A copy of the old file (opening it adds nothing the old code would not read, but keep the fixture clean)."""
    shutil.copy(OLD, tmp_path / "journal.sqlite3")
    return Journal(tmp_path / "journal.sqlite3")


@pytest.fixture
async def service(settings: Settings, es: AsyncElasticsearch, unique_prefix: str) -> AsyncIterator[IntakeService]:
    """Intake's service on fresh indices, without Twilio or Zalo credentials (a reply records its failure)."""
    prefix = f"{unique_prefix}old-"
    await indices.ensure_all(es, prefix)
    fetcher = GuardedFetcher(policy_from(settings))
    async with aiohttp.ClientSession() as session:
        service = await make_service(replace(settings, index_prefix=prefix), es, session, fetcher)
        yield replace(service, messaging=None, zalo=None, speech=None, check_in_reply=None,
                      clock=lambda: AT + timedelta(minutes=30))
    await fetcher.close()


def test_the_old_journal_opens_with_its_counts_keys_and_ticket_columns(journal: Journal) -> None:
    pending = journal.pending(100)
    commands = [decode(e) for e in pending]

    assert journal.counts() == {"pending": 8, "done": 1, "dead": 1}
    assert [type(c) for c in commands] == [CallStarted, TranscriptSegment, RecordingCompleted, SmsReceived,
                                           SmsReceived, ReplyRequested, ZaloMessage, ZaloFollow]
    assert commands[0] == CallStarted("CAold1", "+84911000001", AT + timedelta(minutes=1))
    assert commands[4] == SmsReceived("SMold2", "+84922000002", "cho em hỏi thêm giấy đi đường", "sms-SMold1",
                                      ticket_number("sms-SMold1", AT + timedelta(minutes=4)), AT + timedelta(minutes=5))
    # The payload a command writes back is the one the old views wrote, key for key.
    assert [c.to_json() for c in commands] == [e.payload for e in pending]
    recent = journal.recent_ticket_of("+84922000002", AT)
    assert recent is not None and (recent.ticket_id, recent.number, recent.pending) == (
        "sms-SMold1", ticket_number("sms-SMold1", AT + timedelta(minutes=4)), True)
    # Keys of entries done before the upgrade still stop re-deliveries; parked ones can be queued again.
    assert not journal.append("sms", "sms:SMold0", {}, AT).created
    assert [p.key for p in journal.parked()] == ["sms:SMbad"]


async def _tickets(es: AsyncElasticsearch, alias: str) -> dict[str, dict[str, Any]]:
    await es.indices.refresh(index=alias)
    resp = await es.search(index=alias, size=100, query={"match_all": {}})
    return {h["_id"]: h["_source"] for h in resp["hits"]["hits"]}


async def test_the_pending_entries_of_the_old_journal_become_tickets(
        journal: Journal, service: IntakeService, es: AsyncElasticsearch, unique_prefix: str) -> None:
    stored = await JournalWorker(journal, service.apply, apply_sms_batch=service.apply_sms_batch).drain_once()

    tickets = await _tickets(es, f"{unique_prefix}old-tickets")
    assert stored == 8 and journal.counts() == {"pending": 0, "done": 9, "dead": 1}
    assert set(tickets) == {"call-CAold1", "sms-SMold1", "zalo-zmsgold1"}
    call = tickets["call-CAold1"]
    assert call["caller"] == "+84911000001" and call["recording_sid"] == "REold1"
    assert [s["text"] for s in call["segments"]] == ["Khu phố 3 phường Phú Hòa có người sốt cao khó thở"]
    sms = tickets["sms-SMold1"]
    assert sms["message_sids"] == ["SMold1", "SMold2"]
    assert sms["number"] == ticket_number("sms-SMold1", AT + timedelta(minutes=4))  # what the SMS answer said
    assert [h["action"] for h in sms["history"] if h["action"].startswith("sms_reply")] == [
        "sms_reply_sending", "sms_reply_failed"]
    assert tickets["zalo-zmsgold1"]["messages"] == ["chợ Thủ Dầu Một vẫn họp đông người"]
