"""Synthetic slot swaps (training audit of the vetoes) and the date and denial readings added with them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from classifier.text import normalise
from social_monitor import synthetic
from social_monitor.slots import Match, Slots, compare, read

VN = timezone(timedelta(hours=7))
MONDAY = datetime(2021, 8, 9, 20, 0, tzinfo=VN)
RUMOUR = "Chia sẻ gấp: Dĩ An phát 10 kg gạo mỗi người, nhận ngày 12/8 tại UBND, nhớ mang CMND"


def slots(text: str) -> Slots:
    return read(normalise(text), MONDAY)


def test_each_swap_changes_only_its_slot_and_the_veto_sees_it() -> None:
    made = {s.kind: s.text for s in synthetic.swaps([RUMOUR], [False])}
    assert set(made) == {"place", "date", "number", "polarity"}
    original = slots(RUMOUR)
    for kind, text in made.items():
        result = compare(original, slots(text))
        assert result[kind] is Match.CONFLICT, (kind, text)
        others = [k for k in ("place", "date", "number", "polarity") if k != kind]
        assert all(result[k] is not Match.CONFLICT for k in others), (kind, text, result)
    assert "Dĩ An" not in made["place"] and "12/8" not in made["date"] and "100 kg" in made["number"]


def test_unaccented_text_gets_an_unaccented_sibling_and_a_denial_is_not_denied_again() -> None:
    text = "di an phat gao 10kg ngay 12/8 nha mn"
    made = {s.kind: s.text for s in synthetic.swaps([text], [True])}
    assert "polarity" not in made
    assert made["place"].isascii() and made["place"] != text
    assert synthetic.swap_number("cấp hơn 2.000 túi an sinh", 0) == "cấp hơn 20000 túi an sinh"


def test_dates_written_out_and_an_explicit_date_over_a_weekday() -> None:
    assert slots("học online từ mùng 6 tháng 9").dates == {(9, 6)}
    assert slots("lùi năm học tới hai mươi tháng chín mới học").dates == {(9, 20)}
    assert not slots("trưa thứ 5 (7/8) là cấm cửa").soft_dates  # the date given wins over "thứ 5"


def test_denial_cues() -> None:
    assert slots("Sở Y tế cải chính rồi, vẫn tiêm bình thường").denial
    assert slots("so y te bac tin dung tiem moderna roi").denial
    assert not slots("Bình Dương dừng tiêm Moderna từ 19/8").denial
