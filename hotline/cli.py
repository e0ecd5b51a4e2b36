"""The root command line: `hotline run`, `hotline search-node ...`, `hotline index ...`."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from aiohttp import web
from elasticsearch import AsyncElasticsearch

import classifier.cli
import dashboards.cli
import intake.cli
import social_monitor.cli
import social_monitor.matcher_cli
from hotline import indices, search_node
from hotline.claims_rebuild import rebuild_claims
from hotline.demo import DEMO_USERS, load_demo
from hotline.intake_ctx import run_worker
from hotline.social_ctx import open_scratch_service, open_service
from hotline.es import open_es
from hotline.kernel.errors import SearchUnavailable
from hotline.logs import configure_logging
from hotline.settings import Settings, SettingsError
from hotline.web import create_app

T = TypeVar("T")


class Runtime:
    """What every command gets: the settings, and a way to run async work with a checked ES client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def journal_path(self) -> Path:
        """The intake journal's file."""
        return self.settings.journal_path

    @property
    def social_journal_path(self) -> Path:
        """The social monitor's post journal."""
        return self.settings.data_dir / "social.sqlite3"

    def alias(self, name: str) -> str:
        """The alias of index `name`."""
        return self.settings.alias(name)

    def run_with_es(self, work: Callable[[AsyncElasticsearch], Awaitable[T]]) -> T:
        """Run `work` with a client for ES_URL; an unreachable cluster becomes a one-line error."""
        return _with_es(self.settings, work)


def _settings(ctx: click.Context) -> Settings:
    runtime = ctx.obj
    assert isinstance(runtime, Runtime)
    return runtime.settings


def _with_es(settings: Settings, work: Callable[[AsyncElasticsearch], Awaitable[T]]) -> T:
    """Run one async job with a checked client; turn an unreachable cluster into a one-line error."""
    async def main() -> T:
        async with open_es(settings, ensure_indices=False) as es:
            return await work(es)
    try:
        return asyncio.run(main())
    except SearchUnavailable as err:
        raise click.ClickException(str(err)) from err


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Hotline 1022 and misinformation desk: intake, classification, search."""
    try:
        ctx.obj = Runtime(Settings.from_env())
    except SettingsError as err:
        raise click.UsageError(str(err)) from err
    configure_logging(ctx.obj.settings.log_level)


@cli.command()
@click.option("--host", help="Address to bind (default HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (default PORT or 8080).")
@click.pass_context
def run(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web app; start the local search node first unless ES_URL names a cluster."""
    settings = _settings(ctx)
    host, port = host or settings.host, port or settings.port
    if settings.es_url is not None:
        _serve(settings, host, port)
        return
    try:
        with search_node.running_node(settings.search_node_home, port=settings.search_node_port,
                                      heap=settings.search_node_heap) as node:
            click.echo(f"search node: {node.url} (data in {settings.search_node_home})", err=True)
            _serve(settings.with_es_url(node.url), host, port)
    except search_node.SearchNodeError as err:
        raise click.ClickException(str(err)) from err


def _serve(settings: Settings, host: str, port: int) -> None:
    try:
        web.run_app(create_app(settings), host=host, port=port, print=lambda msg: click.echo(msg, err=True),
                    access_log=None)
    except SearchUnavailable as err:
        raise click.ClickException(str(err)) from err


@cli.command()
@click.option("--nice", type=click.IntRange(0, 19), default=10, show_default=True,
              help="Lower this process's CPU priority by this much, so that webhooks are answered first.")
@click.option("--once", is_flag=True, help="Store what is pending now, then exit.")
@click.pass_context
def worker(ctx: click.Context, nice: int, once: bool) -> None:
    """Move the intake journal into Elasticsearch, beside `hotline run` started with INTAKE_WORKER=external."""
    settings = _settings(ctx)
    if settings.es_url is None:
        node = search_node.read_running(settings.search_node_home)
        if node is None:
            raise click.ClickException("no ES_URL and no local search node running: start `hotline run` first")
        settings = settings.with_es_url(node.url)
    if nice:
        os.nice(nice)

    async def main() -> int:
        task = asyncio.current_task()
        if not once and task is not None:  # SIGTERM (a service manager) lets the current batch be marked done
            for signum in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
        try:
            return await run_worker(settings, once=once)
        except asyncio.CancelledError:
            return 0

    try:
        stored = asyncio.run(main())
    except SearchUnavailable as err:
        raise click.ClickException(str(err)) from err
    if once:
        click.echo(f"stored {stored} journal entries")


@cli.group("search-node")
def search_node_group() -> None:
    """The local Elasticsearch node for development and tests (not for production)."""


def _home_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--home", type=click.Path(path_type=Path), help="Node folder (default DATA_DIR/search-node).")(func)


@search_node_group.command("build")
def search_node_build() -> None:
    """Compile the launcher and fetch Elasticsearch's jars from Maven Central (once)."""
    try:
        search_node.ensure_built()
    except search_node.SearchNodeError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"search node built in {search_node.PROJECT_DIR / 'target'}")


@search_node_group.command("start")
@_home_option
@click.option("--port", type=int, help="HTTP port (default SEARCH_NODE_PORT or 9200; 0 picks a free one).")
@click.option("--fresh", is_flag=True, help="Delete the node's data first.")
@click.pass_context
def search_node_start(ctx: click.Context, home: Path | None, port: int | None, fresh: bool) -> None:
    """Start the node in the background and print its URL."""
    settings = _settings(ctx)
    try:
        node = search_node.start(home or settings.search_node_home, heap=settings.search_node_heap, fresh=fresh,
                                 port=settings.search_node_port if port is None else port)
    except search_node.SearchNodeError as err:
        raise click.ClickException(str(err)) from err
    click.echo(node.url)


@search_node_group.command("stop")
@_home_option
@click.pass_context
def search_node_stop(ctx: click.Context, home: Path | None) -> None:
    """Stop the node started with `start`."""
    stopped = search_node.stop(home or _settings(ctx).search_node_home)
    click.echo("stopped" if stopped else "not running")


@search_node_group.command("status")
@_home_option
@click.pass_context
def search_node_status(ctx: click.Context, home: Path | None) -> None:
    """Print the node's URL and cluster health; exit 1 if it is not running."""
    node = search_node.read_running(home or _settings(ctx).search_node_home)
    health = search_node.cluster_health(node.url) if node else None
    if node is None or health is None:
        click.echo("not running")
        ctx.exit(1)
    click.echo(json.dumps({"pid": node.pid, "url": node.url, "status": health.get("status")}))


@search_node_group.command("exec", context_settings={"ignore_unknown_options": True})
@_home_option
@click.option("--port", type=int, default=0, show_default=True, help="HTTP port (0 picks a free one).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@click.pass_context
def search_node_exec(ctx: click.Context, home: Path | None, port: int, command: tuple[str, ...]) -> None:
    """Start a fresh node, run COMMAND with ES_URL pointing at it, stop the node; exit with COMMAND's code."""
    settings = _settings(ctx)
    try:
        with search_node.running_node(home or settings.data_dir / "test-search-node", port=port,
                                      heap=settings.search_node_heap, fresh=True) as node:
            code = subprocess.call(list(command), env={**os.environ, "ES_URL": node.url})
    except search_node.SearchNodeError as err:
        raise click.ClickException(str(err)) from err
    sys.exit(code)


@cli.group("index")
def index_group() -> None:
    """Create, inspect and migrate the versioned indices."""


@index_group.command("create")
@click.pass_context
def index_create(ctx: click.Context) -> None:
    """Create every index and alias that does not exist yet."""
    settings = _settings(ctx)
    states = _with_es(settings, lambda es: indices.ensure_all(es, settings.index_prefix))
    click.echo(json.dumps([s.as_json() for s in states], indent=2))


@index_group.command("status")
@click.pass_context
def index_status(ctx: click.Context) -> None:
    """Show where each alias points; exit 1 if any needs a migration."""
    settings = _settings(ctx)

    async def work(es: AsyncElasticsearch) -> list[indices.IndexState]:
        return [await indices.state(es, spec, settings.index_prefix) for spec in indices.SPECS]

    states = _with_es(settings, work)
    click.echo(json.dumps([s.as_json() for s in states], indent=2))
    if not all(s.ok for s in states):
        ctx.exit(1)


@index_group.command("migrate")
@click.option("--keep-old", is_flag=True, help="Keep the previous index after the alias swap (for rollback).")
@click.pass_context
def index_migrate(ctx: click.Context, keep_old: bool) -> None:
    """Copy each alias's documents into the current mapping version and swap the alias."""
    settings = _settings(ctx)

    async def work(es: AsyncElasticsearch) -> list[indices.Migration]:
        return [await indices.migrate(es, spec, settings.index_prefix, keep_old=keep_old) for spec in indices.SPECS]

    try:
        done = _with_es(settings, work)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    click.echo(json.dumps([m.as_json() for m in done], indent=2))


@cli.group("demo")
def demo_group() -> None:
    """Demo data for a newcomer's local node."""


@demo_group.command("load")
@click.option("--tickets", type=click.IntRange(1, 100_000), default=400, show_default=True,
              help="How many demo tickets to create.")
@click.option("--password", envvar="DEMO_PASSWORD", required=True, prompt=True, hide_input=True,
              help="Password of the demo users (DEMO_PASSWORD).")
@click.pass_context
def demo_load(ctx: click.Context, tickets: int, password: str) -> None:
    """Create demo users (one per role) and tickets spread over 30 days, with a surge to spot."""
    settings = _settings(ctx)

    async def work(es: AsyncElasticsearch) -> dict[str, int]:
        await indices.ensure_all(es, settings.index_prefix)
        async with open_service(settings) as social:
            return await load_demo(es, alias=settings.alias, password=password, tickets=tickets, social=social)
    done = _with_es(settings, work)
    click.echo(f"created {done['users']} users, {done['tickets']} tickets, {done['posts']} posts and "
               f"{done.get('cases', 0)} home-isolation cases; users: "
               + ", ".join(f"{u} ({r})" for u, r, _ in DEMO_USERS) + ", yt.donghoa (medical, Dĩ An/Đông Hòa)")


cli.add_command(classifier.cli.classify)
cli.add_command(classifier.cli.train)
cli.add_command(classifier.cli.evaluate)
cli.add_command(social_monitor.cli.make_import_group(open_service))
def _rebuild_claims(runtime: Runtime, **options: Any) -> Any:
    """`hotline claims rebuild` with a checked client (hotline/claims_rebuild.py swaps the indices)."""
    return _with_es(runtime.settings, lambda es: rebuild_claims(runtime.settings, es, **options))


_claims = social_monitor.cli.make_claims_group(open_service, _rebuild_claims)
for _command in social_monitor.matcher_cli.make_claims_group(
        lambda runtime: open_scratch_service(runtime.settings)).commands.values():
    _claims.add_command(_command)  # train-matcher and evaluate beside rebuild and export-pairs
cli.add_command(_claims)
cli.add_command(intake.cli.tickets_group)
intake.cli.journal_group.add_command(social_monitor.cli.journal_posts)
cli.add_command(intake.cli.journal_group)
cli.add_command(dashboards.cli.users_group)


if __name__ == "__main__":
    cli()
