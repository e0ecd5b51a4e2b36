"""Synthetic hard negatives for training the claim matcher: a post copied with one slot swapped.

docs/claim-matching.md §2.4: every similarity scores a post and its slot-swapped copy as near-identical, so
the classifier has to learn from pairs that differ *only* in a slot. Each swap is made from general knowledge,
not from the dev wordings: a sibling unit from the gazetteer (another district of the province, or another
ward of the same district), a shifted date (whatever way it is written: 5/8, 05-08, ngày 5 tháng 8, mùng 5),
an amount times ten, or a denial prefix. Training only: these texts are never evaluated on.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from classifier.gazetteer import Gazetteer
from classifier.text import fold

KINDS: Final = ("place", "date", "number", "polarity")
DENIALS: Final = ("Không có chuyện ", "Tin giả: ", "Cải chính: thông tin sau là sai sự thật. ",
                  "Bác bỏ tin đồn: ", "ko co chuyen ")
"""Prefixes of an official or colloquial denial (varied so no single string is learnt)."""


@dataclass(frozen=True, slots=True)
class Swap:
    """A copy of post `source` (an index) with slot `kind` changed."""

    source: int
    kind: str
    text: str


@functools.lru_cache(maxsize=1)
def _units() -> tuple[list[tuple[re.Pattern[str], list[str]]], list[tuple[re.Pattern[str], list[str]]]]:
    """(district patterns with their siblings, ward patterns with their siblings): each unit's name, accented or
    folded, as a whole-word, case-insensitive pattern; siblings are the other units of the same parent."""
    gazetteer = Gazetteer.load()
    districts = [d.name for d in gazetteer.districts]
    district_patterns = [(_pattern(d.name, *d.aliases), [x for x in districts if x != d.name])
                         for d in gazetteer.districts]
    ward_patterns = []
    district_names = {fold(n).lower() for d in gazetteer.districts for n in (d.name, *d.aliases)}
    for d in gazetteer.districts:
        # one-word ward names are ordinary words; a ward named like its district (phường Dĩ An) is read as
        # the district, so swapping it would not change the place the text names
        names = [w.name for w in d.wards if len(w.name.split()) >= 2 and fold(w.name).lower() not in district_names]
        for w in d.wards:
            if w.name in names:
                ward_patterns.append((_pattern(w.name, *w.aliases), [x for x in names if x != w.name]))
    return district_patterns, ward_patterns


def _pattern(*names: str) -> re.Pattern[str]:
    forms = {n for name in names for n in (name, fold(name)) if len(n) > 2 and " " in n}
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _pick(options: Sequence[str], seed: int) -> str:
    return options[seed % len(options)]


def swap_place(text: str, seed: int) -> str | None:
    """A ward replaced by another ward of its district, else a district by another district."""
    districts, wards = _units()
    for pattern, siblings in (*wards, *districts):
        if siblings and pattern.search(text):
            new = _pick(siblings, seed)
            return pattern.sub(lambda m: new if not m.group(0).isascii() else fold(new), text)
    return None


_NUMERIC_DATE: Final = re.compile(r"(?<![\d/.,])(\d{1,2})(\s?[/\-]\s?)(0?[1-9]|1[0-2])(?=(?:[/\-]\d{2,4})?(?![\d/]))")
_WORD_DATE: Final = re.compile(r"(?i)\b(ngày|ngay|mùng|mung|mồng)(\s+)(\d{1,2})\b")


def swap_date(text: str, seed: int) -> str | None:
    """Every day written as a number moved by the same 3-6 days (within the month)."""
    shift = 3 + seed % 4  # more than a short range (14-16/8) spans
    found = [int(m.group(1)) for m in _NUMERIC_DATE.finditer(text)] + [int(m.group(3)) for m in
                                                                       _WORD_DATE.finditer(text)]
    days = [d for d in found if 1 <= d <= 31]
    if not days:
        return None
    moved: Callable[[int], int] = lambda d: d + shift if d + shift <= 28 else d - shift
    text = _NUMERIC_DATE.sub(lambda m: f"{moved(int(m.group(1)))}{m.group(2)}{m.group(3)}"
                             if 1 <= int(m.group(1)) <= 31 else m.group(0), text)
    return _WORD_DATE.sub(lambda m: f"{m.group(1)}{m.group(2)}{moved(int(m.group(3)))}"
                          if 1 <= int(m.group(3)) <= 31 else m.group(0), text)


_AMOUNT: Final = re.compile(r"(?i)(?<![\d/.,:])(\d+(?:[.,]\d+)?)(\s?)(triệu|trieu|tr|nghìn|ngàn|nghin|ngan|k|tỷ|ty|"
                            r"đồng|dong|đ|kg|ký|ky|ca|người|nguoi|trường hợp|truong hop|f0|%|liều|lieu|hộ|"
                            r"phần|túi)(?!\w)")


def swap_number(text: str, seed: int) -> str | None:
    """Every amount with a unit multiplied by ten, or divided by ten when it is a round multiple of ten."""
    if not _AMOUNT.search(text):
        return None

    def scaled(m: re.Match[str]) -> str:
        raw = m.group(1)
        if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):  # 20.000: thousands separators
            raw = re.sub(r"[.,]", "", raw)
        value = float(raw.replace(",", "."))
        if "." in raw or "," in raw or value == 0:
            new = f"{value * 10:g}".replace(".", ",")
        elif value % 10 == 0 and seed % 2:
            new = str(int(value) // 10)
        else:
            new = str(int(value) * 10)
        return f"{new}{m.group(2)}{m.group(3)}"

    return _AMOUNT.sub(scaled, text)


def swap_polarity(text: str, seed: int) -> str:
    """The post turned into a denial of itself."""
    prefix = _pick(DENIALS, seed)
    body = text.strip()
    return prefix + (body[:1].lower() + body[1:] if prefix.endswith(" ") and not prefix.endswith(": ") else body)


def swaps(texts: Sequence[str], denial: Sequence[bool]) -> list[Swap]:
    """Every applicable swap of every text (a denial is not denied again); deterministic."""
    out = []
    for i, text in enumerate(texts):
        for kind, make in (("place", swap_place), ("date", swap_date), ("number", swap_number)):
            new = make(text, i)
            if new is not None and new != text:
                out.append(Swap(i, kind, new))
        if not denial[i]:
            out.append(Swap(i, "polarity", swap_polarity(text, i)))
    return out
