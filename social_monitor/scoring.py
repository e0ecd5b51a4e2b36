"""The misinformation model as the social monitor uses it: posts in, probability and Vietnamese reasons out."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from social_monitor.records import RawPost

# Feature names of classifier.misinformation, as the comms team reads them.
FEATURE_LABELS: Final[Mapping[str, str]] = {
    "log_likes": "lượt thích", "log_comments": "lượt bình luận", "log_shares": "lượt chia sẻ",
    "likes_missing": "không rõ lượt thích", "comments_missing": "không rõ lượt bình luận",
    "shares_missing": "không rõ lượt chia sẻ", "hour": "giờ đăng", "weekday": "ngày đăng trong tuần",
    "posted_at_missing": "không rõ thời điểm đăng", "log_chars": "độ dài bài", "log_words": "số từ",
    "links": "có đường link", "phones": "có số điện thoại", "hashtags": "hashtag", "exclamations": "dấu chấm than",
    "questions": "dấu hỏi", "upper_ratio": "nhiều chữ in hoa", "digit_ratio": "nhiều chữ số", "lines": "số dòng",
    "symbols": "biểu tượng, emoji", "text_score": "cách viết của bài", "author_posts": "số bài của tác giả",
}
_CONTEXT: Final = re.compile(r"^(?P<name>\w+)=\S+ \(typical [^)]*\) raises the probability by (?P<effect>[\d.]+)$")
_WORDING: Final = re.compile(r"^wording '(?P<term>.+)' adds [\d.]+ to the text score$")


@dataclass(frozen=True, slots=True)
class Score:
    """The model's probability that a post is unreliable, and (for high scores) the reasons, in Vietnamese."""

    probability: float
    reasons: tuple[str, ...]


class Scorer(Protocol):
    """Scores posts; blocking (the service runs it through asyncio.to_thread)."""

    def score(self, posts: Sequence[RawPost]) -> list[Score]:
        """One score per post, in order."""
        ...


def vietnamese_reason(reason: str) -> str | None:
    """One of `MisinformationClassifier.top_reasons` in Vietnamese; None for the probability line."""
    if reason.startswith("probability unreliable"):
        return None
    context = _CONTEXT.match(reason)
    if context:
        label = FEATURE_LABELS.get(context["name"], context["name"])
        return f"{label} (+{float(context['effect']):.0%})"
    wording = _WORDING.match(reason)
    if wording:
        return f"cụm từ “{wording['term']}”"
    return reason


class MisinformationScorer:
    """Adapts `classifier.misinformation.MisinformationClassifier` (loaded with registry.load) to `Scorer`.

    `predict_proba(...)[:, 1]` is the probability of "unreliable". Reasons cost one booster call per feature,
    so they are computed only for posts at or above `explain_from` (the ones that get flagged).
    """

    def __init__(self, model: Any, *, explain_from: float = 0.8, top: int = 4) -> None:
        self._model = model
        self._explain_from = explain_from
        self._top = top

    def score(self, posts: Sequence[RawPost]) -> list[Score]:
        """One score per post, in order."""
        from classifier.misinformation import PostFeatures

        features = [PostFeatures(text=p.text, likes=p.likes, comments=p.comments, shares=p.shares,
                                 posted_at=p.published_at, author=p.author) for p in posts]
        if not features:
            return []
        scores = []
        for feature, probability in zip(features, self._model.predict_proba(features)[:, 1]):
            reasons: tuple[str, ...] = ()
            if probability >= self._explain_from:
                found = (vietnamese_reason(r) for r in self._model.top_reasons(feature, n=self._top))
                reasons = tuple(r for r in found if r)[:self._top]
            scores.append(Score(round(float(probability), 4), reasons))
        return scores
