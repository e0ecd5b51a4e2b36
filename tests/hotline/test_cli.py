"""The command line against the real node, and its one-line errors when the node is not there."""
from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import AsyncElasticsearch

from hotline import indices
from hotline.cli import cli
from hotline.settings import Settings
from intake.journal import Journal


def _env(settings: Settings, prefix: str) -> dict[str, str]:
    return {"ES_URL": settings.es_url or "", "INDEX_PREFIX": prefix, "LOG_LEVEL": "WARNING"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_index_create_then_status_reports_ok(settings: Settings, es: AsyncElasticsearch, unique_prefix: str) -> None:
    runner = CliRunner()

    created = runner.invoke(cli, ["index", "create"], env=_env(settings, unique_prefix))
    status = runner.invoke(cli, ["index", "status"], env=_env(settings, unique_prefix))

    assert created.exit_code == 0, created.output
    assert status.exit_code == 0, status.output
    assert [s["alias"] for s in json.loads(status.output)] == [f"{unique_prefix}{spec.name}" for spec in indices.SPECS]


def test_index_status_exits_1_before_indices_exist(settings: Settings, es: AsyncElasticsearch, unique_prefix: str) -> None:
    result = CliRunner().invoke(cli, ["index", "status"], env=_env(settings, unique_prefix))

    assert result.exit_code == 1
    assert all(not s["ok"] for s in json.loads(result.output))


def test_index_migrate_on_current_indices_copies_nothing(settings: Settings, es: AsyncElasticsearch, unique_prefix: str) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["index", "create"], env=_env(settings, unique_prefix))

    result = runner.invoke(cli, ["index", "migrate"], env=_env(settings, unique_prefix))

    assert result.exit_code == 0, result.output
    assert [m["copied"] for m in json.loads(result.output)] == [0] * len(indices.SPECS)


@pytest.mark.parametrize("command", [["run", "--port", "0"], ["index", "create"], ["index", "status"]])
def test_unreachable_cluster_is_one_clear_line_and_exit_1(command: list[str]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"

    result = CliRunner().invoke(cli, command, env={"ES_URL": url, "LOG_LEVEL": "CRITICAL"})

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"Error: Elasticsearch is not reachable at {url}: " + lines[0].split(": ", 2)[2]]
    assert "Traceback" not in result.output


def test_bad_setting_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["index", "status"], env={"PORT": "eighty"})

    assert result.exit_code == 2
    assert "PORT must be a whole number" in result.output


def test_worker_once_stores_what_the_web_process_journaled(settings: Settings, es: AsyncElasticsearch,
                                                           unique_prefix: str, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    now = datetime.now(timezone.utc)
    journal.append("call", "call:CA" + "c" * 32,
                   {"call_sid": "CA" + "c" * 32, "caller": "+84911000333", "received_at": now.isoformat()}, now)
    journal.close()

    result = CliRunner().invoke(cli, ["worker", "--once", "--nice", "0"],
                                env={**_env(settings, unique_prefix), "DATA_DIR": str(tmp_path)})

    assert result.exit_code == 0, result.output
    assert "stored 1 journal entries" in result.output
    reopened = Journal(tmp_path / "journal.sqlite3")
    assert reopened.counts() == {"pending": 0, "done": 1, "dead": 0}
    reopened.close()
