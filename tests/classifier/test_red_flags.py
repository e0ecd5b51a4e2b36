"""The explicit urgency rules: signs of danger are found with or without diacritics, negations are not."""
from __future__ import annotations

import pytest

from classifier.red_flags import EMERGENCY, HIGH, RED_FLAGS, match_red_flags
from classifier.text import normalise


def _levels(text: str) -> set[str]:
    return {flag.level for flag in match_red_flags(normalise(text).folded)}


@pytest.mark.parametrize("text", [
    "Mẹ em khó thở lắm, SpO2 còn 88%",
    "me em kho tho lam spo2 con 88",
    "ba e ko thở dc nữa",
    "SpO2 91 anh ơi",
    "alo ông nội em bị ngất xỉu ngoài sân",
    "chau be dang co giat",
    "môi tím tái rồi",
    "chong em dang cam dao doa giet me con em",
    "có người bị đâm ở chợ",
    "thằng bạn nhắn tin tạm biệt nói muốn chết",
    "vợ em vỡ ối rồi mà khu phong tỏa không ra được",
    "công nhân bị điện giật ngã ra không biết gì",
])
def test_life_threatening_signs_are_emergencies(text: str) -> None:
    assert EMERGENCY in _levels(text)


@pytest.mark.parametrize("text", [
    "không khó thở, chỉ ho nhẹ",
    "ko kho tho chi sot nhe",
    "SpO2 98 bình thường",
    "chờ em xíu nha",
    "từ từ rồi tính",
    "cúp điện ngắt điện cả ngày",
    "điện thoại còn bảo hành không",
    "chuyện đã xảy ra hôm qua",
    "mệt muốn chết luôn",
    "xe chở heo đi lò mổ Tân Uyên",
    "cho hỏi giờ làm việc của điểm tiêm",
])
def test_ordinary_or_negated_phrases_are_not_emergencies(text: str) -> None:
    assert EMERGENCY not in _levels(text)


@pytest.mark.parametrize("text", [
    "nhà em hết gạo từ hôm qua",
    "het sach do an roi",
    "bà ngoại 80 tuổi ở một mình không ai chăm sóc",
    "vợ em đang mang thai 8 tháng",
    "bé sốt cao 39 độ",
])
def test_needs_for_today_are_high(text: str) -> None:
    assert HIGH in _levels(text)


def test_every_rule_has_a_vietnamese_reason_and_a_known_level() -> None:
    assert all(flag.reason and flag.level in (EMERGENCY, HIGH) for flag in RED_FLAGS)
