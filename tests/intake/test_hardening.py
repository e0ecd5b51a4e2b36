"""Issue 14 (security audit) rows of intake, against the real app and node: bad ids, dates, numbers and JSON
get JSON 4xx; a repeat SMS gets 200; a document Elasticsearch refuses is never logged with its content."""
from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import index as ticket_index
from intake import keys as intake_keys
from tests.factories import auth, make_settings, make_sms, make_transcript, post_signed, serve

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                           models=models))


@pytest.fixture(scope="module")
async def refusals(settings: Settings, es: Any, module_prefix: str, tmp_path_factory: pytest.TempPathFactory,
                   models: Models) -> AsyncIterator[TestClient]:
    """One app for the refusals of bad ids, dates, numbers, bodies and URLs (and /trends, which needs
    both domains): each asks for one, so they can share it."""
    app = create_app(make_settings(settings, tmp_path_factory.mktemp("refusals"), index_prefix=module_prefix),
                     models=models)
    async with serve(app) as client:
        yield client


async def test_a_repeat_of_an_sms_already_in_elasticsearch_gets_200_and_its_ticket_number(client: TestClient) -> None:
    """#8: the journal cleared the payload once stored, and the repeat raised KeyError 'number' (500)."""
    form = make_sms("SM" + "e" * 32, "xin hỏi lịch tiêm mũi 2 ở Thuận An")
    first = await post_signed(client, "/twilio/sms", form)
    journal = client.app[intake_keys.JOURNAL]
    for _ in range(200):
        if journal.counts()["done"]:
            break
        await asyncio.sleep(0.1)
    assert journal.counts()["done"] == 1

    repeat = await post_signed(client, "/twilio/sms", form)

    assert first.status == repeat.status == 200
    number = (await first.text()).split("Mã phiếu: ")[1].split(".")[0]
    assert f"Mã phiếu: {number}." in await repeat.text()


@pytest.mark.parametrize("path", ["/api/tickets/%2e%2e", "/api/tickets/.", "/api/tickets/" + "x" * 8000,
                                  "/api/tickets/a%2Fb", "/api/tickets/%2e%2e/recording"])
async def test_ids_outside_the_id_alphabet_get_a_json_404(refusals: TestClient, path: str) -> None:
    """#9: '..' and an 8,000-character id reached Elasticsearch URL paths (500/502)."""
    url = URL(str(refusals.make_url("/")).rstrip("/") + path, encoded=True)  # as sent: no dot-segment removal
    resp = await refusals.session.get(url, headers=auth("operator"))

    assert resp.status == 404 and (await resp.json())["error"] == "ticket_not_found"


@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "0001-01-01"}, {"from": "２０２１-08-01"},
                                   {"page": "１"}, {"size": "٢٠"}])
async def test_dates_out_of_range_and_non_ascii_digits_are_refused(refusals: TestClient, query: dict[str, str]) -> None:
    """#9/#15: year 9999 overflowed; full-width and Arabic-Indic digits were read as numbers."""
    resp = await refusals.get("/api/tickets", params=query, headers=auth("leader"))

    assert resp.status == 400 and (await resp.json())["error"] == "invalid_ticket"


@pytest.mark.parametrize("path", ["/trends", "/trends/export.csv"])
@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "0001-01-01"}])
async def test_trends_dates_in_absurd_years_get_a_json_400(refusals: TestClient, path: str,
                                                           query: dict[str, str]) -> None:
    """#9, as checked from outside: /trends?to=9999-12-31 answered 200 (the date was clamped), not a 4xx."""
    resp = await refusals.get(path, params=query, headers=auth("leader"))

    assert resp.status == 400 and (await resp.json())["error"] == "bad_request"


@pytest.mark.parametrize("query", [{"from": "2018-03-01"}, {"to": "2099-01-01"}])
async def test_trends_dates_in_plausible_years_are_still_clamped_to_the_data(refusals: TestClient,
                                                                            query: dict[str, str]) -> None:
    resp = await refusals.get("/trends", params=query, headers=auth("leader"))

    assert resp.status == 200


@pytest.mark.parametrize("body", [{"follow_up_at": "9999-12-31T00:00:00+07:00"}, {"merged_into": ".."}])
async def test_patches_with_dates_out_of_range_or_bad_ids_are_refused(refusals: TestClient, body: dict[str, str]) -> None:
    resp = await refusals.patch("/api/tickets/manual-0123", json=body, headers=auth("operator"))

    assert resp.status == 400


async def test_deep_json_and_lone_surrogates_get_400_not_500(refusals: TestClient) -> None:
    """#9: deeply nested JSON was a RecursionError (500); "\\ud800" a UnicodeEncodeError in the journal."""
    deep = "[" * 5000 + "]" * 5000
    nested = await refusals.post("/api/tickets", data=deep, headers={**auth("operator"),
                                                                   "Content-Type": "application/json"})
    surrogate = await refusals.post("/api/tickets", data='{"text": "s\\ud800t"}',
                                  headers={**auth("operator"), "Content-Type": "application/json"})
    transcript = make_transcript("CA" + "9" * 32, 1, "x")
    transcript["TranscriptionData"] = '{"transcript": ' + "[" * 5000 + "]" * 5000 + "}"
    webhook = await post_signed(refusals, "/twilio/transcription", transcript)
    lone = make_transcript("CA" + "9" * 32, 2, "x")
    lone["TranscriptionData"] = '{"transcript": "s\\ud800t"}'
    webhook_lone = await post_signed(refusals, "/twilio/transcription", lone)

    assert (nested.status, surrogate.status, webhook.status, webhook_lone.status) == (400, 400, 400, 400)
    assert (await nested.json())["error"] == "bad_request"


async def test_an_oversized_url_gets_a_json_414(refusals: TestClient) -> None:
    """#9: a URL over 8,190 bytes got aiohttp's plain-text 400 and a traceback in the log."""
    resp = await refusals.get("/api/tickets?q=" + "a" * 9000, headers=auth("leader"))

    assert resp.status == 414 and (await resp.json())["error"] == "uri_too_long"


async def test_a_document_elasticsearch_refuses_is_logged_without_its_content(
        aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, models: Models) -> None:
    """#10: a refused ticket was logged whole, with the caller's number and text."""
    body = copy.deepcopy(ticket_index.MAPPING)
    body["properties"]["text"] = {"type": "long"}  # so Elasticsearch refuses every ticket with words in it
    concrete = f"{unique_prefix}tickets-v{ticket_index.VERSION}"
    await es.indices.create(index=concrete, mappings=body, settings={"number_of_replicas": 0})
    await es.indices.put_alias(index=concrete, name=f"{unique_prefix}tickets")
    client = await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                             models=models, domains={"intake"}))
    secret = "nhà bà Tư ở 12 Lê Lợi, gọi 0912 345 678 nhé"
    caplog.set_level(logging.INFO)

    assert (await post_signed(client, "/twilio/sms", make_sms("SM" + "d" * 32, secret, "+84987001122"))).status == 200
    journal = client.app[intake_keys.JOURNAL]
    for _ in range(200):
        row = journal._db.execute("SELECT attempts, last_error FROM entries").fetchone()
        if row and row[0]:
            break
        await asyncio.sleep(0.1)

    assert row[0] >= 1 and "400" in row[1]
    for text in (caplog.text, row[1]):
        assert "0912" not in text and "Lê Lợi" not in text and "+84987001122" not in text
    assert json.dumps(secret, ensure_ascii=False)[1:10] not in caplog.text
