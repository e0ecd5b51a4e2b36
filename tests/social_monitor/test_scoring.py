"""The misinformation model's reasons, as the comms team reads them (Vietnamese)."""
from __future__ import annotations

import pytest

from social_monitor.records import RawPost
from social_monitor.scoring import MisinformationScorer, vietnamese_reason


@pytest.mark.parametrize(("reason", "expected"), [
    ("probability unreliable 0.93", None),
    ("exclamations=4.00 (typical exclamations=0.00) moves the probability by +0.12", "dấu chấm than (+12%)"),
    ("text_score=0.91 (typical text_score=-2.15) moves the probability by +0.28", "cách viết của bài (+28%)"),
    ("comments unknown (typical comments=4) moves the probability by +0.11", "lượt bình luận (+11%)"),
    ("likes=45 (typical likes=3) moves the probability by +0.06", "lượt thích (+6%)"),
    ("wording 'chia_sẻ gấp' +0.84 to the text score", "cụm từ “chia_sẻ gấp”"),
])
def test_model_reasons_are_shown_in_vietnamese(reason: str, expected: str | None) -> None:
    assert vietnamese_reason(reason) == expected


def test_the_trained_model_scores_posts_and_explains_them_in_vietnamese(scorer: MisinformationScorer) -> None:
    posts = [RawPost("t", "1", "KHẨN!!! Uống nước chanh nóng chữa khỏi COVID-19, chia sẻ gấp cho mọi người!!! "
                               "Liên hệ 0912345678 http://bit.ly/xyz", shares=900),
             RawPost("t", "2", "UBND tỉnh Bình Dương thông báo lịch tiêm vắc xin mũi 2 tại trạm y tế phường.")]

    scores = scorer.score(posts)
    reasons = scorer.explain(posts[0])

    assert all(0 <= s.probability <= 1 for s in scores)
    assert scores[0].probability > scores[1].probability
    assert reasons and not any(r.startswith(("probability", "wording")) for r in reasons)
    assert not any("typical" in r or "moves the probability" in r for r in reasons)  # all in Vietnamese
