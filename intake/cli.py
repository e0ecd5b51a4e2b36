"""`hotline tickets ...` and `hotline journal ...`: operator tooling for intake."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from classifier.text import redact
from intake.journal import Journal
from intake.store import TicketStore

T = TypeVar("T")


class Runtime(Protocol):
    """What the root CLI hands to domain commands (hotline.cli.Runtime)."""

    journal_path: Path

    def alias(self, name: str) -> str: ...

    def run_with_es(self, work: Callable[[Any], Awaitable[T]]) -> T: ...


def build_corrections_query(size: int) -> dict[str, Any]:
    """Tickets whose category an operator set or confirmed: verified training labels."""
    return {"query": {"term": {"category_corrected": True}}, "size": size, "sort": [{"created_at": "asc"}]}


@click.group("tickets")
def tickets_group() -> None:
    """Hotline tickets."""


@tickets_group.command("export-corrections")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="JSONL file for `hotline train category --extra FILE`.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=10_000, show_default=True,
              help="At most this many tickets.")
@click.pass_obj
def export_corrections(runtime: Runtime, out: Path, limit: int) -> None:
    """Write operators' category corrections as training examples (phone and ID numbers redacted)."""
    async def work(es: Any) -> int:
        page = await TicketStore(es, runtime.alias("tickets")).search(build_corrections_query(limit))
        with open(out, "w", encoding="utf-8") as f:
            for ticket in page.tickets:
                if ticket.text.strip() and ticket.category:
                    f.write(json.dumps({"text": redact(ticket.text), "label": ticket.category}, ensure_ascii=False) + "\n")
        return len(page.tickets)

    click.echo(f"wrote {runtime.run_with_es(work)} corrections to {out}")


@click.group("journal")
def journal_group() -> None:
    """The intake journal: webhooks accepted but not yet in Elasticsearch."""


@journal_group.command("status")
@click.pass_obj
def journal_status(runtime: Runtime) -> None:
    """Count pending, done and parked entries."""
    journal = Journal(runtime.journal_path)
    try:
        click.echo(json.dumps(journal.counts()))
    finally:
        journal.close()


@journal_group.command("retry")
@click.pass_obj
def journal_retry(runtime: Runtime) -> None:
    """Queue parked entries again (after fixing what made them fail)."""
    journal = Journal(runtime.journal_path)
    try:
        click.echo(f"requeued {journal.retry_dead()} entries")
    finally:
        journal.close()


