"""Readings from a patient's free-text answer: "spo2 95", "95%", "sốt 38 độ 5", "hơi khó thở", with or
without diacritics, in the order and words people actually use. Pure functions, no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from classifier.red_flags import EMERGENCY, match_red_flags
from classifier.text import fold, normalise

SPO2_RANGE: Final = range(50, 101)
TEMPERATURE_RANGE: Final = (34.0, 43.0)

# On the lower-case folded raw text, which still has "%", "," and ".".
_SPO2_LABELLED: Final = re.compile(r"\b(?:spo2|sp02|spo 2|sp o2|o2|oxy(?: mau)?|nong do oxy|do bao hoa oxy)"
                                   r"\s*(?:la|:|=|-|duoc|con|chi)?\s*(\d{2,3})\b")
_PERCENT: Final = re.compile(r"\b(\d{2,3})\s*%")
_TEMP_LABELLED: Final = re.compile(r"\b(?:sot|nhiet do|nhiet|than nhiet|temp|t)\s*(?:la|:|=|-|)?\s*"
                                   r"(\d{2})(?:\s*(?:[.,]|do|độ|°c?|c)\s*(\d)(?!\d))?")
_TEMP_UNIT: Final = re.compile(r"\b(\d{2})(?:[.,](\d))?\s*(?:do c|do|°c|°|c)\b(?:\s*(\d)\b)?")
_BARE_NUMBER: Final = re.compile(r"^\s*(\d{2,3}(?:[.,]\d)?)\s*$")
# On normalise().folded (teencode expanded: "ko" -> "khong").
_BREATH_NORMAL: Final = re.compile(r"\b(?:khong|het|chua) (?:bi |con |thay )?kho tho\b|\btho (?:binh thuong|deu|on|tot)\b")
_BREATH_MILD: Final = re.compile(r"\b(?:hoi|it|chut|hoi bi|thinh thoang) kho tho\b|\bkho tho (?:nhe|chut|it)\b")
_BREATH_SEVERE: Final = re.compile(r"\bkho tho (?:nhieu|qua|lam|nang|hon)\b|\b(?:ngop tho|tho doc|hut hoi|tho gap|tho khong duoc|khong tho duoc)\b")
_BREATH_ANY: Final = re.compile(r"\bkho tho\b")
_WELL: Final = re.compile(r"\b(?:van on|on dinh|binh thuong|khoe|on ca|khong sao|(?:khong|het|chua) (?:con )?sot)\b")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What an answer says; None where it says nothing."""

    spo2: int | None = None
    temperature: float | None = None
    breathing: str | None = None
    """"normal", "mild" or "severe"."""
    flags: tuple[str, ...] = ()
    """Emergency signs named by classifier.red_flags (Vietnamese reasons)."""
    well: bool = False
    """Says the patient is fine ("vẫn ổn", "không sốt") without a number."""

    @property
    def empty(self) -> bool:
        """Nothing a check-in asks about."""
        return self.spo2 is None and self.temperature is None and self.breathing is None and not self.flags and not self.well


def _temperature(whole: str, tenth: str | None) -> float | None:
    value = int(whole) + (int(tenth) / 10 if tenth else 0.0)
    return value if TEMPERATURE_RANGE[0] <= value <= TEMPERATURE_RANGE[1] else None


def parse_reply(text: str) -> Parsed:
    """Readings in one answer; numbers outside plausible ranges are ignored, never guessed."""
    raw = fold(text).lower().replace("độ", "do")
    folded = normalise(text).folded
    spo2 = temperature = None
    for pattern in (_SPO2_LABELLED, _PERCENT):
        for match in pattern.finditer(raw):
            if int(match.group(1)) in SPO2_RANGE:
                spo2 = int(match.group(1))
                break
        if spo2 is not None:
            break
    for match in _TEMP_LABELLED.finditer(raw):
        temperature = _temperature(match.group(1), match.group(2))
        if temperature is not None:
            break
    if temperature is None:
        for match in _TEMP_UNIT.finditer(raw):
            temperature = _temperature(match.group(1), match.group(2) or match.group(3))
            if temperature is not None:
                break
    bare = _BARE_NUMBER.match(raw)
    if bare and spo2 is None and temperature is None:  # a lone number answers the question it fits
        number = float(bare.group(1).replace(",", "."))
        if TEMPERATURE_RANGE[0] <= number <= TEMPERATURE_RANGE[1]:
            temperature = number
        elif number.is_integer() and int(number) in SPO2_RANGE:
            spo2 = int(number)
    breathing = None
    if _BREATH_NORMAL.search(folded):
        breathing = "normal"
    elif _BREATH_SEVERE.search(folded):
        breathing = "severe"
    elif _BREATH_MILD.search(folded):
        breathing = "mild"
    elif _BREATH_ANY.search(folded):
        breathing = "severe"
    flags = tuple(f.reason for f in match_red_flags(folded) if f.level == EMERGENCY)
    if spo2 is not None and spo2 >= 94:
        # The SpO2 rule reads any "spo2 9x" ≤ 93 as low; a parsed reading of 94+ is not that sign.
        flags = tuple(f for f in flags if f != "SpO2 thấp")
    return Parsed(spo2, temperature, breathing, flags, bool(_WELL.search(folded)))
