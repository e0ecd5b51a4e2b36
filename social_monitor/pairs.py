"""The claim matcher's pair scorer: how likely two texts assert the same claim, with slot conflicts as a veto.

Each text is analysed once into a `Views` row (classifier.text.normalise forms, lexicon concepts, slots,
and two sparse TF-IDF rows); a pair is then a short feature vector (FEATURES) computed from two rows, and a
scikit-learn classifier (HistGradientBoosting with monotonic constraints: more overlap never lowers p, a
conflict never raises it) turns it into a probability. A conflicting slot (slots.VETO_SLOTS) vetoes the pair
whatever the probability: `score` caps it at VETO_CAP. Design: docs/claim-matching.md §2.4; issue 11.

The fitted parts (two TfidfVectorizers, the classifier, the thresholds) are stored as one plain dict of
scikit-learn objects in `models/claim_matcher.vN/model.skops`, so models.registry loads it with its usual
trust rules; `PairScorer` wraps that dict.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

from classifier.text import NormalisedText, normalise
from social_monitor import lexicon, slots
from social_monitor.slots import Match, Slots

VETO_CAP: Final = 0.0
"""The probability of a vetoed pair: a conflicting place, date, number, named place or polarity."""
MODEL_NAME: Final = "claim_matcher"
SLOT_STATES: Final = (Match.ONE, Match.AGREE, Match.CONFLICT)
FEATURES: Final = (
    "word_cos", "char_cos", "idf_overlap_min", "idf_overlap_max", "concept_jaccard", "event_jaccard",
    "event_exclusive", "length_ratio", "min_length", "unaccented",
    *(f"{name}_{state.name.lower()}" for name in slots.SLOT_NAMES for state in SLOT_STATES), "conflicts")
_INCREASING: Final = frozenset({"word_cos", "char_cos", "idf_overlap_min", "idf_overlap_max", "concept_jaccard",
                                "event_jaccard"} | {f"{n}_agree" for n in slots.SLOT_NAMES})
_DECREASING: Final = frozenset({"event_exclusive", "conflicts"} | {f"{n}_conflict" for n in slots.SLOT_NAMES})


@dataclass(frozen=True, slots=True)
class TextInfo:
    """What one text gives the pair features besides its TF-IDF rows."""

    folded: str
    canon: str
    concepts: frozenset[str]
    events: frozenset[str]
    slots: Slots
    length: int
    accented: bool


@dataclass(frozen=True, slots=True)
class Views:
    """A batch of analysed texts: TF-IDF rows (word and char) and per-text info, in the same order."""

    words: sp.csr_matrix
    chars: sp.csr_matrix
    present: sp.csr_matrix
    """Binary word rows (IDF-weighted overlap = present_a · idf-weighted b)."""
    weighted: sp.csr_matrix
    info: tuple[TextInfo, ...]

    def __len__(self) -> int:
        return len(self.info)

    def take(self, rows: Sequence[int]) -> Views:
        """The views of these rows, in this order."""
        idx = np.asarray(rows, dtype=np.int64)
        return Views(self.words[idx], self.chars[idx], self.present[idx], self.weighted[idx],
                     tuple(self.info[i] for i in rows))

    @staticmethod
    def stack(parts: Sequence[Views]) -> Views:
        """One batch from several (rows in order)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            raise ValueError("nothing to stack")
        if len(parts) == 1:
            return parts[0]
        words, chars, present, weighted = (sp.vstack([getattr(p, f) for p in parts], format="csr")
                                           for f in ("words", "chars", "present", "weighted"))
        return Views(words, chars, present, weighted, tuple(i for p in parts for i in p.info))


def info(forms: NormalisedText, at: datetime | None, *, verdict_frame: bool = False) -> TextInfo:
    """The non-TF-IDF part of a text's view."""
    canon = lexicon.canonical(forms.folded)
    found = lexicon.concepts(canon)
    return TextInfo(forms.folded, canon, found, lexicon.events(found), slots.read(forms, at, verdict_frame=verdict_frame),
                    len(canon.split()), slots.accented(forms))


def make_vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Unfitted: words (and word pairs) of the canonical text; character 3-5-grams of the folded text."""
    words = TfidfVectorizer(analyzer="word", token_pattern=r"[a-z0-9_]+", ngram_range=(1, 2), sublinear_tf=True,
                            min_df=1, dtype=np.float32)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2, dtype=np.float32)
    return words, chars


def make_classifier() -> HistGradientBoostingClassifier:
    """The pair classifier, monotone in the overlap features (+1) and the conflict features (-1)."""
    cst = [1 if f in _INCREASING else -1 if f in _DECREASING else 0 for f in FEATURES]
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=20,
                                          l2_regularization=1.0, monotonic_cst=cst, random_state=1022)


def build_views(words: TfidfVectorizer, chars: TfidfVectorizer, infos: Sequence[TextInfo],
                folded: Sequence[str]) -> Views:
    """TF-IDF rows for texts already analysed into `infos` (with their folded forms)."""
    w = words.transform([i.canon for i in infos]).tocsr()
    present = w.copy()
    present.data[:] = 1.0
    idf = sp.diags(words.idf_.astype(np.float32))
    return Views(w, chars.transform(folded).tocsr(), present, (present @ idf).tocsr(), tuple(infos))


def _rowwise(a: sp.csr_matrix, b: sp.csr_matrix, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    if not len(ia):
        return np.zeros(0, dtype=np.float32)
    return np.asarray(a[ia].multiply(b[ib]).sum(axis=1)).ravel()


def pair_features(a: Views, b: Views, pairs: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(features, veto) for rows (i of a, j of b); veto is True where a slot conflicts."""
    n = len(pairs)
    X = np.zeros((n, len(FEATURES)), dtype=np.float32)
    veto = np.zeros(n, dtype=bool)
    if not n:
        return X, veto
    ia = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=n)
    ib = np.fromiter((j for _, j in pairs), dtype=np.int64, count=n)
    X[:, 0] = _rowwise(a.words, b.words, ia, ib)
    X[:, 1] = _rowwise(a.chars, b.chars, ia, ib)
    shared = _rowwise(a.present, b.weighted, ia, ib)
    mass_a = np.asarray(a.weighted.sum(axis=1)).ravel()[ia]
    mass_b = np.asarray(b.weighted.sum(axis=1)).ravel()[ib]
    X[:, 2] = shared / np.maximum(np.minimum(mass_a, mass_b), 1e-6)
    X[:, 3] = shared / np.maximum(np.maximum(mass_a, mass_b), 1e-6)
    col = 10
    for k, (i, j) in enumerate(pairs):
        x, y = a.info[i], b.info[j]
        union = x.concepts | y.concepts
        X[k, 4] = len(x.concepts & y.concepts) / len(union) if union else 0.0
        events = x.events | y.events
        X[k, 5] = len(x.events & y.events) / len(events) if events else 0.0
        X[k, 6] = lexicon.exclusive(x.concepts, y.concepts)
        X[k, 7] = min(x.length, y.length) / max(x.length, y.length, 1)
        X[k, 8] = np.log1p(min(x.length, y.length))
        X[k, 9] = (not x.accented) + (not y.accented)
        result = slots.compare(x.slots, y.slots)
        for s, name in enumerate(slots.SLOT_NAMES):
            state = result[name]
            if state is not Match.NONE:
                X[k, col + 3 * s + SLOT_STATES.index(state)] = 1.0
        vetoes = slots.conflicts(result)
        X[k, -1] = len(vetoes)
        veto[k] = bool(vetoes) or bool(X[k, 6])
    return X, veto


class PairScorer:
    """The fitted matcher: analyse texts into views, score pairs, and the thresholds chosen on the dev split.

    `threshold`: posts are the same claim at or above it (pairwise precision >= 0.95 on the dev split,
    cross-validated by family); `registry_threshold`: the same for a known claim's registry text against a post.
    """

    def __init__(self, artifact: dict[str, Any]) -> None:
        self.artifact = artifact
        self.words: TfidfVectorizer = artifact["words"]
        self.chars: TfidfVectorizer = artifact["chars"]
        self.model: HistGradientBoostingClassifier = artifact["model"]
        # registry texts are written in a fact-checker's register: their own classifier (older artifacts: one)
        self.registry_model: HistGradientBoostingClassifier = artifact.get("registry_model", self.model)
        self.threshold = float(artifact["threshold"])
        self.registry_threshold = float(artifact["registry_threshold"])
        self.version = str(artifact.get("version", f"{MODEL_NAME}.v1"))

    def views(self, forms: Sequence[NormalisedText], at: Sequence[datetime | None], *,
              verdict_frame: bool = False) -> Views:
        """Analyse texts once (blocking: ~0.2 ms a text); reuse the views for every pair they are in."""
        infos = [info(f, t, verdict_frame=verdict_frame) for f, t in zip(forms, at)]
        return build_views(self.words, self.chars, infos, [f.folded for f in forms])

    def views_of_texts(self, texts: Sequence[str], at: Sequence[datetime | None] | None = None) -> Views:
        """`views` from raw texts."""
        return self.views([normalise(t) for t in texts], at or [None] * len(texts))

    def score_pairs(self, a: Views, b: Views, pairs: Sequence[tuple[int, int]], *, registry: bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
        """(probability, veto) per pair (i of a, j of b; with `registry`, b holds known claims' registry
        texts); a vetoed pair's probability is VETO_CAP."""
        X, veto = pair_features(a, b, pairs)
        p = np.full(len(X), VETO_CAP)
        if (~veto).any():
            # One OpenMP thread: on a busy 2-core machine the parallel predictor spins, 5x slower (bench/ingest.py).
            with threadpool_limits(1):
                p[~veto] = (self.registry_model if registry else self.model).predict_proba(X[~veto])[:, 1]
        return p, veto

    def score(self, a: str, b: str, at_a: datetime | None = None, at_b: datetime | None = None) -> float:
        """The probability that two texts assert the same claim (0 when a slot conflicts)."""
        views = self.views_of_texts([a, b], [at_a, at_b])
        p, _ = self.score_pairs(views, views, [(0, 1)])
        return float(p[0])

    def explain(self, a: str, b: str, at_a: datetime | None = None, at_b: datetime | None = None
                ) -> dict[str, Any]:
        """The features, slots and probability of one pair (for people tuning or reviewing the matcher)."""
        views = self.views_of_texts([a, b], [at_a, at_b])
        X, veto = pair_features(views, views, [(0, 1)])
        p, _ = self.score_pairs(views, views, [(0, 1)])
        return {"probability": float(p[0]), "veto": bool(veto[0]),
                "conflicts": slots.conflicts(slots.compare(views.info[0].slots, views.info[1].slots)),
                "features": dict(zip(FEATURES, map(float, X[0]))),
                "slots": [views.info[0].slots, views.info[1].slots]}
