"""`hotline import posts FILE`: per-line errors with line numbers on stderr, good lines ingested, exit 1."""
from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from hotline import indices
from hotline.es import make_es
from hotline.settings import Settings
from social_monitor.cli import make_import_group
from social_monitor.service import SocialService
from social_monitor.store import SocialStore


def _group(settings: Settings, prefix: str) -> Any:
    @contextlib.asynccontextmanager
    async def open_service(_: Any) -> AsyncIterator[SocialService]:
        es = make_es(settings)  # a client of the CLI's own event loop, as the real command builds it
        try:
            await indices.ensure_all(es, prefix)
            yield SocialService(store=SocialStore(es, prefix))
        finally:
            await es.close()
    return make_import_group(open_service)


def test_import_reports_bad_lines_and_ingests_the_rest(settings: Settings, unique_prefix: str, tmp_path: Path) -> None:
    export = tmp_path / "partner.jsonl"
    export.write_text("\n".join([
        json.dumps({"id": "1", "text": "Tin đồn: trực thăng rải thuốc tối nay"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "2", "text": "x", "shares": "nhiều"}, ensure_ascii=False),
        "",
        json.dumps({"id": "3", "text": "Giá rau tăng gấp đôi ở chợ Lái Thiêu"}, ensure_ascii=False)]) + "\n")

    result = CliRunner().invoke(_group(settings, unique_prefix), ["posts", str(export)])

    assert result.exit_code == 1, result.output
    assert f"{export}:2: not JSON" in result.stderr
    assert f"{export}:3: 'shares' must be a whole number" in result.stderr
    report = json.loads(result.stdout)
    assert (report["received"], report["indexed"], report["rejected"]) == (2, 2, 2)
    assert report["posts_per_second"] > 0


def test_import_reads_csv_with_the_same_fields(settings: Settings, unique_prefix: str, tmp_path: Path) -> None:
    export = tmp_path / "crawler.csv"
    export.write_text("id,text,likes,published_at\n1,Tin đồn vắc xin gây vô sinh,4,2021-08-20 08:00\n"
                      "2,,,\n", encoding="utf-8")

    result = CliRunner().invoke(_group(settings, unique_prefix), ["posts", str(export), "--source", "crawler"])

    assert result.exit_code == 1
    assert f"{export}:3: a post needs 'text'" in result.stderr
    assert json.loads(result.stdout)["indexed"] == 1


def test_import_refuses_other_file_types(settings: Settings, unique_prefix: str, tmp_path: Path) -> None:
    export = tmp_path / "posts.xlsx"
    export.write_bytes(b"PK\x03\x04")

    result = CliRunner().invoke(_group(settings, unique_prefix), ["posts", str(export)])

    assert result.exit_code == 2 and "FILE must end in .jsonl or .csv" in result.output


def test_export_pairs_writes_the_labelled_pairs_of_merges_and_splits_redacted(settings: Settings, unique_prefix: str,
                                                                               tmp_path: Path) -> None:
    import asyncio
    from datetime import datetime, timezone

    from social_monitor.cli import make_claims_group
    from social_monitor.curation import split_pairs
    from social_monitor.records import Post

    def post(post_id: str, text: str) -> Post:
        return Post(post_id, "zalo", post_id, text, datetime(2021, 8, 20, tzinfo=timezone.utc), post_id)

    async def store_pairs() -> None:
        es = make_es(settings)
        try:
            await indices.ensure_all(es, unique_prefix)
            await SocialStore(es, unique_prefix).add_pairs(split_pairs(
                [post("a", "Chợ Dĩ An đóng cửa, gọi 0912345678 để đặt rau"), post("b", "cho di an dong cua tu mai")],
                [post("c", "Chợ Thuận An đóng cửa từ mai")], claim_id="k", actor="mai",
                at=datetime(2021, 8, 21, tzinfo=timezone.utc)))
        finally:
            await es.close()

    asyncio.run(store_pairs())

    @contextlib.asynccontextmanager
    async def open_service(_: Any) -> AsyncIterator[SocialService]:
        es = make_es(settings)
        try:
            yield SocialService(store=SocialStore(es, unique_prefix))
        finally:
            await es.close()

    def no_rebuild(*_: Any, **__: Any) -> Any:
        raise AssertionError("not called")

    out = tmp_path / "pairs.jsonl"
    result = CliRunner().invoke(make_claims_group(open_service, no_rebuild), ["export-pairs", "--out", str(out)])

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["label"] for r in rows) == ["different", "different", "same"]
    assert all("0912345678" not in r["a"] + r["b"] for r in rows) and any("[phone]" in r["a"] + r["b"] for r in rows)
