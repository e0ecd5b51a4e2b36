"""The category and urgency classifiers: scikit-learn estimators over raw Vietnamese texts."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from classifier.features import Normaliser, make_text_features
from classifier.labels import CATEGORY_LABELS, URGENCY_LABELS
from classifier.red_flags import EMERGENCY, match_red_flags
from classifier.spans import as_written
from classifier.text import NormalisedText, fold



def _readable(feature: str) -> str:
    # "words__tfidf__phong_tỏa" -> "phong tỏa"; char n-grams are shown in quotes so they read as fragments.
    branch, _, term = feature.partition("__")
    term = term.removeprefix("tfidf__") if term else branch
    return f"“{term.strip()}”" if branch == "folded_chars" else term.replace("_", " ")


class LinearTextClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """TF-IDF features of the normalised text, then multinomial logistic regression.

    Chosen for a small, hand-written corpus: it trains in seconds, classifies thousands of texts a second on
    a CPU, and its coefficients explain each decision.

    Parameters
    ----------
    C : float
        Inverse regularisation strength of the logistic regression.
    word_ngrams, char_ngrams : tuple of int
        n-gram ranges of the word (segmented and folded) and folded character features.
    min_df : int
        Minimum document frequency of a feature.
    class_weight : str or None
        Passed to LogisticRegression; "balanced" evens out unequal label counts.
    word_forms : tuple of str
        The analysed forms whose words are features: ``("segmented", "folded")`` adds the pyvi-segmented words
        with diacritics to the folded ones; ``("folded",)`` reads only the folded form.
    fold_copies : bool
        Train on every text and on its copy stripped of diacritics, so that the segmented-word weights learn
        what a text typed without diacritics looks like. Issue 12, measured by 5-fold CV on the seed corpus:
        category macro-F1 0.851 (0.849 stripped), mean |score change| when stripped 0.022; without copies
        0.844 (0.840), 0.043; folded words only 0.841 (0.840), 0.001.
    """

    def __init__(self, C: float = 10.0, word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
                 min_df: int = 1, class_weight: str | None = "balanced",
                 word_forms: tuple[str, ...] = ("segmented", "folded"), fold_copies: bool = True) -> None:
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.class_weight = class_weight
        self.word_forms = word_forms
        self.fold_copies = fold_copies

    def fit(self, X: Sequence[Any], y: Sequence[str], sample_weight: Any = None) -> LinearTextClassifier:
        """Learn features and weights from texts and their labels."""
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} texts but y has {len(y)} labels")
        if len(set(y)) < 2:
            raise ValueError("need at least two distinct labels to train a classifier")
        self.pipeline_ = Pipeline([
            ("normalise", Normaliser()),
            ("features", make_text_features(word_ngrams=self.word_ngrams, char_ngrams=self.char_ngrams,
                                            min_df=self.min_df, word_forms=self.word_forms)),
            ("model", LogisticRegression(C=self.C, max_iter=3000, class_weight=self.class_weight)),
        ])
        X, y = list(X), list(y)
        if self.fold_copies:
            stripped = [fold(x.text if isinstance(x, NormalisedText) else str(x)) for x in X]
            keep = [i for i, s in enumerate(stripped) if s != (X[i].text if isinstance(X[i], NormalisedText) else X[i])]
            X, y = X + [stripped[i] for i in keep], y + [y[i] for i in keep]
            if sample_weight is not None:
                sample_weight = np.concatenate([np.asarray(sample_weight), np.asarray(sample_weight)[keep]])
        self.pipeline_.fit(X, np.asarray(y), model__sample_weight=sample_weight)
        for _, branch in self.pipeline_.named_steps["features"].transformer_list:
            vectorizer = branch.named_steps["tfidf"]
            # numpy ints in the vocabulary are stored one object each by skops (40 MB instead of 2 MB).
            vectorizer.vocabulary_ = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        # Readable names, computed once: rebuilding them per call made explain() 60% of classification time.
        self.feature_names_ = [_readable(str(n)) for n in
                               self.pipeline_.named_steps["features"].get_feature_names_out()]
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X: Sequence[Any]) -> npt.NDArray[np.float64]:
        """Probabilities per class, columns in the order of `classes_`."""
        check_is_fitted(self, "pipeline_")
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        return np.asarray(self.pipeline_.predict_proba(list(X)), dtype=np.float64)

    def predict(self, X: Sequence[Any]) -> npt.NDArray[Any]:
        """The most probable label of each text."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)]) if len(X) else np.array([])

    def explain(self, X: Sequence[Any], labels: Sequence[str] | None = None, *, top: int = 3) -> list[list[str]]:
        """The features that pushed each text towards its label most."""
        check_is_fitted(self, "pipeline_")
        if not len(X):
            return []
        features = self.features(X)
        if labels is None:
            labels = list(self.classes_[np.argmax(self.proba_of(features), axis=1)])
        return self.reasons_of(features, labels, top=top, texts=X)

    def explain_proba(self, X: Sequence[Any], *, top: int = 3, features: Any = None
                      ) -> tuple[npt.NDArray[np.float64], list[list[str]]]:
        """`predict_proba` and `explain` (for the predicted labels) from one pass of the feature pipeline,
        which is most of the cost of either: what a ticket classified one at a time needs.

        `features`: the texts' `features` matrix when already computed by a model with the same `features_key`.
        """
        check_is_fitted(self, "pipeline_")
        if not len(X):
            return np.zeros((0, len(self.classes_))), []
        features = self.features(X) if features is None else features
        proba = self.proba_of(features)
        return proba, self.reasons_of(features, list(self.classes_[np.argmax(proba, axis=1)]), top=top, texts=X)

    def features(self, X: Sequence[Any]) -> Any:
        """The sparse feature matrix of the texts (normalised inside)."""
        return self.pipeline_[:-1].transform(list(X))

    @property
    def features_key(self) -> str:
        """A digest of the fitted vocabularies and IDF weights: models with the same key make the same `features`
        of a text (category and urgency are trained on one corpus, so theirs are the same; issue 16)."""
        check_is_fitted(self, "pipeline_")
        key: str | None = getattr(self, "_features_key", None)
        if key is None:
            digest = hashlib.blake2b(digest_size=16)
            for name, branch in self.pipeline_.named_steps["features"].transformer_list:
                vectorizer = branch.named_steps["tfidf"]
                digest.update(repr((name, branch.named_steps["select"].form, vectorizer.get_params())).encode())
                digest.update(repr(sorted(vectorizer.vocabulary_.items())).encode())
                digest.update(np.ascontiguousarray(vectorizer.idf_).tobytes())
            key = self._features_key = digest.hexdigest()
        return key

    def proba_of(self, features: Any) -> npt.NDArray[np.float64]:
        """Class probabilities from a `features` matrix."""
        return np.asarray(self.pipeline_[-1].predict_proba(features), dtype=np.float64)

    def reasons_of(self, features: Any, labels: Sequence[str], *, top: int = 3,
                   texts: Sequence[Any] | None = None) -> list[list[str]]:
        """The strongest features towards each label, from a `features` matrix.

        With `texts`, each feature is shown as the words of the text it came from, with their diacritics
        ("Ổng", "ko thở đc"), and features that come from the same words count once (issue 12).
        """
        names = self.feature_names_
        coef = self.pipeline_[-1].coef_
        index = {label: i for i, label in enumerate(self.classes_)}
        rows = features.tocsr()
        if not rows.has_sorted_indices:  # the order scipy's row.multiply(...).tocsr() gave, so ties sort alike
            rows = rows.sorted_indices()
        # Every row's contributions in one vectorised product (issue 16): each stored value times the weight
        # of its column for that row's label. A binary model's one row of weights speaks for its second class.
        label_of = np.fromiter((index[label] for label in labels), dtype=np.intp, count=len(labels))
        per_value = np.repeat(label_of, np.diff(rows.indptr))
        if coef.shape[0] > 1:
            contrib = rows.data * coef[per_value, rows.indices]
        else:  # negating is exact, so this equals multiplying by the negated weights
            contrib = rows.data * coef[0, rows.indices] * np.where(per_value == 0, -1.0, 1.0)
        reasons = []
        for n in range(len(labels)):
            start, end = rows.indptr[n], rows.indptr[n + 1]
            data, columns = contrib[start:end], rows.indices[start:end]
            text = None if texts is None else _raw(texts[n])
            seen: list[str] = []
            keys: set[str] = set()
            order = np.argsort(data)[::-1]
            for value, column in zip(data[order].tolist(), columns[order].tolist()):
                if value <= 0 or len(seen) >= top:
                    break
                term = names[column]
                shown = term if text is None else as_written(text, term)
                if shown is None:
                    continue
                # "chích" after "chích mũi" (or the reverse) says nothing new.
                if not any(shown.lower() in key or key in shown.lower() for key in keys):
                    keys.add(shown.lower())
                    seen.append(shown)
            reasons.append(seen)
        return reasons


def explain_proba_all(models: Sequence[Any], X: Sequence[Any], *, top: int = 3
                      ) -> list[tuple[npt.NDArray[np.float64], list[list[str]]]]:
    """Each model's `explain_proba` of the same texts; the texts are featurised once per `features_key`
    (models without one featurise on their own)."""
    shared: dict[str, Any] = {}
    out = []
    for model in models:
        key = getattr(model, "features_key", None)
        if not isinstance(key, str) or not len(X):
            out.append(model.explain_proba(X, top=top))
            continue
        if key not in shared:
            shared[key] = model.features(X)
        out.append(model.explain_proba(X, top=top, features=shared[key]))
    return out


def _raw(x: Any) -> str:
    return x.text if isinstance(x, NormalisedText) else str(x)


class UrgencyClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Learned urgency scores overruled by explicit red-flag rules (classifier/red_flags.py).

    A rule for `emergency` lifts that label's probability to at least `rule_floor`; a rule for `high` does the
    same for `high` unless the text is already an emergency. Rules run on the accent-folded text, so a
    message typed without diacritics cannot slip past them.

    Parameters
    ----------
    C : float
        Passed to the underlying LinearTextClassifier.
    rule_floor : float
        The probability a matched rule guarantees to its level.
    """

    def __init__(self, C: float = 10.0, rule_floor: float = 0.9) -> None:
        self.C = C
        self.rule_floor = rule_floor

    def fit(self, X: Sequence[Any], y: Sequence[str]) -> UrgencyClassifier:
        """Train the learned part; the rules need no training."""
        unknown = set(y) - set(URGENCY_LABELS)
        if unknown:
            raise ValueError(f"unknown urgency labels: {sorted(unknown)}")
        self.model_ = LinearTextClassifier(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def _rules(self, texts: Sequence[NormalisedText]) -> list[list[str]]:
        return [[f.level + ":" + f.reason for f in match_red_flags(t.folded)] for t in texts]

    def predict_proba(self, X: Sequence[Any]) -> npt.NDArray[np.float64]:
        """Learned probabilities, raised where a red flag matched; rows sum to 1."""
        check_is_fitted(self, "model_")
        forms = Normaliser().transform(X)  # once, for both the model and the rules
        return self._with_rules(self.model_.predict_proba(forms), self._rules(forms))

    def explain_proba(self, X: Sequence[Any], *, top: int = 3, features: Any = None
                      ) -> tuple[npt.NDArray[np.float64], list[list[str]]]:
        """`predict_proba` and `explain` for the predicted labels, normalising and featurising once
        (`features`: as LinearTextClassifier.explain_proba)."""
        check_is_fitted(self, "model_")
        forms = Normaliser().transform(X)
        if not forms:
            return np.zeros((0, len(self.classes_))), []
        rules = self._rules(forms)
        features = self.model_.features(forms) if features is None else features
        proba = self._with_rules(self.model_.proba_of(features), rules)
        labels = list(self.classes_[np.argmax(proba, axis=1)])
        learned = self.model_.reasons_of(features, labels, top=top, texts=forms)
        return proba, self._combine(rules, learned, labels, top)

    def features(self, X: Sequence[Any]) -> Any:
        """The learned model's feature matrix of the texts."""
        return self.model_.features(Normaliser().transform(X))

    @property
    def features_key(self) -> str:
        """The learned model's `features_key`."""
        return str(self.model_.features_key)

    def _with_rules(self, proba: npt.NDArray[np.float64], rules: list[list[str]]) -> npt.NDArray[np.float64]:
        index = {label: i for i, label in enumerate(self.classes_)}
        for row, hits in zip(proba, rules):
            levels = {h.split(":", 1)[0] for h in hits}
            level = EMERGENCY if EMERGENCY in levels else ("high" if "high" in levels else None)
            if level is None or level not in index:
                continue
            i = index[level]
            if row[i] < self.rule_floor:
                rest = row.sum() - row[i]
                scale = (1 - self.rule_floor) / rest if rest > 0 else 0.0
                row *= scale
                row[i] = self.rule_floor
        return proba

    def predict(self, X: Sequence[Any]) -> npt.NDArray[Any]:
        """The most urgent label the evidence supports."""
        check_is_fitted(self, "model_")
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)]) if len(X) else np.array([])

    def explain(self, X: Sequence[Any], labels: Sequence[str] | None = None, *, top: int = 3) -> list[list[str]]:
        """Matched rules first ("quy tắc: khó thở"), then the learned model's strongest features."""
        forms = Normaliser().transform(X)
        labels = list(self.predict(forms)) if labels is None else list(labels)
        return self._combine(self._rules(forms), self.model_.explain(forms, labels, top=top), labels, top)

    @staticmethod
    def _combine(rules: list[list[str]], learned: list[list[str]], labels: Sequence[str], top: int) -> list[list[str]]:
        out = []
        for hits, feats, label in zip(rules, learned, labels):
            matched = [f"quy tắc: {h.split(':', 1)[1]}" for h in hits if h.split(":", 1)[0] == label]
            out.append((matched + feats)[: max(top, len(matched))])
        return out

