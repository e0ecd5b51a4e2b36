"""The misinformation model as the social monitor uses it: posts in, probability and reasons out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from social_monitor.records import RawPost


@dataclass(frozen=True, slots=True)
class Score:
    """The model's probability that a post is unreliable, and the features that weighed most."""

    probability: float
    reasons: tuple[str, ...]


class Scorer(Protocol):
    """Scores posts; blocking (the service runs it through asyncio.to_thread)."""

    def score(self, posts: Sequence[RawPost]) -> list[Score]:
        """One score per post, in order."""
        ...


class MisinformationScorer:
    """Adapts `classifier.misinformation.MisinformationClassifier` (loaded with registry.load) to `Scorer`."""

    def __init__(self, model: Any, *, top: int = 3) -> None:
        self._model = model
        self._top = top

    def score(self, posts: Sequence[RawPost]) -> list[Score]:
        """predict_proba(...)[:, 1] is the probability of "unreliable"."""
        from classifier.misinformation import PostFeatures

        features = [PostFeatures(text=p.text, likes=p.likes, comments=p.comments, shares=p.shares,
                                 posted_at=p.published_at, author=p.author) for p in posts]
        if not features:
            return []
        proba = self._model.predict_proba(features)[:, 1]
        reasons = self._model.explain(features, top=self._top)
        return [Score(round(float(p), 4), tuple(r)) for p, r in zip(proba, reasons)]
