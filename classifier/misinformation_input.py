"""How the misinformation model meets the CLI: JSON posts in, P(unreliable) out; ReINTEL for training."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from classifier import cards
from classifier.evaluate import evaluate_predictions
from classifier.inputs import ModelInput
from classifier.misinformation import MisinformationClassifier, PostFeatures, load_reintel
from classifier.misinformation_eval import cross_validate_auc
from classifier.train import Progress, TrainingDataError, TrainingResult

# Training reads the data set from the shared data folder next to the repository; it is never copied in.
REINTEL: Final = Path(__file__).resolve().parents[2] / "shared" / "data" / "reintel" / "train.csv"
LABELS: Final = {0: "reliable", 1: "unreliable"}
Warn = Callable[[str], None]


def _count(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"'{name}' must be a number")
    try:
        number = int(float(value))
    except ValueError as err:
        raise ValueError(f"'{name}' must be a number") from err
    if number < 0:
        raise ValueError(f"'{name}' cannot be negative")
    return number


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as err:
            raise ValueError("'posted_at' must be ISO 8601 or unix seconds") from err
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    raise ValueError("'posted_at' must be ISO 8601 or unix seconds")


def post_from_json(data: Any) -> PostFeatures:
    """`{"text", "likes", "comments", "shares", "posted_at", "author"}` -> PostFeatures."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing or empty 'text'")
    author = data.get("author")
    return PostFeatures(text=text, likes=_count(data, "likes"), comments=_count(data, "comments"),
                        shares=_count(data, "shares"), posted_at=_time(data.get("posted_at")),
                        author=author if isinstance(author, str) else None)


def parse(data: Any) -> tuple[Any, PostFeatures]:
    """A classify line -> (id, post)."""
    post = post_from_json(data)
    return data.get("id"), post


def predict(model: Any, posts: list[Any]) -> list[dict[str, Any]]:
    """Label, P(unreliable) and reasons per post."""
    unreliable = model.predict_proba(posts)[:, 1]
    reasons = model.explain(posts, [1] * len(posts))
    return [{"label": LABELS[int(p >= 0.5)], "score": round(float(p), 4), "reasons": r}
            for p, r in zip(unreliable, reasons)]


def read_labelled(path: Path, warn: Warn) -> tuple[list[Any], list[Any]]:
    """A ReINTEL-style CSV, or JSONL with `label` 0/1 (or reliable/unreliable)."""
    if path.suffix.lower() == ".csv":
        posts, y = load_reintel(path)
        return list(posts), [int(v) for v in y]
    posts, truth = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            post = post_from_json(data)
            label = {"reliable": 0, "unreliable": 1, 0: 0, 1: 1}.get(data.get("label"))
            if label is None:
                raise ValueError("'label' must be 0/1 or reliable/unreliable")
        except ValueError as err:
            warn(f"line {number}: {err}")
            continue
        posts.append(post)
        truth.append(label)
    return posts, truth


def trainer(data: Sequence[Path], extra: Sequence[Path], *, folds: int, progress: Progress | None,
            on_error: Warn) -> TrainingResult:
    """Cross-validate (repeated, near-duplicate-grouped) and fit on all of ReINTEL."""
    path = data[0] if data else REINTEL
    if not path.exists():
        raise TrainingDataError(f"ReINTEL not found at {path}; pass --data PATH/TO/train.csv")
    if extra:
        on_error("--extra is not used for the misinformation model")
    posts, y = load_reintel(path)
    predicted = cross_val_predict(MisinformationClassifier(), posts, y, method="predict_proba",
                                  cv=StratifiedKFold(folds, shuffle=True, random_state=0))[:, 1]
    if progress:
        progress(folds)
    report = evaluate_predictions([LABELS[int(v)] for v in y], [LABELS[int(p >= 0.5)] for p in predicted],
                                  labels=list(LABELS.values()), positive_proba=np.asarray(predicted))
    repeated = cross_validate_auc(posts, y, n_splits=folds)
    model = MisinformationClassifier().fit(posts, y)
    if progress:
        progress(1)
    return TrainingResult(model, report, len(posts), folds, extra_metrics=repeated)


def card(name: str, version: int, result: TrainingResult) -> str:
    """The misinformation model's card."""
    return cards.misinformation_card(name, version, result.report, result.extra_metrics or {},
                                     n_train=result.n_train, folds=result.folds)


MISINFORMATION: Final = ModelInput(parse, predict, read_labelled, trainer, card)
