"""Issue 14 rows #3 and #7: phone and ID numbers inside texts are masked for leaders and comms (API, page, CSV,
the social monitor's copy of tickets); CSV cells never start a formula."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from classifier.text import mask_pii
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from social_monitor import keys as social_keys
from social_monitor.collectors import TicketCollector
from tests.factories import auth, make_settings

TEXT = "=HYPERLINK(\"http://evil.example\") tin đồn: gọi 0912 345 678 hoặc +84 987654321, CCCD 012345678901"
NUMBERS = ("0912 345 678", "987654321", "012345678901", "345")


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                                              models=models))
    created = await client.post("/api/tickets", json={"text": TEXT, "district": "=1+1"}, headers=auth("operator"))
    assert created.status == 201, await created.text()
    ticket = await created.json()
    patched = await client.patch(f"/api/tickets/{ticket['id']}", json={"category": "misinformation_report"},
                                 headers=auth("operator"))
    assert patched.status == 200
    await client.app[intake_keys.STORE].refresh()
    return client


@pytest.mark.parametrize("text", ["0912 345 678", "0912.345.678", "+84 912345678", "84912345678", "0912345678",
                                  "CCCD 012345678901", "CMND 123456789"])
def test_mask_pii_hides_vietnamese_phone_and_id_formats_but_the_last_three_digits(text: str) -> None:
    masked = mask_pii(f"liên hệ {text} gấp")

    assert masked.startswith("liên hệ ") and masked.endswith(" gấp")
    assert sum(c.isdigit() for c in masked) == 3 and masked[-7:-4] == text[-3:]


async def test_leaders_get_texts_masked_in_the_api_and_operators_do_not(client: TestClient) -> None:
    leader = (await (await client.get("/api/tickets", headers=auth("leader"))).json())["tickets"][0]
    operator = (await (await client.get("/api/tickets", headers=auth("operator"))).json())["tickets"][0]

    for field in ("text", "messages"):
        assert not any(n in str(leader[field]) for n in NUMBERS), leader[field]
    assert "0912 345 678" in operator["text"] and "012345678901" in operator["text"]


async def test_the_trends_page_and_csv_mask_numbers_and_neutralise_formulas(client: TestClient) -> None:
    page = await (await client.get("/trends", headers=auth("leader"))).text()
    export = await client.get("/trends/export.csv", headers=auth("leader"))
    rows = list(csv.reader(io.StringIO((await export.text()).lstrip("\ufeff"))))

    assert "*** 678" in page and not any(n in page for n in NUMBERS[:3])
    header, row = rows[0], rows[1]
    text = row[header.index("noi_dung")]
    assert text.startswith("'=HYPERLINK") and not any(n in text for n in NUMBERS)
    assert row[header.index("huyen")] == "'=1+1"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)


async def test_the_social_monitors_copy_of_a_ticket_is_masked(client: TestClient) -> None:
    batch = await TicketCollector(client.app[social_keys.STORE]).collect(None)

    assert len(batch.posts) == 1
    assert not any(n in batch.posts[0].text for n in NUMBERS) and "*** 678" in batch.posts[0].text
