"""Home-isolation rules as pure functions: reading replies, judging a case (issue 17)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from intake.isolation.assess import assess
from intake.isolation.parse import parse_reply
from intake.isolation.records import Case, CheckIn, Reading, Risk

T0 = datetime(2021, 8, 1, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "spo2", "temperature", "breathing"), [
    ("spo2 95", 95, None, None),
    ("95%", 95, None, None),
    ("SpO2: 97 %", 97, None, None),
    ("Sp02 la 93", 93, None, None),
    ("oxy 90", 90, None, None),
    ("96", 96, None, None),
    ("sốt 38 độ 5", None, 38.5, None),
    ("sot 38 do 5", None, 38.5, None),
    ("nhiệt độ 37,8", None, 37.8, None),
    ("38 độ 2", None, 38.2, None),
    ("37.5", None, 37.5, None),
    ("hơi khó thở", None, None, "mild"),
    ("hoi kho tho", None, None, "mild"),
    ("khó thở nhiều quá", None, None, "severe"),
    ("ko kho tho, spo2 98%, ko sot", 98, None, "normal"),
    ("spo2 96 sot 38,5 tho binh thuong", 96, 38.5, "normal"),
    ("Dạ em spo2 là 94, nhiệt độ 37 độ 8, hơi khó thở ạ", 94, 37.8, "mild"),
])
def test_replies_are_read_into_readings(text: str, spo2: int | None, temperature: float | None,
                                        breathing: str | None) -> None:
    parsed = parse_reply(text)
    assert (parsed.spo2, parsed.temperature, parsed.breathing) == (spo2, temperature, breathing)


@pytest.mark.parametrize("text", ["spo2 150", "sốt 55 độ", "ngày 12/8", "cảm ơn bác sĩ nhiều"])
def test_implausible_numbers_and_small_talk_are_not_readings(text: str) -> None:
    parsed = parse_reply(text)
    assert parsed.spo2 is None and parsed.temperature is None


def test_a_plain_fine_counts_as_an_answer_and_red_flags_are_named() -> None:
    assert not parse_reply("em vẫn ổn").empty
    assert parse_reply("cảm ơn").empty
    assert "tím tái" in parse_reply("môi tím tái, thở dốc").flags


def _case(*readings: Reading, age: int | None = 40, checkins: tuple[CheckIn, ...] = (),
          factors: tuple[str, ...] = ()) -> Case:
    return Case(id="f0-x", name="A", district="Dĩ An", ward="Đông Hòa", address="", start_date=date(2021, 8, 1),
                consent=True, created_at=T0, updated_at=T0, age=age, risk_factors=factors, readings=readings,
                checkins=checkins)


def _r(hours: int, spo2: int | None = None, temperature: float | None = None, breathing: str | None = None,
       flags: tuple[str, ...] = ()) -> Reading:
    return Reading(T0 + timedelta(hours=hours), "x", spo2, temperature, breathing, flags)


@pytest.mark.parametrize(("readings", "risk"), [
    ((_r(1, 97),), Risk.GREEN),
    ((_r(1, 95),), Risk.YELLOW),
    ((_r(1, 97, 38.6),), Risk.YELLOW),
    ((_r(1, 93),), Risk.RED),
    ((_r(1, 97, flags=("khó thở",)),), Risk.RED),
    ((_r(1, 98), _r(2, 97), _r(3, 95)), Risk.RED),  # falling 3 points over three readings
    ((_r(1, 98), _r(2, 97), _r(3, 97)), Risk.GREEN),
    ((_r(1, 93), _r(2, 97)), Risk.GREEN),  # the latest reading counts, not an old one
])
def test_worsening_rules(readings: tuple[Reading, ...], risk: Risk) -> None:
    assert assess(_case(*readings)).risk is risk


def test_silence_alarms_only_for_high_risk_patients_after_two_missed_check_ins() -> None:
    asked = tuple(CheckIn(T0 + timedelta(hours=h), T0 + timedelta(hours=h), "sms") for h in (0, 9, 24))
    assert assess(_case(checkins=asked, age=70)).risk is Risk.RED
    assert assess(_case(checkins=asked, factors=("diabetes",))).risk is Risk.RED
    assert assess(_case(checkins=asked, age=30)).risk is Risk.YELLOW
    assert assess(_case(checkins=asked[:2], age=70)).risk is Risk.YELLOW  # one missed, one just sent
