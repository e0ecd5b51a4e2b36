"""Operator tooling: exporting category corrections for retraining, and the journal's state."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from classifier.train import SEED_DIR
from hotline.cli import cli
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.journal import Journal
from tests.factories import auth, make_settings


async def test_corrections_export_feeds_retraining(aiohttp_client: Any, settings: Settings, es: Any,
                                                   unique_prefix: str, tmp_path: Path, models: Models) -> None:
    client: TestClient = await aiohttp_client(create_app(make_settings(settings, tmp_path / "d",
                                                                       index_prefix=unique_prefix),
                                                         models=models, domains={"intake"}))
    made = await (await client.post("/api/tickets", json={"text": "cột điện nghiêng sắp đổ, gọi 0912 345 678"},
                                    headers=auth("operator"))).json()
    await client.post("/api/tickets", json={"text": "hỏi lịch tiêm"}, headers=auth("operator"))
    await client.patch(f"/api/tickets/{made['id']}", json={"category": "other"}, headers=auth("operator"))
    await client.app[intake_keys.STORE].refresh()
    out = tmp_path / "corrections.jsonl"
    env = {"ES_URL": settings.es_url or "", "INDEX_PREFIX": unique_prefix, "LOG_LEVEL": "WARNING"}

    # The CLI runs its own event loop, so it runs in a thread here, as it would in its own process.
    exported = await asyncio.to_thread(CliRunner().invoke, cli, ["tickets", "export-corrections", "--out", str(out)],
                                       env=env)

    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [{"text": "cột điện nghiêng sắp đổ, gọi [phone]", "label": "other"}]
    trained = await asyncio.to_thread(CliRunner().invoke, cli, ["train", "category", "--extra", str(out), "--folds",
                                                                "2", "--models-dir", str(tmp_path / "models")], env=env)
    assert trained.exit_code == 0, trained.output
    seed = sum(1 for f in SEED_DIR.glob("*.jsonl") for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    assert f"n {seed + 1}" in trained.stdout  # the seed corpus and the one correction


def test_journal_status_and_retry_read_the_local_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    entry = journal.append("sms", "sms:SM1", {"x": 1}, datetime.now(timezone.utc)).entry
    for _ in range(20):
        journal.mark_failed(entry.id, "boom")
    journal.close()
    env = {"DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}

    before = CliRunner().invoke(cli, ["journal", "status"], env=env)
    retried = CliRunner().invoke(cli, ["journal", "retry"], env=env)
    after = CliRunner().invoke(cli, ["journal", "status"], env=env)

    assert json.loads(before.output) == {"pending": 0, "done": 0, "dead": 1}
    assert retried.output.strip() == "requeued 1 entries"
    assert json.loads(after.output) == {"pending": 1, "done": 0, "dead": 0}


@pytest.mark.parametrize("command", [["tickets", "export-corrections"], ["journal", "bogus"]])
def test_bad_invocations_are_usage_errors(command: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, command, env={"DATA_DIR": str(tmp_path)})

    assert result.exit_code == 2
    assert "Traceback" not in result.output
