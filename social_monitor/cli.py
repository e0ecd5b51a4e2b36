"""`hotline import posts FILE` and `hotline claims ...`: bulk imports, regrouping, training pairs.

Bad lines of an import are reported on stderr with their line number and skipped; the good ones are ingested
in batches through the same service as collected posts. The groups are built by `make_import_group(open_service)`
and `make_claims_group(open_service, rebuild)` so that the composition root passes in how to build the service
and how to swap indices (this package does not import `hotline`).
"""
from __future__ import annotations

import asyncio
import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Final, Protocol, TextIO

import click

from classifier.text import redact
from social_monitor.errors import InvalidPost
from social_monitor.journal import PostJournal
from social_monitor.rebuild import RebuildReport
from social_monitor.records import RawPost
from social_monitor.service import IngestReport, SocialService

BATCH: Final = 500
OpenService = Callable[[Any], AbstractAsyncContextManager[SocialService]]


class RunRebuild(Protocol):
    """How the composition root rebuilds the claims (hotline.cli): new indices, replay, alias swap."""

    def __call__(self, runtime: Any, *, on_start: Callable[[int], None], on_progress: Callable[[int], None],
                 batch: int, keep_old: bool) -> RebuildReport: ...


def read_posts(stream: TextIO, kind: str, default_source: str) -> Iterator[tuple[int, RawPost | str]]:
    """(line number, post or error message) for every record of a .jsonl or .csv export."""
    if kind == "csv":
        reader = csv.DictReader(stream)
        for row in reader:
            data = {k: v for k, v in row.items() if k and v not in (None, "")}
            yield reader.line_num, _parse(data, default_source)
        return
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, f"not JSON: {err.msg}"
            continue
        yield number, _parse(data, default_source)


def _parse(data: Any, default_source: str) -> RawPost | str:
    try:
        return RawPost.from_json(data, default_source=default_source)
    except InvalidPost as err:
        return str(err)


async def import_file(service: SocialService, path: Path, source: str, on_error: Callable[[str], None]
                      ) -> tuple[IngestReport, int]:
    """Ingest every good record of `path`; returns the summed report and the number of rejected lines."""
    kind = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    totals, rejected, batch = IngestReport(), 0, []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        for number, item in read_posts(stream, kind, source):
            if isinstance(item, str):
                rejected += 1
                on_error(f"{path}:{number}: {item}")
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                totals = _add(totals, await service.ingest(batch))
                batch = []
    if batch:
        totals = _add(totals, await service.ingest(batch))
    return totals, rejected


def _add(a: IngestReport, b: IngestReport) -> IngestReport:
    return IngestReport(*(x + y for x, y in zip(a.as_json().values(), b.as_json().values())))


@click.command("posts")
@click.option("--retry", is_flag=True, help="Queue parked posts again (after fixing what made them fail).")
@click.pass_obj
def journal_posts(runtime: Any, retry: bool) -> None:
    """The social monitor's post journal: pending, done and parked posts, and why the last ones were parked."""
    journal = PostJournal(runtime.social_journal_path)
    try:
        if retry:
            click.echo(f"requeued {journal.retry_dead()} posts")
            return
        click.echo(json.dumps({**journal.counts(), "parked_posts": [p.as_json() for p in journal.parked()]},
                              ensure_ascii=False))
    finally:
        journal.close()


def make_import_group(open_service: OpenService) -> click.Group:
    """The `import` group; `open_service(settings)` yields a ready SocialService (hotline.social_ctx.open_service)."""

    @click.group("import")
    def import_group() -> None:
        """Bulk imports into the social monitor."""

    @import_group.command("posts")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--source", help="Source name for records without a 'source' field (default: the file's stem).")
    @click.pass_context
    def import_posts(ctx: click.Context, file: Path, source: str | None) -> None:
        """Import posts from FILE (.jsonl: one JSON object a line; .csv: a header row with the same field names)."""
        if file.suffix.lower() not in (".jsonl", ".json", ".csv"):
            raise click.BadParameter("FILE must end in .jsonl or .csv", param_hint="FILE")

        async def main() -> tuple[IngestReport, int, float]:
            async with open_service(ctx.obj) as service:
                started = time.perf_counter()
                report, rejected = await import_file(service, file, source or file.stem,
                                                     lambda message: click.echo(message, err=True))
                return report, rejected, time.perf_counter() - started

        try:
            report, rejected, elapsed = asyncio.run(main())
        except (UnicodeDecodeError, csv.Error) as err:
            raise click.ClickException(f"{file} is not a UTF-8 JSON Lines or CSV file: {err}") from err
        rate = report.received / elapsed if elapsed > 0 else 0.0
        click.echo(json.dumps({**report.as_json(), "rejected": rejected, "seconds": round(elapsed, 2),
                               "posts_per_second": round(rate, 1)}))
        if rejected:
            ctx.exit(1)

    return import_group


def make_claims_group(open_service: OpenService, rebuild: RunRebuild) -> click.Group:
    """The `claims` group: regroup every post with the current matcher; export people's corrections."""

    @click.group("claims")
    def claims_group() -> None:
        """Claims: regrouping and the matcher's training pairs."""

    @claims_group.command("rebuild")
    @click.option("--batch", type=click.IntRange(1, 5000), default=500, show_default=True,
                  help="Posts per ingest batch (posts collected together are replayed together up to this).")
    @click.option("--keep-old", is_flag=True, help="Keep the previous posts and claims indices after the swap.")
    @click.pass_context
    def rebuild_command(ctx: click.Context, batch: int, keep_old: bool) -> None:
        """Regroup every stored post with the current matcher into new claims; reviews follow their posts."""
        with click.progressbar(length=1, label="Regrouping posts", file=sys.stderr,
                               show_pos=True) as bar:
            def start(total: int) -> None:
                bar.length = max(total, 1)
            report = rebuild(ctx.obj, on_start=start, on_progress=bar.update, batch=batch, keep_old=keep_old)
        click.echo(json.dumps(report.as_json()))

    @claims_group.command("export-pairs")
    @click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
                  help="JSONL file of {\"a\", \"b\", \"label\": \"same\"|\"different\"} for the matcher's trainer.")
    @click.pass_context
    def export_pairs(ctx: click.Context, out: Path) -> None:
        """Write the pairs people labelled by merging and splitting claims (phone and ID numbers redacted)."""
        async def main() -> int:
            written = 0
            async with open_service(ctx.obj) as service:
                with out.open("w", encoding="utf-8") as f:
                    async for pair in service.store.scan_pairs():
                        f.write(json.dumps({"a": redact(pair.a_text), "b": redact(pair.b_text),
                                            "label": pair.label.value, "origin": pair.origin,
                                            "at": pair.at.isoformat()}, ensure_ascii=False) + "\n")
                        written += 1
            return written

        click.echo(f"wrote {asyncio.run(main())} pairs to {out}")

    return claims_group
