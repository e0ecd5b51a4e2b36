"""Saving and loading versioned artifacts with skops, refusing types we do not trust."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from sklearn.dummy import DummyClassifier

from models import registry


def _dummy() -> DummyClassifier:
    return DummyClassifier(strategy="most_frequent").fit([[0], [1], [1]], ["a", "b", "b"])


def test_save_writes_next_version_with_card_and_metrics(tmp_path: Path) -> None:
    first = registry.save(_dummy(), "toy", metrics={"macro_f1": 0.5}, card="# toy.v1\n", root=tmp_path)
    second = registry.save(_dummy(), "toy", metrics={"macro_f1": 0.6}, card="# toy.v2\n", root=tmp_path)

    assert (first.name, second.name) == ("toy.v1", "toy.v2")
    assert registry.versions("toy", tmp_path) == [1, 2]
    assert registry.resolve("toy", tmp_path) == second
    assert registry.read_metrics("toy.v1", tmp_path) == {"macro_f1": 0.5}
    assert (second / "MODEL_CARD.md").read_text() == "# toy.v2\n"


def test_load_round_trips_a_fitted_model(tmp_path: Path) -> None:
    registry.save(_dummy(), "toy", metrics={}, card="", root=tmp_path)

    model = registry.load("toy", tmp_path)

    assert list(model.predict([[5]])) == ["b"]


def test_load_refuses_a_file_with_untrusted_types(tmp_path: Path) -> None:
    model = _dummy()
    model.smuggled_ = Fraction(1, 3)
    registry.save(model, "toy", metrics={}, card="", root=tmp_path)

    with pytest.raises(registry.UntrustedModel, match="fractions.Fraction"):
        registry.load("toy", tmp_path)


@pytest.mark.parametrize("ref", ["nothing", "toy.v9"])
def test_missing_models_are_named_in_the_error(tmp_path: Path, ref: str) -> None:
    registry.save(_dummy(), "toy", metrics={}, card="", root=tmp_path)

    with pytest.raises(registry.ModelNotFound, match=ref.split(".")[0]):
        registry.load(ref, tmp_path)


@pytest.mark.parametrize("name", ["category", "urgency", "misinformation"])
def test_committed_models_load_and_have_cards(name: str) -> None:
    path = registry.resolve(name)

    model = registry.load(name)

    assert len(model.classes_) >= 2
    assert "## Metrics" in (path / "MODEL_CARD.md").read_text()
    assert (path / "model.skops").stat().st_size < 20 * 1024 * 1024
