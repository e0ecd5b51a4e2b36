"""`hotline classify`, `hotline train`, `hotline evaluate`: the contract other tools rely on."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TextIO

import click
import numpy as np

from classifier import train as training
from classifier.inputs import MODEL_NAMES, ModelInput, input_for
from classifier.evaluate import evaluate_predictions
from models import registry

BATCH: Final = 256


def _warn(message: str) -> None:
    click.echo(message, err=True)


def _load(name: str, models_dir: Path | None) -> Any:
    try:
        return registry.load(name, models_dir or registry.MODELS_DIR)
    except (registry.ModelNotFound, registry.UntrustedModel) as err:
        raise click.ClickException(str(err)) from err


def _records(stream: TextIO, model_input: ModelInput) -> Iterator[tuple[Any, Any]]:
    """(id, model input) per valid line; bad lines are reported with their number and skipped.

    Fields the model does not read are ignored, and named once, at the end, on stderr.
    """
    unknown: dict[str, int] = {}
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict):
                for key in data.keys() - model_input.fields:
                    unknown.setdefault(str(key), number)
            yield model_input.parse(data)
        except ValueError as err:
            _warn(f"line {number}: {err}")
    if unknown:
        names = ", ".join(f"'{key}' (first on line {line})" for key, line in sorted(unknown.items()))
        _warn(f"warning: ignored fields this model does not read: {names}")


def _batches(items: Iterator[tuple[Any, Any]], size: int) -> Iterator[list[tuple[Any, Any]]]:
    batch: list[tuple[Any, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@click.command()
@click.option("--model", "name", type=click.Choice(MODEL_NAMES), required=True, help="Which classifier to run.")
@click.option("--models-dir", type=click.Path(path_type=Path, file_okay=False), help="Where trained models live.")
def classify(name: str, models_dir: Path | None) -> None:
    """Classify JSON Lines from stdin ({"id", "text", ...}); write {"id", "label", "score", "reasons"} lines."""
    model = _load(name, models_dir)
    model_input = input_for(name)
    out = sys.stdout
    for batch in _batches(_records(sys.stdin, model_input), BATCH):
        ids, inputs = [i for i, _ in batch], [x for _, x in batch]
        for id_, result in zip(ids, model_input.predict(model, inputs)):
            out.write(json.dumps({"id": id_, **result}, ensure_ascii=False) + "\n")
    out.flush()


@click.command()
@click.argument("name", type=click.Choice(MODEL_NAMES))
@click.option("--data", "data", type=click.Path(path_type=Path, exists=True), multiple=True,
              help="Training data (default: the seed corpus; for misinformation the ReINTEL train.csv).")
@click.option("--extra", type=click.Path(path_type=Path, exists=True, dir_okay=False), multiple=True,
              help="Extra JSONL examples, e.g. operator corrections exported from the dashboard.")
@click.option("--models-dir", type=click.Path(path_type=Path, file_okay=False), help="Where to write the model.")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True, help="Cross-validation folds.")
def train(name: str, data: tuple[Path, ...], extra: tuple[Path, ...], models_dir: Path | None, folds: int) -> None:
    """Cross-validate, fit on all data and save NAME as its next version with a model card."""
    root = models_dir or registry.MODELS_DIR
    trainer = input_for(name).trainer
    try:
        with click.progressbar(length=folds + 1, label=f"training {name}", file=sys.stderr) as bar:
            result = trainer(list(data), list(extra), folds=folds, progress=bar.update, on_error=_warn)
    except training.TrainingDataError as err:
        raise click.ClickException(str(err)) from err
    version = (registry.versions(name, root) or [0])[-1] + 1
    card = input_for(name).card(name, version, result)
    metrics = result.report.as_json()
    if result.test is not None and result.test_stripped is not None:
        metrics["test"], metrics["test_stripped"] = result.test.as_json(), result.test_stripped.as_json()
    if result.extra_metrics:
        metrics.update(result.extra_metrics)
    path = registry.save(result.model, name, metrics=metrics, card=card, root=root, version=version)
    click.echo(result.report.as_text())
    click.echo(f"\nsaved {path}")


@click.command()
@click.argument("name", type=click.Choice(MODEL_NAMES))
@click.option("--data", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="Labelled JSONL (text + label/urgency) or, for misinformation, a ReINTEL-style CSV.")
@click.option("--models-dir", type=click.Path(path_type=Path, file_okay=False), help="Where trained models live.")
def evaluate(name: str, data: Path, models_dir: Path | None) -> None:
    """Score the committed model NAME on a labelled file: per-label P/R/F1, macro-F1, ROC-AUC, confusion."""
    model = _load(name, models_dir)
    model_input = input_for(name)
    inputs, truth = model_input.read_labelled(data, _warn)
    if not inputs:
        raise click.ClickException(f"{data} has no usable labelled line")
    with click.progressbar(length=len(inputs), label=f"evaluating {name}", file=sys.stderr) as bar:
        pred, positive = [], []
        for start in range(0, len(inputs), BATCH):
            chunk = inputs[start:start + BATCH]
            proba = model.predict_proba(chunk)
            pred += list(model.classes_[proba.argmax(axis=1)])
            positive += list(proba[:, -1])
            bar.update(len(chunk))
    labels = list(model.classes_)
    # Binary models get ROC-AUC from the probability of their second class (misinformation: unreliable).
    report = evaluate_predictions(truth, pred, labels=labels,
                                  positive_proba=np.asarray(positive) if len(labels) == 2 else None)
    click.echo(report.as_text())
