"""Classification throughput: texts/s for each model, and category + urgency the way intake runs them.

    .venv/bin/python -m bench.classify --seconds 10 --reps 5

Rows, each timed once per repetition in turn (so that noise on this shared machine hits them alike):
- `normalise`: classifier.text.normalise alone (NFC, teencode, pyvi segmentation, folding);
- one row per model on raw texts (`predict_proba`; the model's own pipeline normalises), like
  `hotline classify`;
- `category + urgency, batched`: normalise once, then both models' `predict_proba` on the normalised forms,
  in batches; its normalise and model times are also reported apart (the share of time in pyvi);
- `category + urgency, per text (intake)`: `intake.service.classify(text)` for one text at a time, which is
  what a ticket costs today (it also runs both models' `explain`).

Sized by time, not by count (issue 16): each row is first timed on a probe (100 texts, 20 for the per-text
row, doubled until it takes a quarter of a repetition's share), which sizes it so that its repetitions
together take about `--seconds`; `--texts` and `--per-text` are the most a row takes.
A slower CPU measures fewer texts per row instead of running long; the median over repetitions stays the
figure.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from bench import report
from bench.corpus import make_texts
from bench.sizing import items_for
from classifier.text import NormalisedText, normalise
from models import registry

TARGET_TEXTS_PER_S: Final = 1000.0
PROBE: Final = 100
"""Texts each batch-style row is timed on first, to size it to the time budget."""
PROBE_PER_TEXT: Final = 20
"""Texts the one-at-a-time row is timed on first (it costs ten times more per text)."""


def _batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _load_misinformation() -> tuple[Any, Callable[[list[str]], list[Any]]] | str:
    """The misinformation model and a function turning texts into its inputs, or the reason to skip it."""
    try:
        model = registry.load("misinformation")
        from classifier.inputs import input_for
        parse = input_for("misinformation").parse
        parse({"id": 0, "text": "thử"})
    except Exception as err:  # a model in the middle of being written must not end the whole benchmark
        return f"skipped misinformation: could not load it or build its inputs from text ({err!r})"
    return model, lambda texts: [parse({"id": i, "text": t})[1] for i, t in enumerate(texts)]


def run(n_texts: int, reps: int, batch: int, per_text: int, seed: int,
        seconds: float | None = None) -> tuple[str, list[str]]:
    """Measure every row; return the Markdown section and the notes printed along the way.

    With `seconds`, each row takes as many texts (at most `n_texts`, or `per_text` for the per-text row) as
    its probe's rate gets through in `seconds / reps` per repetition; without it, exactly those counts.
    """
    notes: list[str] = []
    texts = make_texts(n_texts, seed=seed)
    words = sorted(len(t.split()) for t in texts)
    category, urgency = registry.load("category"), registry.load("urgency")
    models: dict[str, tuple[Any, Callable[[list[str]], list[Any]]]] = {
        "category": (category, list), "urgency": (urgency, list)}
    misinformation = _load_misinformation()
    if isinstance(misinformation, str):
        notes.append(misinformation)
        print(misinformation, file=sys.stderr)
    else:
        models["misinformation"] = misinformation

    from intake.service import classify  # the function intake runs for every ticket whose text changed

    Timed = Callable[[Sequence[str]], dict[str, float]]

    def run_normalise(sample: Sequence[str]) -> dict[str, float]:
        started = time.perf_counter()
        for text in sample:
            normalise(text)
        return {"total": time.perf_counter() - started}

    def run_model(name: str) -> Timed:
        model, to_inputs = models[name]

        def timed(sample: Sequence[str]) -> dict[str, float]:
            started = time.perf_counter()
            for chunk in _batches(sample, batch):
                model.predict_proba(to_inputs(list(chunk)))
            return {"total": time.perf_counter() - started}
        return timed

    def run_together(sample: Sequence[str]) -> dict[str, float]:
        norm = models_s = 0.0
        for chunk in _batches(sample, batch):
            t0 = time.perf_counter()
            forms: list[NormalisedText] = [normalise(text) for text in chunk]
            t1 = time.perf_counter()
            category.predict_proba(forms)
            urgency.predict_proba(forms)
            t2 = time.perf_counter()
            norm, models_s = norm + (t1 - t0), models_s + (t2 - t1)
        return {"total": norm + models_s, "normalise": norm, "models": models_s}

    def run_per_text(sample: Sequence[str]) -> dict[str, float]:
        started = time.perf_counter()
        for text in sample:
            classify(text, category=category, urgency=urgency)
        return {"total": time.perf_counter() - started}

    together_name = "category + urgency, batched (normalise once)"
    per_text_name = "category + urgency, per text (intake.service.classify)"
    # name -> (most texts, probe size, timed function)
    rows: dict[str, tuple[int, int, Timed]] = {"normalise (pyvi + folding)": (n_texts, PROBE, run_normalise)}
    rows.update({f"{name}, raw texts (normalises inside)": (n_texts, PROBE, run_model(name)) for name in models})
    rows[together_name] = (n_texts, PROBE, run_together)
    if per_text:
        rows[per_text_name] = (per_text, PROBE_PER_TEXT, run_per_text)

    for text in texts[:50]:  # warm-up: first calls pay for lazy imports and allocator growth
        classify(text, category=category, urgency=urgency)
    sizes: dict[str, int] = {}
    for name, (most, probe, fn) in rows.items():
        if seconds is None:
            sizes[name] = most
            continue
        # The probe doubles until it takes a quarter of a repetition's share (or reaches `most`): a tiny
        # probe would pay per-call overheads the full row does not, and size the row too small.
        n = min(probe, most)
        took = fn(texts[:n])["total"]
        while n < most and took < seconds / reps / 4:
            n = min(most, 2 * n)
            took = fn(texts[:n])["total"]
        sizes[name] = items_for(n, took, seconds / reps, least=min(probe, most), most=most)
    if seconds is not None:
        print("texts per row: " + ", ".join(f"{name.split(',')[0]} {n:,}" for name, n in sizes.items()),
              file=sys.stderr)
    times: dict[str, list[dict[str, float]]] = {name: [] for name in rows}
    for rep in range(reps):
        for name, (_, _, fn) in rows.items():
            times[name].append(fn(texts[:sizes[name]]))
        print(f"repetition {rep + 1}/{reps} done", file=sys.stderr)

    table_rows = []
    rates: dict[str, float] = {}
    for name in rows:
        n = sizes[name]
        per_rep = [n / t["total"] for t in times[name]]
        rates[name] = report.median(per_rep)
        table_rows.append([name, f"{n:,}", f"{rates[name]:,.0f}", f"{min(per_rep):,.0f}–{max(per_rep):,.0f}",
                           f"{1000 / rates[name]:.2f}"])
    together = times[together_name]
    n_together = sizes[together_name]
    share = report.median([t["normalise"] / t["total"] for t in together])
    model_rate = report.median([n_together / t["models"] for t in together])
    norm_rate = report.median([n_together / t["normalise"] for t in together])
    batched = rates[together_name]
    sizing = (f"{n_texts:,} texts" if seconds is None else
              f"sized to ~{seconds:g} s a row on this CPU, at most {n_texts:,} texts")
    lines = [
        f"## Classification throughput ({sizing}, median of {reps} repetitions, batches of {batch})",
        "",
        report.machine_line(),
        "",
        f"Generated texts: {words[0]}–{words[-1]} words (median {words[len(words) // 2]}), "
        "about a third without diacritics, some in chat shorthand.",
        "",
        report.table(["path", "texts", "texts/s (median)", "range over repetitions", "ms/text"], table_rows),
        "",
        f"Inside `category + urgency, batched`: normalise {share:.0%} of the time "
        f"({norm_rate:,.0f} texts/s), "
        f"the two models {1 - share:.0%} ({model_rate:,.0f} texts/s on normalised forms).",
        "",
        f"Target ≥ {TARGET_TEXTS_PER_S:,.0f} texts/s for category + urgency: "
        f"batched {batched:,.0f} texts/s → "
        f"{report.verdict(batched >= TARGET_TEXTS_PER_S)}",
    ]
    if per_text:
        one = rates[per_text_name]
        lines[-1] += (f"; per text as intake runs it today {one:,.0f} texts/s → "
                      f"{report.verdict(one >= TARGET_TEXTS_PER_S)}; batched is {batched / one:.1f}× per text.")
    lines += [f"\nNote: {note}" for note in notes]
    return "\n".join(lines), notes


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, run, print the table and append it to the results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.classify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="seconds per row, all repetitions together (default 10); each row is sized "
                             "by a probe to fit them; 0 measures exactly --texts / --per-text")
    parser.add_argument("--texts", type=int, default=10_000,
                        help="the most texts a row takes (default 10,000)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions; the median is reported (default 5)")
    parser.add_argument("--batch", type=int, default=1000,
                        help="texts per predict_proba call (default 1,000)")
    parser.add_argument("--per-text", type=int, default=1000,
                        help="the most texts for the one-at-a-time intake row; 0 skips it (default 1,000)")
    parser.add_argument("--seed", type=int, default=1022, help="seed of the text generator")
    parser.add_argument("--results", type=Path, default=report.LATEST, help="Markdown file to append to")
    args = parser.parse_args(argv)
    if args.texts < 1 or args.reps < 1 or args.seconds < 0:
        parser.error("--texts and --reps must be at least 1, --seconds at least 0")
    section, _ = run(args.texts, args.reps, args.batch, min(args.per_text, args.texts), args.seed,
                     args.seconds or None)
    print(section)
    report.write_section(section, path=args.results)


if __name__ == "__main__":
    main()
