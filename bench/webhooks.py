"""Webhook latency under load: the real app against a trivial aiohttp app (the floor), side by side.

    .venv/bin/python -m bench.webhooks --connections 50 200 500 --duration 10

Three kinds of process, so that the load generator never shares an interpreter with a server:
- the app: `hotline.web.create_app(settings)` served by `web.AppRunner` on 127.0.0.1, with a search node
  (started here in a temp dir, or --es-url), a temp DATA_DIR (the SQLite journal) and TWILIO_AUTH_TOKEN set.
  A fresh app process, with a fresh journal, serves each connection level, so the journal backlog of one
  level (the worker classifies and indexes every accepted webhook in the same process) does not leak into the
  next; the backlog left at the end of each level is reported;
- the floor: an aiohttp app whose handlers read the form and answer a fixed TwiML string;
- the load generator: an aiohttp client holding N connections, each sending correctly signed POST
  /twilio/voice and /twilio/sms in turn (unique CallSid / MessageSid; X-Twilio-Signature from
  twilio.request_validator.RequestValidator over PUBLIC_BASE_URL + path) for a bounded time and count.

The load is closed-loop: every connection sends its next request when the previous one is answered. By
Little's law the mean latency is then connections / throughput, so on this 2-core machine, where the load
generator and the server share the cores, the floor's latency shows what the machine itself allows.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, Final

from bench import report
from bench.node import free_port, search_node_url

TOKEN: Final = "bench-auth-token-0123456789abcdef"
ACCOUNT_SID: Final = "AC" + "0" * 32
PUBLIC_BASE_URL: Final = "https://1022.bench.example.gov.vn"
PATHS: Final = ("/twilio/voice", "/twilio/sms")
TARGET_P99_MS: Final = 100.0
TARGET_CONNECTIONS: Final = 200
REQUEST_TIMEOUT_S: Final = 10.0
FLOOR_TWIML: Final = ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
                      'Đường dây nóng 1022 đã nhận phản ánh của quý vị.</Message></Response>')


# --- servers (child processes) --------------------------------------------------------------------------

def _floor_app() -> Any:
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text=FLOOR_TWIML, content_type="application/xml", charset="utf-8")

    app = web.Application()
    app.add_routes([web.post(path, answer) for path in PATHS])
    return app


async def _serve_async(kind: str, settings: Any, port: int, ready: Event, stop: Event) -> None:
    from aiohttp import web

    from hotline.logs import configure_logging
    from hotline.web import create_app

    configure_logging("WARNING")
    app = create_app(settings) if kind == "app" else _floor_app()
    runner = web.AppRunner(app, access_log=None)  # as `hotline run` serves it
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    await runner.cleanup()


def serve(kind: str, settings: Any, port: int, ready: Event, stop: Event) -> None:
    """Child-process entry: serve `kind` ("app" or "floor") on 127.0.0.1:port until `stop` is set."""
    asyncio.run(_serve_async(kind, settings, port, ready, stop))


@dataclass
class Server:
    """A server child process and the events that start and stop it."""

    kind: str
    port: int
    process: multiprocessing.process.BaseProcess
    stop: Event

    @classmethod
    def start(cls, kind: str, settings: Any, timeout_s: float = 120) -> Server:
        """Spawn the server and wait until it listens."""
        ctx = multiprocessing.get_context("spawn")
        ready, stop = ctx.Event(), ctx.Event()
        port = free_port()
        process = ctx.Process(target=serve, args=(kind, settings, port, ready, stop), name=f"bench-{kind}")
        process.start()
        deadline = time.monotonic() + timeout_s
        while not ready.wait(0.2):
            if not process.is_alive() or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{kind} server did not start (exit code {process.exitcode})")
        return cls(kind, port, process, stop)

    def close(self) -> None:
        """Ask the server to stop; kill it if it does not within 30 s."""
        self.stop.set()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


# --- the load generator (a child process) ---------------------------------------------------------------

@dataclass
class LoadResult:
    """What one load run measured."""

    connections: int
    duration_s: float
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        """Requests answered (any status) plus requests that failed."""
        return sum(len(v) for v in self.latencies_ms.values()) + sum(
            n for k, n in self.errors.items() if not k.startswith("HTTP "))

    def all_latencies(self) -> list[float]:
        """Latencies of every answered request, all paths together."""
        return [x for values in self.latencies_ms.values() for x in values]


def _form(path: str, n: int, worker: int, bodies: Sequence[str]) -> dict[str, str]:
    sid = uuid.uuid4().hex
    if path == "/twilio/voice":
        return {"CallSid": f"CA{sid}", "AccountSid": ACCOUNT_SID, "From": f"+849{worker:04d}{n % 10000:04d}",
                "To": "+842743822022", "CallStatus": "ringing", "Direction": "inbound"}
    return {"MessageSid": f"SM{sid}", "AccountSid": ACCOUNT_SID, "From": f"+848{worker:04d}{n % 50:04d}",
            "To": "+842743822022", "Body": bodies[n % len(bodies)], "NumMedia": "0"}


async def _load(base_url: str, connections: int, duration_s: float, max_requests: int,
                bodies: Sequence[str]) -> LoadResult:
    import aiohttp
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    result = LoadResult(connections, duration_s, {path: [] for path in PATHS})
    sent = 0
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + duration_s

        async def worker(w: int) -> None:
            nonlocal sent
            n = 0
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                path = PATHS[(w + n) % len(PATHS)]
                form = _form(path, n, w, bodies)
                headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC_BASE_URL + path, form)}
                n += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(base_url + path, data=form, headers=headers) as resp:
                        await resp.read()
                        status = resp.status
                except Exception as err:  # count every failure by kind; the run goes on
                    result.errors[type(err).__name__] += 1
                    continue
                result.latencies_ms[path].append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    result.errors[f"HTTP {status}"] += 1

        await asyncio.gather(*(worker(w) for w in range(connections)))
        result.duration_s = time.perf_counter() - started
    return result


def run_load(base_url: str, connections: int, duration_s: float, max_requests: int,
             bodies: Sequence[str]) -> LoadResult:
    """Child-process entry: hold `connections` connections for `duration_s` (at most `max_requests`)."""
    return asyncio.run(_load(base_url, connections, duration_s, max_requests, bodies))


# --- orchestration --------------------------------------------------------------------------------------

def _journal_counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM entries GROUP BY state").fetchall())


async def _delete_prefix(es_url: str, prefix: str) -> None:
    from elasticsearch import AsyncElasticsearch

    async with AsyncElasticsearch(es_url) as es:
        await es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")


@dataclass
class Row:
    """One line of the results table."""

    connections: int
    target: str
    result: LoadResult
    pending_after: int | None = None
    accepted: int | None = None


def run(es_url: str, levels: Sequence[int], duration_s: float, max_requests: int, warmup_s: float) -> str:
    """Measure every level, floor first then a fresh app; return the Markdown section."""
    from bench.corpus import make_texts
    from hotline.settings import Settings

    bodies = make_texts(500, seed=7)
    prefix = f"bench-web-{uuid.uuid4().hex[:8]}-"
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-web-"))
    loader = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    floor = Server.start("floor", None)
    try:
        base = Settings(es_url=es_url, index_prefix=prefix, twilio_auth_token=TOKEN,
                        public_base_url=PUBLIC_BASE_URL, log_level="WARNING")
        for level in levels:
            floor_url = f"http://127.0.0.1:{floor.port}"
            loader.submit(run_load, floor_url, min(level, 50), warmup_s, max_requests, bodies).result()
            measured = loader.submit(run_load, floor_url, level, duration_s, max_requests, bodies).result()
            rows.append(Row(level, "floor (trivial aiohttp)", measured))
            data_dir = work / f"app-{level}"
            app = Server.start("app", replace(base, data_dir=data_dir))
            try:
                app_url = f"http://127.0.0.1:{app.port}"
                loader.submit(run_load, app_url, min(level, 50), warmup_s, max_requests, bodies).result()
                result = loader.submit(run_load, app_url, level, duration_s, max_requests, bodies).result()
                counts = _journal_counts(data_dir / "journal.sqlite3")
                rows.append(Row(level, "app (create_app)", result, counts.get("pending", 0),
                                sum(counts.values())))
            finally:
                app.close()
            print(f"{level} connections done", file=sys.stderr)
    finally:
        floor.close()
        loader.shutdown()
        asyncio.run(_delete_prefix(es_url, prefix))
        shutil.rmtree(work, ignore_errors=True)
    return _section(rows, duration_s, max_requests)


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def _section(rows: Sequence[Row], duration_s: float, max_requests: int) -> str:
    main_rows, path_rows = [], []
    verdicts = []
    for row in rows:
        lat = row.result.all_latencies()
        errors = sum(row.result.errors.values())
        detail = ", ".join(f"{k}: {n}" for k, n in row.result.errors.most_common()) or "0"
        main_rows.append([row.connections, row.target, f"{row.result.count:,}",
                          f"{row.result.count / row.result.duration_s:,.0f}",
                          _ms(report.percentile(lat, 50)), _ms(report.percentile(lat, 95)),
                          _ms(report.percentile(lat, 99)), _ms(max(lat) if lat else float("nan")), detail,
                          "" if row.pending_after is None else f"{row.pending_after:,} of {row.accepted:,}"])
        for path, values in row.result.latencies_ms.items():
            path_rows.append([row.connections, row.target, path, f"{len(values):,}",
                              _ms(report.percentile(values, 50)), _ms(report.percentile(values, 95)),
                              _ms(report.percentile(values, 99))])
        if row.connections == TARGET_CONNECTIONS and row.target.startswith("app"):
            p99 = report.percentile(lat, 99)
            verdicts.append(f"Target at {TARGET_CONNECTIONS} connections: p99 < {TARGET_P99_MS:.0f} ms and "
                            f"zero errors → app p99 {_ms(p99)} ms, {errors} errors → "
                            f"{report.verdict(p99 < TARGET_P99_MS and errors == 0)}.")
    if not verdicts:
        verdicts.append(f"Target (p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CONNECTIONS} connections) "
                        f"not measured: no {TARGET_CONNECTIONS}-connection level in this run.")
    return "\n".join([
        f"## Webhook latency under load ({duration_s:g} s per level, "
        f"at most {max_requests:,} requests per level)",
        "",
        "Signed POST /twilio/voice and /twilio/sms alternately; closed loop "
        "(each connection waits for its answer). "
        "Latency is measured in the load generator, from sending the request to reading the whole answer.",
        "",
        report.table(["connections", "server", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                      "errors", "journal pending at end"], main_rows),
        "",
        *verdicts,
        "",
        "`journal pending at end`: of the webhooks this app process journaled "
        "(fsync'd; warm-up included), how many "
        "its worker had not yet moved into Elasticsearch when the load stopped.",
        "",
        "Per endpoint:",
        "",
        report.table(["connections", "server", "path", "requests", "p50 ms", "p95 ms", "p99 ms"], path_rows),
    ])


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, run, print the table and append it to the results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, nargs="+", default=[50, 200, 500],
                        help="concurrent connections, one level each (default 50 200 500)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of load per level and server (default 10)")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="cap on requests per level and server")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of unmeasured load before each level")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node (default 1g)")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.duration > 120 or any(c < 1 or c > 2000 for c in args.connections):
        parser.error("--duration must be in (0, 120] and --connections in 1..2000")
    with search_node_url(args.es_url, heap=args.heap) as es_url:
        section = run(es_url, args.connections, args.duration, args.max_requests, args.warmup)
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
