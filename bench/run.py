"""Run every benchmark with reduced time budgets (under 10 minutes on the 2-core machine) into
bench/results/latest.md.

    .venv/bin/python -m bench.run            # what `make bench` runs

One throw-away search node serves the webhook and search benchmarks. Each benchmark runs in its own
interpreter (so one's memory and threads do not colour the next) and appends its section to the results
file, which this module starts afresh with a header naming the machine. A benchmark that fails or overruns
its time limit is reported in the file, the others still run, and the exit code is 1.

The time limits are the development machine's, stretched by how much slower this machine is right now
(`slowness`: a fixed CPU task timed against that machine's time), so a slower or busier CPU of the same size
takes longer but does not fail (issue 16: the webhook benchmark hit its 240 s limit on a Xeon); the limits
still stop a benchmark that hangs. Every benchmark is also sized by time (`--seconds`, `--query-seconds`,
`--duration`): the counts below are upper bounds, which the development machine reaches and a slower CPU
does not, so it measures fewer items rather than taking longer.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bench import report
from bench.node import search_node_url

# Reduced time budgets, with counts as upper bounds: the full ones are each module's defaults.
REDUCED: Final = {
    "classify": ["--seconds", "4", "--texts", "2000", "--reps", "5", "--per-text", "200"],
    "webhooks": ["--connections", "50", "200", "500", "--seconds", "5"],
    "search": ["--seconds", "15", "--docs", "100000", "--query-seconds", "10", "--runs", "200"],
    "ingest": ["--posts", "20000", "--seconds", "20"],
    "drain": ["--seconds", "8"],
}
TIME_LIMIT_S: Final = {"classify": 240, "webhooks": 240, "search": 300, "ingest": 240, "drain": 120}
"""On the development machine (AMD EPYC, 2 cores); multiplied by `slowness()` on this one."""
REFERENCE_NORMALISE_S: Final = 0.154e-3
"""Seconds per text of `normalise` on bench.corpus texts on the development machine (bench/results/latest.md,
2026-11-27, load 1.2: 6,478 texts/s)."""


def slowness(texts: int = 300) -> float:
    """How many times slower than the development machine this one normalises text now (at least 1)."""
    from bench.corpus import make_texts  # the text pipeline loads pyvi: only when the suite runs
    from classifier.text import normalise
    sample = make_texts(texts, seed=1022)
    normalise(sample[0])  # pyvi's first call loads its model
    started = time.perf_counter()
    for text in sample:
        normalise(text)
    return max(1.0, (time.perf_counter() - started) / texts / REFERENCE_NORMALISE_S)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the suite; exit 1 if any benchmark failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(REDUCED), help="run only these benchmarks")
    parser.add_argument("--es-url", help="use this Elasticsearch instead of a throw-away search node")
    parser.add_argument("--heap", default="1g", help="heap of the throw-away search node (default 1g)")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to write")
    args = parser.parse_args(argv)
    names = args.only or list(REDUCED)
    started = time.monotonic()
    report.write_section("Reduced suite (`python -m bench.run`); full sizes are each module's defaults.",
                         path=args.results, fresh=True)
    failed: list[str] = []
    factor = slowness()
    report.write_section(f"{report.machine_line()}; {factor:.1f}× slower than the development machine at "
                         f"normalising text, so each time limit is {factor:.1f}× the development one.",
                         path=args.results)
    needs_es = any(name != "classify" for name in names)
    with search_node_url(args.es_url if needs_es else "unused", heap=args.heap) as es_url:
        for name in names:
            cmd = [sys.executable, "-m", f"bench.{name}", *REDUCED[name], "--results", str(args.results)]
            if name != "classify":
                cmd += ["--es-url", es_url]
            print(f"== {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            try:
                done = subprocess.run(cmd, timeout=TIME_LIMIT_S[name] * factor, check=False)
                outcome = f"exit code {done.returncode}" if done.returncode else ""
            except subprocess.TimeoutExpired:
                outcome = f"stopped after its {TIME_LIMIT_S[name] * factor:.0f} s limit"
            if outcome:
                failed.append(name)
                report.write_section(f"## {name}: FAILED ({outcome}); see the console output.",
                                     path=args.results)
            print(f"== {name}: {time.monotonic() - t0:.0f}s {outcome}", file=sys.stderr, flush=True)
    total = time.monotonic() - started
    report.write_section(f"Total wall time of the suite: {total / 60:.1f} min"
                         + (f"; failed: {', '.join(failed)}." if failed else "."), path=args.results)
    print(f"results in {args.results} ({total / 60:.1f} min)", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
