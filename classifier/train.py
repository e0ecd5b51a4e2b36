"""Training: read labelled data, cross-validate, fit on everything, describe the result."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from classifier.estimators import LinearTextClassifier, UrgencyClassifier
from classifier.labels import CATEGORY_LABELS, URGENCY_LABELS
from classifier.evaluate import EvaluationReport, evaluate_predictions
from classifier.text import fold

SEED_DIR: Final = Path(__file__).resolve().parent / "data" / "category_seed"
TEST_DIR: Final = Path(__file__).resolve().parent / "data" / "category_test"
"""Written apart from the seed corpus and never used to choose anything; the model cards report on it."""
Progress = Callable[[int], None]


class TrainingDataError(ValueError):
    """A training file cannot be used at all (missing, empty, or with no valid line)."""


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One training example; `urgency` is present in the seed corpus, optional in corrections."""

    text: str
    label: str | None
    urgency: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> LabelledText:
        """Validate one JSON object; raises ValueError with a short reason."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("missing or empty 'text'")
        label, urgency = data.get("label"), data.get("urgency")
        if label is not None and label not in CATEGORY_LABELS:
            raise ValueError(f"unknown category label {label!r}")
        if urgency is not None and urgency not in URGENCY_LABELS:
            raise ValueError(f"unknown urgency {urgency!r}")
        return cls(text, label, urgency)


def read_jsonl(path: Path, on_error: Callable[[int, str], None]) -> Iterator[LabelledText]:
    """Yield valid examples; report each bad line (1-based number, reason) and go on."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield LabelledText.from_json(json.loads(line))
            except ValueError as err:  # json.JSONDecodeError is a ValueError too
                on_error(number, str(err))


def read_corpus(paths: Sequence[Path], on_error: Callable[[str], None]) -> list[LabelledText]:
    """All valid examples of several JSONL files or folders of them."""
    files = [f for p in paths for f in (sorted(p.glob("*.jsonl")) if p.is_dir() else [p])]
    if not files:
        raise TrainingDataError(f"no .jsonl files in {', '.join(map(str, paths))}")
    examples: list[LabelledText] = []
    for file in files:
        if not file.exists():
            raise TrainingDataError(f"{file} does not exist")
        examples += read_jsonl(file, _prefixed(on_error, file))
    return examples


def _prefixed(on_error: Callable[[str], None], file: Path) -> Callable[[int, str], None]:
    return lambda number, why: on_error(f"{file}:{number}: {why}")


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """A model fitted on all data, with the cross-validated report that describes it."""

    model: Any
    report: EvaluationReport
    n_train: int
    folds: int
    without_diacritics: EvaluationReport | None = None
    """The same cross-validation with every held-out text stripped of diacritics."""
    extra_metrics: dict[str, Any] | None = None
    """Model-specific numbers for the card (e.g. repeated grouped ROC-AUC)."""
    test: EvaluationReport | None = None
    """The fitted model on the test split (classifier/data/category_test)."""
    test_stripped: EvaluationReport | None = None
    """The same, every test text stripped of its diacritics."""


def cross_validate(estimator: Any, texts: Sequence[str], y: Sequence[str], *, labels: Sequence[str],
                   folds: int = 5, seed: int = 0, progress: Progress | None = None,
                   test_transform: Callable[[str], str] | None = None) -> EvaluationReport:
    """Out-of-fold predictions from stratified folds, scored as one report.

    `test_transform` rewrites the held-out texts only (e.g. stripping diacritics), to measure robustness.
    """
    y_arr = np.asarray(y)
    pred = np.empty(len(y_arr), dtype=object)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y_arr)), y_arr):
        fitted = clone(estimator).fit([texts[i] for i in train], y_arr[train])
        held_out = [texts[i] for i in test]
        pred[test] = fitted.predict([test_transform(t) for t in held_out] if test_transform else held_out)
        if progress:
            progress(1)
    present = [label for label in labels if label in set(y)]
    return evaluate_predictions(list(y_arr), list(pred), labels=present)


def _fit_text_model(estimator: Any, pairs: list[tuple[str, str]], labels: Sequence[str], folds: int,
                    progress: Progress | None, test_pairs: Sequence[tuple[str, str]] = ()) -> TrainingResult:
    texts, y = [t for t, _ in pairs], [label for _, label in pairs]
    report = cross_validate(estimator, texts, y, labels=labels, folds=folds, progress=progress)
    folded = cross_validate(estimator, texts, y, labels=labels, folds=folds, test_transform=fold)
    model = clone(estimator).fit(texts, y)
    if progress:
        progress(1)
    if not test_pairs:
        return TrainingResult(model, report, len(texts), folds, folded)
    test, test_stripped, parity = evaluate_on_test(model, test_pairs, labels)
    return TrainingResult(model, report, len(texts), folds, folded, extra_metrics=parity, test=test,
                          test_stripped=test_stripped)


def evaluate_on_test(model: Any, pairs: Sequence[tuple[str, str]], labels: Sequence[str]
                     ) -> tuple[EvaluationReport, EvaluationReport, dict[str, Any]]:
    """Reports of `model` on labelled texts and on the same texts without diacritics, and how far the scores
    move when the diacritics go (issue 12: at most 0.10 on average)."""
    texts, y = [t for t, _ in pairs], [label for _, label in pairs]
    present = [label for label in labels if label in set(y)]
    original, stripped = model.predict_proba(texts), model.predict_proba([fold(t) for t in texts])
    rows = np.arange(len(texts))
    chosen = original.argmax(axis=1)
    parity = {
        "n_test": len(texts),
        "mean_abs_score_diff": round(float(np.mean(np.abs(original.max(axis=1) - stripped.max(axis=1)))), 4),
        "mean_abs_proba_diff_of_label": round(float(np.mean(np.abs(original[rows, chosen] - stripped[rows, chosen]))), 4),
        "label_changed_share": round(float(np.mean(chosen != stripped.argmax(axis=1))), 4),
    }
    classes = model.classes_
    return (evaluate_predictions(y, list(classes[chosen]), labels=present),
            evaluate_predictions(y, list(classes[stripped.argmax(axis=1)]), labels=present), parity)


def read_test_split(field: str, on_error: Callable[[str], None]) -> list[tuple[str, str]]:
    """(text, label) pairs of the test split for `field` ("label" or "urgency"); empty if it is absent."""
    if not TEST_DIR.exists():
        return []
    return [(e.text, getattr(e, field)) for e in read_corpus([TEST_DIR], on_error) if getattr(e, field)]


def train_category(examples: Sequence[LabelledText], *, folds: int = 5, progress: Progress | None = None,
                   test: Sequence[tuple[str, str]] = ()) -> TrainingResult:
    """Fit the ticket category classifier (seed corpus plus any operator corrections); report on `test`."""
    pairs = [(e.text, e.label) for e in examples if e.label is not None]
    return _fit_text_model(LinearTextClassifier(), pairs, CATEGORY_LABELS, folds, progress, test)


def train_urgency(examples: Sequence[LabelledText], *, folds: int = 5, progress: Progress | None = None,
                  test: Sequence[tuple[str, str]] = ()) -> TrainingResult:
    """Fit the urgency classifier's learned part; its red-flag rules apply in cross-validation too."""
    pairs = [(e.text, e.urgency) for e in examples if e.urgency is not None]
    return _fit_text_model(UrgencyClassifier(), pairs, URGENCY_LABELS, folds, progress, test)
