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
# The formats of MisinformationClassifier.top_reasons: "likes=45 (typical likes=3) moves the probability by
# +0.06", "comments unknown (typical comments=4) moves ...", "wording 'chia_sẻ' +0.84 to the text score".
_CONTEXT: Final = re.compile(r"^(?P<name>[a-z_]+)(?:=\S+| unknown) \(typical [^)]*\) moves the probability by "
                             r"\+(?P<effect>[\d.]+)$")
_WORDING: Final = re.compile(r"^wording '(?P<term>.+)' \+[\d.]+ to the text score$")


@dataclass(frozen=True, slots=True)
class Score:
    """The model's probability that a post is unreliable."""

    probability: float


class Scorer(Protocol):
    """Scores and explains posts; blocking (the service runs it through asyncio.to_thread)."""

    def score(self, posts: Sequence[RawPost]) -> list[Score]:
        """One score per post, in order (fast: every post is scored)."""
        ...

    def explain(self, post: RawPost) -> tuple[str, ...]:
        """Why the post scores high, in Vietnamese (slow: called once per newly flagged claim)."""
        ...


def vietnamese_reason(reason: str) -> str | None:
    """One of `MisinformationClassifier.top_reasons` in Vietnamese; None for the probability line."""
    if reason.startswith("probability unreliable"):
        return None
    context = _CONTEXT.match(reason)
    if context:
        name = context["name"]
        label = FEATURE_LABELS.get(name) or FEATURE_LABELS.get(f"log_{name}", name)
        return f"{label} (+{float(context['effect']):.0%})"
    wording = _WORDING.match(reason)
    if wording:
        return f"cụm từ “{wording['term']}”"
    return None  # a format this adapter does not know: better no reason than an English one


class MisinformationScorer:
    """Adapts `classifier.misinformation.MisinformationClassifier` (loaded with registry.load) to `Scorer`.

    `predict_proba(...)[:, 1]` is the probability of "unreliable". `top_reasons` re-runs the booster once per
    feature (about 20 ms a post on the development machine), so the service asks for it only once per
    newly flagged claim, never per post.
    """

    def __init__(self, model: Any, *, top: int = 4) -> None:
        self._model = model
        self._top = top

    def score(self, posts: Sequence[RawPost]) -> list[Score]:
        """One score per post, in order."""
        if not posts:
            return []
        probabilities = self._model.predict_proba([_features(p) for p in posts])[:, 1]
        return [Score(round(float(p), 4)) for p in probabilities]

    def explain(self, post: RawPost) -> tuple[str, ...]:
        """The model's top reasons for this post, in Vietnamese."""
        # Concrete signals, then phrases as written, in Vietnamese from the model itself (issue 12).
        return tuple(self._model.explain([_features(post)], [1], top=max(1, self._top // 2))[0])


def _features(post: RawPost) -> Any:
    from classifier.misinformation import PostFeatures

    return PostFeatures(text=post.text, likes=post.likes, comments=post.comments, shares=post.shares,
                        posted_at=post.published_at, author=post.author)
