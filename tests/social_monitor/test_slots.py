"""The claim matcher's slots and lexicon: what a text asserts besides its words, and how two texts compare."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from classifier.text import normalise
from social_monitor import lexicon
from social_monitor.slots import Match, Slots, compare, conflicts, merge, read

VN = timezone(timedelta(hours=7))
MONDAY = datetime(2021, 8, 9, 20, 0, tzinfo=VN)  # Monday 9 August 2021


def slots(text: str, at: datetime | None = MONDAY) -> Slots:
    return read(normalise(text), at)


def test_another_district_conflicts_and_a_ward_of_the_same_district_agrees() -> None:
    di_an = slots("Phong tỏa toàn bộ TX Dĩ An từ 0h ngày 10/8")
    assert compare(di_an, slots("Thuận An lockdown từ 0h 10/8"))["place"] is Match.CONFLICT
    assert compare(di_an, slots("di an phong toa tu 0h 10-8 nha mn"))["place"] is Match.AGREE
    assert compare(di_an, slots("phường Tân Đông Hiệp, Dĩ An bị phong tỏa"))["place"] is Match.AGREE
    assert compare(di_an, slots("sắp phong tỏa hả mọi người"))["place"] is Match.ONE  # unknown, not a conflict


def test_two_wards_of_one_district_conflict() -> None:
    assert compare(slots("phường Phú Hòa phát gạo"), slots("phường Hiệp Thành phát gạo"))["place"] is Match.CONFLICT


@pytest.mark.parametrize("text", ["từ 0h ngày 10/8", "tu 0h 10-8", "ngày 10 tháng 8", "mùng 10", "ngày mười tháng tám",
                                  "từ ngày mai", "thứ Ba này"])
def test_every_way_of_writing_the_10th_of_august_agrees(text: str) -> None:
    assert compare(slots("phong tỏa Dĩ An 10/8"), slots(text))["date"] is Match.AGREE


def test_another_date_conflicts_and_an_unresolvable_one_is_unknown() -> None:
    assert compare(slots("phong tỏa 10/8"), slots("phong tỏa 12/8"))["date"] is Match.CONFLICT
    # "ngày mai" without a publication time cannot be resolved: unknown, never a conflict
    assert compare(slots("phong tỏa 10/8"), slots("phong tỏa từ ngày mai", at=None))["date"] is Match.ONE


@pytest.mark.parametrize("text", ["hỗ trợ 6tr", "hỗ trợ 6 triệu", "hỗ trợ 6.000.000đ", "hỗ trợ sáu triệu"])
def test_amounts_written_differently_agree(text: str) -> None:
    assert compare(slots("mỗi người được 6 triệu đồng"), slots(text))["number"] is Match.AGREE


def test_amounts_further_apart_than_the_ratio_conflict() -> None:
    assert compare(slots("giá rau 500k một ký"), slots("giá rau 50 nghìn một ký"))["number"] is Match.CONFLICT
    assert compare(slots("có 17 công nhân dương tính"), slots("một trăm bảy chục công nhân dương tính"))["number"] \
        is Match.CONFLICT
    assert compare(slots("1,5 triệu mỗi người"), slots("một triệu rưỡi"))["number"] is Match.AGREE


def test_named_places_of_one_kind_conflict_when_their_names_differ() -> None:
    assert compare(slots("Chợ Lái Thiêu bị phong tỏa"), slots("chợ Búng bị phong tỏa"))["named"] is Match.CONFLICT
    assert compare(slots("KCN VSIP 1 có F0"), slots("khu công nghiệp VSIP 1 tạm dừng"))["named"] is Match.AGREE
    assert slots("cho hoi xiu, chieu nay di dau").named == frozenset()  # "cho" is "for", not a market


def test_a_rumour_and_its_denial_conflict() -> None:
    rumour = slots("Dĩ An phong tỏa từ 10/8, mọi người đi chợ gấp")
    denial = slots("KHÔNG có chuyện phong tỏa Dĩ An từ 10/8, đó là tin giả")
    assert conflicts(compare(rumour, denial)) == ["polarity"]
    # the fact-checker's entry for a false claim reads as the rumour, whatever its verdict words
    entry = read(normalise("Thông tin Dĩ An phong tỏa từ 10/8 là không đúng sự thật"), None, verdict_frame=True)
    assert compare(entry, rumour)["polarity"] is not Match.CONFLICT
    assert compare(entry, denial)["polarity"] is Match.CONFLICT


def test_a_claims_signature_pools_its_members() -> None:
    pooled = merge([slots("Dĩ An phong tỏa 10/8"), slots("phong tỏa từ 0h, 3 ca F0")])
    assert conflicts(compare(pooled, slots("Thuận An phong tỏa"))) == ["place"]
    assert not conflicts(compare(pooled, slots("phong tỏa nha mọi người")))


def test_synonyms_fold_into_one_concept() -> None:
    texts = ["phong tỏa", "khóa chặt", "lockdown", "chốt chặn"]
    assert {lexicon.canonical(normalise(t).folded) for t in texts} == {"zlockdown"}
    assert lexicon.canonical(normalise("chích ngừa").folded) == lexicon.canonical(normalise("tiêm chủng").folded)
