"""When a patient at home is worsening: pure rules over a case's readings and check-ins.

Worsening (an alert to the ward's medical team) is any of: SpO2 below 94 (the Ministry of Health's home-care
threshold for calling the medical team), an emergency sign from classifier.red_flags (breathlessness, chest
pain, cyanosis, confusion...), SpO2 falling over the last three readings by 3 points or more, or, for a
high-risk patient (65+ or a risk factor), two check-ins in a row left unanswered. Yellow is worth a look
(fever ≥ 38.5, SpO2 94-95, mild breathlessness already counted as a sign, one missed check-in).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from intake.isolation.records import Case, Risk

SPO2_ALERT: Final = 94
SPO2_WATCH: Final = 96
TREND_DROP: Final = 3
FEVER_WATCH: Final = 38.5
MISSED_ALERT: Final = 2


@dataclass(frozen=True, slots=True)
class Assessment:
    """The case's risk now and why."""

    risk: Risk
    reasons: tuple[str, ...]

    @property
    def worsening(self) -> bool:
        """Calls for the ward's medical team now."""
        return self.risk is Risk.RED


def assess(case: Case) -> Assessment:
    """Red, yellow or green, with the reasons in Vietnamese (shown to the medical team and in the ticket)."""
    red: list[str] = []
    yellow: list[str] = []
    latest = case.latest
    if latest is not None:
        if latest.spo2 is not None and latest.spo2 < SPO2_ALERT:
            red.append(f"SpO2 {latest.spo2}% (dưới {SPO2_ALERT}%)")
        # A measured SpO2 says more than the words "SpO2 thấp"; keep one reason per sign.
        red.extend(f for f in latest.flags if not (f == "SpO2 thấp" and latest.spo2 is not None))
        if latest.breathing == "severe" and "khó thở" not in latest.flags:
            red.append("khó thở")
        if latest.spo2 is not None and SPO2_ALERT <= latest.spo2 < SPO2_WATCH:
            yellow.append(f"SpO2 {latest.spo2}%")
        if latest.temperature is not None and latest.temperature >= FEVER_WATCH:
            yellow.append(f"sốt {latest.temperature:.1f}°C")
    series = [v for _, v in case.spo2_series()[-3:]]
    if len(series) == 3 and series[0] > series[1] > series[2] and series[0] - series[2] >= TREND_DROP:
        red.append(f"SpO2 giảm dần {series[0]} → {series[1]} → {series[2]}")
    missed = case.missed
    if missed >= MISSED_ALERT and case.high_risk:
        red.append(f"không trả lời {missed} lần hỏi thăm liên tiếp (nguy cơ cao)")
    elif missed:
        yellow.append(f"không trả lời {missed} lần hỏi thăm")
    if red:
        return Assessment(Risk.RED, tuple(dict.fromkeys(red)))
    return Assessment(Risk.YELLOW if yellow else Risk.GREEN, tuple(yellow))
