"""Evaluation reports: per-label precision/recall/F1, macro-F1, ROC-AUC where binary, confusion matrix."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score


@dataclass(frozen=True, slots=True)
class LabelScores:
    """Precision, recall and F1 of one label, with its support."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """Everything `hotline evaluate` prints and model cards quote."""

    labels: tuple[str, ...]
    per_label: tuple[LabelScores, ...]
    macro_f1: float
    accuracy: float
    confusion: tuple[tuple[int, ...], ...]
    roc_auc: float | None
    n: int

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (for metrics.json)."""
        return {"n": self.n, "macro_f1": round(self.macro_f1, 4), "accuracy": round(self.accuracy, 4),
                "roc_auc": None if self.roc_auc is None else round(self.roc_auc, 4),
                "per_label": {s.label: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                                        "f1": round(s.f1, 4), "support": s.support} for s in self.per_label},
                "labels": list(self.labels), "confusion": [list(r) for r in self.confusion]}

    def as_text(self) -> str:
        """A fixed-width table for terminals and model cards."""
        width = max(len(label) for label in self.labels) + 2
        lines = [f"{'label':<{width}}precision  recall      f1  support"]
        lines += [f"{s.label:<{width}}{s.precision:9.3f}{s.recall:8.3f}{s.f1:8.3f}{s.support:9d}" for s in self.per_label]
        lines.append(f"\nmacro-F1 {self.macro_f1:.3f}   accuracy {self.accuracy:.3f}   n {self.n}")
        if self.roc_auc is not None:
            lines.append(f"ROC-AUC {self.roc_auc:.3f}")
        short = [label[:6] for label in self.labels]
        lines.append("\nconfusion (rows: true, columns: predicted)")
        lines.append(" " * width + "".join(f"{s:>7}" for s in short))
        lines += [f"{label:<{width}}" + "".join(f"{v:7d}" for v in row) for label, row in zip(self.labels, self.confusion)]
        return "\n".join(lines)


def evaluate_predictions(y_true: Sequence[Any], y_pred: Sequence[Any], *, labels: Sequence[Any],
                         positive_proba: npt.NDArray[np.float64] | None = None) -> EvaluationReport:
    """Score predictions against the truth; `positive_proba` (binary only) adds ROC-AUC."""
    label_list = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=label_list, zero_division=0)
    per_label = tuple(LabelScores(str(lab), float(pi), float(ri), float(fi), int(si))
                      for lab, pi, ri, fi, si in zip(label_list, p, r, f, s))
    auc = None
    if positive_proba is not None and len(label_list) == 2 and len(set(y_true)) == 2:
        auc = float(roc_auc_score([1 if y == label_list[1] else 0 for y in y_true], positive_proba))
    cm = confusion_matrix(y_true, y_pred, labels=label_list)
    return EvaluationReport(
        labels=tuple(str(x) for x in label_list), per_label=per_label,
        macro_f1=float(f1_score(y_true, y_pred, labels=label_list, average="macro", zero_division=0)),
        accuracy=float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else 0.0,
        confusion=tuple(tuple(int(v) for v in row) for row in cm), roc_auc=auc, n=len(y_true))
