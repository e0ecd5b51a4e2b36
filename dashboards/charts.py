"""Server-side chart geometry (inline SVG): nothing to load from a CDN, nothing to vendor.

Colours are presentation attributes (`fill=`), which a strict CSP allows; every bar is a link to its tickets.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

# Tableau 10 plus a dark navy: eleven hues that stay apart, also for the common colour-vision deficiencies.
PALETTE: Final = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                  "#9c755f", "#bab0ac", "#2f4b7c")
LEFT: Final = 44
RIGHT: Final = 20
"""Room for the last date label, centred on the last bar."""
BOTTOM: Final = 36
TOP: Final = 18
MIN_LABEL_GAP: Final = 44
HEAT_LEVELS: Final = 6


@dataclass(frozen=True, slots=True)
class Bar:
    """One coloured segment of a stacked bar, linked to its tickets."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str
    href: str


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled position on an axis."""

    position: float
    text: str


@dataclass(frozen=True, slots=True)
class StackedBars:
    """A stacked bar chart laid out in a width × height box, axes included."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_bottom: float
    bars: tuple[Bar, ...]
    labels: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    totals: tuple[tuple[float, float, int], ...]
    legend: tuple[tuple[str, str], ...]
    max_total: int


def colours(codes: Sequence[str]) -> dict[str, str]:
    """A fixed colour per category code, the same on every page and every filter."""
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


def nice_max(value: int) -> tuple[int, int]:
    """A round axis maximum at or above `value` and its step (1, 2 or 5 × 10^n), about four steps."""
    if value <= 4:
        return max(value, 1), 1
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return int(math.ceil(value / step) * step), int(step)


def stacked_bars(buckets: list[dict[str, Any]], names: dict[str, str], *, link: Callable[[str, str], str],
                 date_label: Callable[[str], str], title_label: Callable[[str], str], width: int = 760,
                 height: int = 280) -> StackedBars:
    """Lay out a date_histogram whose buckets have a `category` terms sub-aggregation.

    `link(key_as_string, category)` gives each segment's drill-down address.
    """
    palette = colours(list(names))
    present = {c["key"] for d in buckets for c in d["category"]["buckets"]}
    top, step_y = nice_max(max((d["doc_count"] for d in buckets), default=0))
    plot_w, plot_h = width - LEFT - RIGHT, height - BOTTOM - TOP
    plot_bottom = float(TOP + plot_h)
    step = plot_w / max(len(buckets), 1)
    every = max(1, math.ceil(MIN_LABEL_GAP / step))
    bars, labels, totals = [], [], []
    for i, bucket in enumerate(buckets):
        x = LEFT + i * step
        y = plot_bottom
        for c in bucket["category"]["buckets"]:
            h = c["doc_count"] / top * plot_h
            y -= h
            bars.append(Bar(x + 1, y, max(step - 2, 1), h, palette.get(c["key"], PALETTE[-1]),
                            f"{title_label(bucket['key_as_string'])} · {names.get(c['key'], c['key'])}: "
                            f"{c['doc_count']}", link(bucket["key_as_string"], c["key"])))
        if bucket["doc_count"] and step >= 14:
            totals.append((x + step / 2, y - 4, int(bucket["doc_count"])))
        if i % every == 0:
            labels.append(Tick(x + step / 2, date_label(bucket["key_as_string"])))
    y_ticks = tuple(Tick(plot_bottom - v / top * plot_h, str(v)) for v in range(0, top + 1, step_y))
    legend = tuple((palette[c], names[c]) for c in names if c in present)
    return StackedBars(width, height, LEFT, LEFT + plot_w, plot_bottom, tuple(bars), tuple(labels), y_ticks, tuple(totals), legend, top)


def heat_level(value: int, maximum: int) -> int:
    """0 for an empty cell, else 1..HEAT_LEVELS-1 by share of the largest cell (a CSS class picks the colour)."""
    if not value or not maximum:
        return 0
    return max(1, math.ceil(value / maximum * (HEAT_LEVELS - 1)))
