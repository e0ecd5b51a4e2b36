"""How each named model meets the outside world: JSON in, results out, training data, model card.

One `ModelInput` per model keeps the CLI free of per-model branches: the text models take a `text`; the
misinformation model also takes engagement metadata.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from classifier import cards
from classifier.train import (SEED_DIR, LabelledText, Progress, TrainingResult, read_corpus, read_jsonl,
                              read_test_split, train_category, train_urgency)

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ModelInput:
    """The adapters of one model."""

    parse: Callable[[Any], tuple[Any, Any]]
    """JSON object -> (id, model input); raises ValueError with a short reason."""
    predict: Callable[[Any, list[Any]], list[dict[str, Any]]]
    """model, inputs -> one {"label", "score", "reasons"} per input."""
    read_labelled: Callable[[Path, Warn], tuple[list[Any], list[Any]]]
    trainer: Callable[..., TrainingResult]
    card: Callable[[str, int, TrainingResult], str]
    fields: frozenset[str] = frozenset({"id", "text", "label", "urgency", "style"})
    """The JSON fields it reads (or knowingly ignores); `hotline classify` warns once about any other."""


def parse_text(data: Any) -> tuple[Any, str]:
    """`{"id": ..., "text": "..."}` -> (id, text)."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("missing or empty 'text'")
    return data.get("id"), text


def predict_text(model: Any, texts: list[Any]) -> list[dict[str, Any]]:
    """Label, its probability and the model's reasons for each text."""
    proba = model.predict_proba(texts)
    labels = [str(label) for label in model.classes_[proba.argmax(axis=1)]]
    reasons = model.explain(texts, labels)
    return [{"label": label, "score": round(float(p.max()), 4), "reasons": r}
            for label, p, r in zip(labels, proba, reasons)]


def _labelled_text(field: str) -> Callable[[Path, Warn], tuple[list[Any], list[Any]]]:
    def read(path: Path, warn: Warn) -> tuple[list[Any], list[Any]]:
        rows = [e for e in read_jsonl(path, lambda n, why: warn(f"line {n}: {why}")) if getattr(e, field)]
        return [e.text for e in rows], [getattr(e, field) for e in rows]
    return read


def _text_trainer(fit: Callable[..., TrainingResult], field: str) -> Callable[..., TrainingResult]:
    def trainer(data: Sequence[Path], extra: Sequence[Path], *, folds: int, progress: Progress | None,
                on_error: Warn) -> TrainingResult:
        examples: list[LabelledText] = read_corpus(list(data) or [SEED_DIR], on_error)
        if extra:
            examples += read_corpus(list(extra), on_error)
        # The test split describes the seed corpus's model; a model trained on other data is not scored on it.
        test = read_test_split(field, on_error) if not data else []
        return fit(examples, folds=folds, progress=progress, test=test)
    return trainer


def _text_card(name: str, version: int, result: TrainingResult) -> str:
    return cards.text_model_card(name, version, result.report, n_train=result.n_train, folds=result.folds,
                                without_diacritics=result.without_diacritics, test=result.test,
                                test_stripped=result.test_stripped, parity=result.extra_metrics)


TEXT_MODELS: Final = {
    "category": ModelInput(parse_text, predict_text, _labelled_text("label"), _text_trainer(train_category, "label"),
                           _text_card),
    "urgency": ModelInput(parse_text, predict_text, _labelled_text("urgency"), _text_trainer(train_urgency, "urgency"),
                          _text_card),
}
MODEL_NAMES: Final = ("category", "urgency", "misinformation")


def input_for(name: str) -> ModelInput:
    """The adapters of model `name`."""
    if name in TEXT_MODELS:
        return TEXT_MODELS[name]
    # Imported here: misinformation_input builds on this module's ModelInput.
    from classifier.misinformation_input import MISINFORMATION
    adapter: ModelInput = MISINFORMATION
    return adapter



