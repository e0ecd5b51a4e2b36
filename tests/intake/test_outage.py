"""Elasticsearch goes away while webhooks arrive: every report is answered, stored once, none lost."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hotline import search_node
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from tests.factories import make_call, make_settings, make_sms, make_transcript, post_signed

pytestmark = pytest.mark.asyncio


async def test_reports_during_an_outage_are_stored_exactly_once_after_restart(
        aiohttp_client: Any, settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "node"
    node = search_node.start(home, port=0, heap="256m")
    port = int(node.url.rsplit(":", 1)[1])
    try:
        app_settings = make_settings(settings, tmp_path / "data", es_url=node.url, index_prefix="outage-")
        client: TestClient = await aiohttp_client(create_app(app_settings))
        # One sender each: this is about exactly-once storage, not about an SMS joining its sender's ticket.
        before = [make_sms(f"SM{i:032d}", f"khu phố {i} hết gạo", sender=f"+8498700{i:04d}") for i in range(5)]
        for form in before:
            assert (await post_signed(client, "/twilio/sms", form)).status == 200

        await asyncio.to_thread(search_node.stop, home)
        during = [make_sms(f"SM{i:032d}", f"xin hỏi lịch tiêm số {i}", sender=f"+8498700{i:04d}")
                  for i in range(5, 15)]
        call = "CA" + "9" * 32
        for form in during:
            assert (await post_signed(client, "/twilio/sms", form)).status == 200
        assert (await post_signed(client, "/twilio/voice", make_call(call))).status == 200
        assert (await post_signed(client, "/twilio/transcription", make_transcript(call, 1, "ông em khó thở"))).status == 204
        for form in during[:3]:  # Twilio retries some of them
            assert (await post_signed(client, "/twilio/sms", form)).status == 200
        assert client.app[intake_keys.JOURNAL].counts()["pending"] >= 10

        await asyncio.to_thread(search_node.start, home, port=port, heap="256m")
        journal = client.app[intake_keys.JOURNAL]
        for _ in range(300):
            if journal.counts()["pending"] == 0:
                break
            await asyncio.sleep(0.1)
        store = client.app[intake_keys.STORE]
        await store.refresh()

        page = await store.search({"query": {"match_all": {}}, "size": 100})
        ids = sorted(t.id for t in page.tickets)
        assert journal.counts() == {"pending": 0, "done": 17, "dead": 0}
        assert len(ids) == len(set(ids)) == 16
        sms = [t for t in page.tickets if t.channel == "sms"]
        assert sorted(sid for t in sms for sid in t.message_sids) == sorted(f["MessageSid"] for f in before + during)
        [voice] = [t for t in page.tickets if t.channel == "call"]
        assert voice.urgency == "emergency"
    finally:
        await asyncio.to_thread(search_node.stop, home)
