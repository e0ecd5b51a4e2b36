"""Cross-validated evaluation of the misinformation classifier, producing the numbers for its model card."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from classifier.misinformation import MisinformationClassifier, PostFeatures

__all__ = ["cross_validate_auc", "expected_calibration_error", "group_near_duplicates", "operating_point", "split_holdout",
           "threshold_for_precision"]


def group_near_duplicates(texts: Sequence[str], *, threshold: float = 0.8) -> NDArray[np.int64]:
    """Return a group id per text; texts whose character n-gram cosine similarity exceeds threshold share one.

    ReINTEL has no exact duplicates, but the same hoax is often reposted with a new headline or a few
    changed words (125 pairs above 0.9). Keeping each such cluster in one fold stops cross-validation from
    rewarding memorised reposts. The vectoriser is fitted on all texts, but it only decides the split and
    uses no labels.
    """
    vectors = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, lowercase=True
    ).fit_transform(texts)
    similarity = (vectors @ vectors.T).tocsr()
    similarity.data = (similarity.data > threshold).astype(np.int8)
    similarity.eliminate_zeros()
    _, groups = connected_components(similarity, directed=False)
    return np.asarray(groups, dtype=np.int64)


def split_holdout(texts: Sequence[str], y: Any, *, n_splits: int = 5, seed: int = 1022
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return (development, held-out) indices: one stratified fold of ``n_splits`` (20 %), reposts grouped.

    The held-out part is never used to choose anything (features, parameters, threshold); it is scored once,
    by a model fitted on the development part, for the model card.
    """
    groups = group_near_duplicates(texts)
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    development, held_out = next(folds.split(np.zeros(len(texts)), np.asarray(y), groups))
    return np.asarray(development, dtype=np.int64), np.asarray(held_out, dtype=np.int64)


def cross_validate_auc(
    posts: Sequence[PostFeatures],
    y: Any,
    *,
    n_splits: int = 5,
    seeds: Sequence[int] = (0, 1, 2),
    estimator: BaseEstimator | None = None,
    group_threshold: float | None = 0.8,
) -> dict[str, Any]:
    """Return repeated stratified, near-duplicate-grouped k-fold ROC-AUC of the estimator on the posts.

    Every seed reshuffles the folds; each fold fits a fresh ``clone`` of the estimator (default:
    ``MisinformationClassifier()``) on the training part only, so every learned transform stays inside the
    fold. ``group_threshold=None`` disables grouping (plain ``StratifiedKFold`` behaviour).

    The result has ``roc_auc_mean`` and ``roc_auc_std`` over all ``len(seeds) * n_splits`` folds,
    ``roc_auc_seed_means``, ``roc_auc_folds``, the same for ``average_precision`` (means only),
    ``brier_mean``, ``fit_seconds_mean`` and the counts ``n_posts``, ``n_positive``, ``n_groups``.
    """
    labels = np.asarray(y).astype(np.int64)
    posts = list(posts)
    model = estimator if estimator is not None else MisinformationClassifier()
    if group_threshold is None:
        groups = np.arange(len(posts))
    else:
        groups = group_near_duplicates([post.text for post in posts], threshold=group_threshold)

    auc: list[float] = []
    average_precision: list[float] = []
    brier: list[float] = []
    fit_seconds: list[float] = []
    for seed in seeds:
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for train, test in folds.split(np.zeros(len(posts)), labels, groups):
            fold_model = clone(model)
            started = time.perf_counter()
            fold_model.fit([posts[i] for i in train], labels[train])
            fit_seconds.append(time.perf_counter() - started)
            probability = fold_model.predict_proba([posts[i] for i in test])[:, 1]
            auc.append(float(roc_auc_score(labels[test], probability)))
            average_precision.append(float(average_precision_score(labels[test], probability)))
            brier.append(float(brier_score_loss(labels[test], probability)))

    auc_array = np.array(auc)
    return {
        "roc_auc_mean": float(auc_array.mean()),
        "roc_auc_std": float(auc_array.std()),
        "roc_auc_seed_means": auc_array.reshape(len(seeds), n_splits).mean(axis=1).tolist(),
        "roc_auc_folds": auc,
        "average_precision_mean": float(np.mean(average_precision)),
        "average_precision_std": float(np.std(average_precision)),
        "brier_mean": float(np.mean(brier)),
        "fit_seconds_mean": float(np.mean(fit_seconds)),
        "n_splits": n_splits,
        "seeds": list(seeds),
        "n_posts": len(posts),
        "n_positive": int(labels.sum()),
        "n_groups": int(len(np.unique(groups))),
    }


def expected_calibration_error(y: Any, probability: Any, *, bins: int = 10) -> float:
    """Return the expected calibration error: the post-weighted mean |observed rate - mean probability| over
    ``bins`` equal-width probability bins."""
    labels, proba = np.asarray(y, dtype=np.float64), np.asarray(probability, dtype=np.float64)
    which = np.minimum((proba * bins).astype(np.int64), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(labels[inside].mean() - proba[inside].mean())
    return float(error)


def threshold_for_precision(y: Any, probability: Any, *, precision: float = 0.85) -> float:
    """Return the lowest threshold whose precision is at least ``precision`` (so the highest recall that
    keeps it), from probabilities the model gave posts it was not trained on; 0.5 if none reaches it."""
    labels, proba = np.asarray(y), np.asarray(probability, dtype=np.float64)
    for threshold in np.unique(np.round(proba, 3)):
        flagged = proba >= threshold
        # Past this point every higher threshold flags fewer posts; skip a precision reached by a handful.
        if flagged.sum() >= 10 and labels[flagged].mean() >= precision:
            return float(threshold)
    return 0.5


def operating_point(y: Any, probability: Any, threshold: float) -> dict[str, float]:
    """Precision, recall and share flagged at ``threshold``."""
    labels, flagged = np.asarray(y), np.asarray(probability) >= threshold
    hits = float((labels[flagged] == 1).sum())
    return {"threshold": round(threshold, 3), "precision": round(float(hits / max(flagged.sum(), 1)), 4),
            "recall": round(float(hits / max((labels == 1).sum(), 1)), 4), "flagged_share": round(float(flagged.mean()), 4)}
