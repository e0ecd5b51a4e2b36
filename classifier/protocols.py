"""The seam every classifier backend implements, whether scikit-learn or transformers."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt


@runtime_checkable
class TextClassifier(Protocol):
    """A fitted classifier over raw texts (normalisation happens inside the model).

    `classes_` lists the labels in the column order of `predict_proba`.
    """

    classes_: npt.NDArray[Any]

    def predict(self, texts: Sequence[str]) -> npt.NDArray[Any]:
        """One label per text."""
        ...

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """An (n_texts, n_classes) array of probabilities; each row sums to 1."""
        ...


@runtime_checkable
class Explains(Protocol):
    """A classifier that can say, in a few short strings, why it chose a label."""

    def explain(self, texts: Sequence[str], labels: Sequence[str] | None = None, *, top: int = 3) -> list[list[str]]:
        """Reasons for each text's label (the predicted one unless `labels` is given)."""
        ...
