"""scikit-learn transformers that turn raw Vietnamese texts into model features.

Normalisation runs once per text (`Normaliser`), then each branch of a FeatureUnion picks one analysed form
(`FormSelector`): the segmented form keeps diacritics, where meaning lives; the folded form makes a message
typed without diacritics or in teencode look like its accented twin.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from classifier.text import NormalisedText, normalise

FORMS = ("text", "plain", "segmented", "folded")


class Normaliser(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Map raw texts to `NormalisedText` records; stateless."""

    def fit(self, X: Sequence[str], y: Any = None) -> Normaliser:
        """Nothing to learn; returns self."""
        return self

    def transform(self, X: Sequence[str]) -> list[NormalisedText]:
        """Normalise each text."""
        return [x if isinstance(x, NormalisedText) else normalise(str(x)) for x in X]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


class FormSelector(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Pick one analysed form (`segmented`, `folded`, ...) out of `NormalisedText` records.

    Parameters
    ----------
    form : str
        One of ``text``, ``plain``, ``segmented``, ``folded``.
    """

    def __init__(self, form: str = "segmented") -> None:
        self.form = form

    def fit(self, X: Sequence[NormalisedText], y: Any = None) -> FormSelector:
        """Validate `form`; returns self."""
        if self.form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {self.form!r}")
        return self

    def transform(self, X: Sequence[NormalisedText]) -> list[str]:
        """The chosen form of each record."""
        return [str(getattr(x, self.form)) for x in X]

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """One column of strings, named after the form (the vectorizer after it names the real features)."""
        return np.asarray([self.form], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def make_text_features(*, word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
                       min_df: int = 1, max_features: int | None = 200_000,
                       word_forms: Sequence[str] = ("segmented", "folded")) -> FeatureUnion:
    """TF-IDF over words (of each form in `word_forms`) and folded character n-grams.

    Without "segmented", every feature comes from the folded form, so a text and its copy stripped of
    diacritics get the same features (issue 12).
    """
    def branch(form: str, **tfidf: Any) -> Pipeline:
        return Pipeline([("select", FormSelector(form)),
                         ("tfidf", TfidfVectorizer(sublinear_tf=True, min_df=min_df, max_features=max_features,
                                                   lowercase=False, **tfidf))])
    names = {"segmented": "words", "folded": "folded_words"}
    words = [(names[form], branch(form, token_pattern=r"[^\s.,;:!?()\"']+", ngram_range=word_ngrams))
             for form in word_forms]
    return FeatureUnion([*words, ("folded_chars", branch("folded", analyzer="char_wb", ngram_range=char_ngrams))])
