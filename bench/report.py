"""Results: percentiles, Markdown tables and the `bench/results/latest.md` file with its machine header."""
from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"
LATEST: Final = RESULTS_DIR / "latest.md"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median; NaN for no values."""
    return statistics.median(values) if values else float("nan")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_line() -> str:
    """One line naming the machine a section was measured on: CPU model, cores, load (issue 16: the same
    benchmarks ran 3-4x slower on another CPU of the same size, so every section says which one it had)."""
    return f"CPU: {_cpu_model()} ({os.cpu_count()} cores), load average {_load()}"


def machine_header(title: str = "hotline benchmarks") -> str:
    """A Markdown header naming the machine: cores, CPU model, RAM, load, date."""
    return (f"# {title}\n\n"
            f"- date: {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
            f"- nproc: {os.cpu_count()}\n"
            f"- CPU: {_cpu_model()}\n"
            f"- RAM: {_ram()}\n"
            f"- load average at start (1, 5, 15 min): {_load()}\n"
            f"- Python {platform.python_version()} on {platform.system()} {platform.release()}\n"
            f"- OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n\n"
            "The machine is shared and noisy: compare rows measured in the same run, "
            "not numbers across runs.\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats keep what their caller formatted."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(markdown: str, *, path: Path = LATEST, fresh: bool = False) -> Path:
    """Append a section to the results file; a new (or `fresh`) file starts with the machine header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh or not path.exists():
        path.write_text(machine_header() + "\n")
    with path.open("a") as out:
        out.write(markdown.rstrip() + "\n\n")
    return path


def verdict(ok: bool) -> str:
    """How a target line reads in a table."""
    return "met" if ok else "**not met**"
