"""The details a claim asserts, read from its text: place, date, time, numbers, named places and polarity.

Two rumours in the same words about another district, another day or another amount are two claims (issue 11;
Full Fact's "same truth conditions"), and every similarity measure scores such close pairs *higher* than real
rewordings (docs/claim-matching.md §2.3). So each text's slots are read by rules, and two texts are compared
slot by slot: AGREE, CONFLICT, or unknown when one side does not say (a post that omits the date does not
contradict one that gives it). A CONFLICT vetoes a merge (social_monitor/pairs.py).

- place: classifier.gazetteer (district, and ward when known); another district, or another ward of the same
  district, conflicts; a district and one of its wards agree.
- dates: 10/8, 10-8, ngày 10 tháng 8, mùng 10, ngày 10, thứ Ba (tuần sau), hôm nay, ngày mai: resolved
  against the post's time; a day without a month matches that day of any month; nothing resolvable = unknown.
- hours: 0h, 12 giờ đêm, nửa đêm, 21h30 (a feature only: posts round hours differently).
- numbers: amounts with a unit (6tr = 6 triệu = 6.000.000đ = sáu triệu; 3 ca; 50%), compared within a kind;
  values further apart than NUMBER_RATIO conflict.
- named places: chợ X, KCN X, trường X, công ty X, bệnh viện X; the same kind with another name conflicts.
- polarity: the rumour or an official denial of it ("không có chuyện", "tin giả", "bác bỏ"); they conflict.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Final

from classifier.gazetteer import Gazetteer
from classifier.text import NormalisedText, fold
from hotline.kernel.records import LOCAL_TZ

NUMBER_RATIO: Final = 1.2


class Match(IntEnum):
    """How one slot of two texts compares."""

    NONE = 0  # neither text says
    ONE = 1  # one text says, the other does not: unknown, never a conflict
    AGREE = 2
    CONFLICT = 3


SLOT_NAMES: Final = ("place", "date", "hour", "number", "named", "polarity")
VETO_SLOTS: Final = frozenset({"place", "date", "number", "named", "polarity"})


@dataclass(frozen=True, slots=True)
class Slots:
    """What one text asserts besides its words."""

    districts: frozenset[str] = frozenset()
    ward: str | None = None
    """The ward, when the text names one district and a ward of it."""
    dates: frozenset[tuple[int, int]] = frozenset()
    """(month, day); month 0 when the text gives only the day ("mùng 10")."""
    soft_dates: frozenset[tuple[int, int]] = frozenset()
    """Dates resolved from the post's time ("thứ Hai tuần sau", "ngày mai"): one day off still agrees."""
    hours: frozenset[int] = frozenset()
    numbers: frozenset[tuple[str, float]] = frozenset()
    named: frozenset[tuple[str, str]] = frozenset()
    denial: bool = False


# --- reading ------------------------------------------------------------------------------------------------

_WEEKDAYS: Final = {"hai": 0, "2": 0, "ba": 1, "3": 1, "tu": 2, "4": 2, "nam": 3, "5": 3, "sau": 4, "6": 4,
                    "bay": 5, "7": 5}
_DIGIT_WORDS: Final = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
                       "chin": 9, "muoi": 10, "mươi": 10, "nua": 0.5}
_NUMERIC_DATE: Final = re.compile(r"(?<![\d/\-.,])(\d{1,2})\s?[/\-]\s?(\d{1,2})(?:[/\-](?:20)?21)?(?![\d/\-])")
_DAYS_BEFORE: Final = re.compile(r"(?<!thu )((?:\d{1,2}\s?(?:-|,|den|toi|va|hoac|\s)\s?)+)(\d{1,2})\s?[/\-]\s?(\d{1,2})(?![\d/\-])")
_DOT_DATE: Final = re.compile(r"\b(?:tu|ngay|den|toi|sang|hom|dot) (\d{1,2})\.(\d{1,2})(?![\d.,]|\s?(?:trieu|tr|k|ty|nghin|ngan)\b|\s?%)")
"""Dates written with a dot ("từ 3.8", "ngày 1.10") only after a word that introduces a date: 1.5 is an amount."""
_WORD_DATE: Final = re.compile(r"\b(?:ngay|mung|mong) (\d{1,2}) thang (\d{1,2})\b")
_NUMBER_WORD: Final = r"(?:mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin|muoi|linh)"
_SPOKEN_DATE: Final = re.compile(rf"\b(?:ngay )?((?:{_NUMBER_WORD} ){{1,3}})thang ({_NUMBER_WORD}(?: (?:mot|hai))?)\b")
_WORD_RANGE: Final = re.compile(r"\b(\d{1,2}) (?:den|toi|-) (?:ngay )?(\d{1,2}) thang (\d{1,2})\b")
_DAY_ONLY: Final = re.compile(r"\b(?:mung|mong|ngay) (\d{1,2})\b(?! (?:thang|ngay|gio|h\b))")
_WEEKDAY: Final = re.compile(r"\b(?:thu (hai|ba|tu|nam|sau|bay|[2-7])|(chu nhat))\b( tuan (?:sau|toi))?")
_RELATIVE: Final = re.compile(r"\b(hom nay|toi nay|dem nay|sang nay|chieu nay|ngay mai|sang mai|toi mai|"
                              r"chieu mai|dem mai|ngay kia|hom qua|toi qua|dem qua)\b")
_HOUR: Final = re.compile(r"(?<![\d/.,])(\d{1,2})\s?(?:h|gio)(?:\s?(\d{2}))?(?![a-z0-9])( dem| sang| toi| chieu| trua)?")
_MIDNIGHT: Final = re.compile(r"\b(?:nua dem|giua dem)\b")
_MONEY_UNITS: Final = {"trieu": 1e6, "tr": 1e6, "cu": 1e6, "nghin": 1e3, "ngan": 1e3, "k": 1e3, "ty": 1e9,
                       "ti": 1e9, "dong": 1.0, "d": 1.0, "vnd": 1.0, "trăm": 100}
_COUNT_UNITS: Final = {"truong hop": "people", "ca": "people", "nguoi": "people", "benh nhan": "people", "f0": "people",
                       "cong nhan": "people", "cn": "people", "ho": "households", "lieu": "doses", "mui": "doses",
                       "%": "percent", "phan tram": "percent", "kg": "kg", "ky": "kg", "kilogam": "kg",
                       "tan": "tonnes", "ngay": "days", "diem": "places", "xa": "units", "phuong": "units",
                       "khu": "units"}
_AMOUNT: Final = (r"(\d+(?:[.,]\d+)*)\s?(trieu|tr|cu|nghin|ngan|k|ty|ti|dong|vnd|d)?(\d)?"
                  r"(?:\s?(ruoi))?")
_NUMBER: Final = re.compile(
    rf"(?<![\d/\-])(?:{_AMOUNT})(?![\d/\-])\s?(%|benh nhan|cong nhan|cn|truong hop|phan tram|nguoi|ca|ho|lieu|mui|kg|ky|tan|f0|"
    rf"diem)?(?![a-z])")
_WORD_NUMBER: Final = re.compile(r"\b(mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi|nua) (trieu|nghin|ngan|ty)"
                                 r"(?: (ruoi))?\b(?: (lieu|nguoi|ho|ca|cong nhan|benh nhan|truong hop|kg|tan)\b)?")
_SCALES: Final = frozenset({"trieu", "tr", "cu", "nghin", "ngan", "k", "ty", "ti"})
_NAMED_KINDS: Final = (("cho", "market"), ("sieu thi", "market"), ("kcn", "park"), ("khu cong nghiep", "park"),
                       ("khu cn", "park"), ("truong", "school"), ("cong ty", "company"), ("nha may", "company"),
                       ("benh vien da chien", "hospital"), ("benh vien", "hospital"), ("ben xe", "station"))
_NAMED: Final = re.compile(r"\b(" + "|".join(k for k, _ in _NAMED_KINDS) + r") ([a-z0-9]+(?: [a-z0-9]+){0,3})")
_NAMED_KIND: Final = dict(_NAMED_KINDS)
_TOKEN: Final = re.compile(r"[^\W_]+")
_ABBREVIATIONS: Final = {"DT": "Dầu Tiếng", "BC": "Bến Cát", "TU": "Tân Uyên", "TA": "Thuận An", "DA": "Dĩ An",
                         "PG": "Phú Giáo", "BB": "Bàu Bàng", "BTU": "Bắc Tân Uyên", "TDM": "Thủ Dầu Một"}
"""District initials, counted only in capitals ("DT test toàn huyện"): lower-case "ta", "da" are words."""
_NAME_STOP: Final = frozenset("""
a ai anh bi biet bo cac cai can cho chi chieu chua co con cu cua cung da dang day de den deu di do dong du duoc hop
gan gi gio hay het hoac hoc hom hon khi khong la lai len luc ma mai minh moi nay ne nen nghe ngay nghi nha nhe
nhieu nhung noi nua o oi ong phai qua ra rang roi sang sao se so suot ta tai tam tat the theo thi thang
thong toan toi tren trong tu tuan va vao ve viec voi vi vua xin xong yeu lam bay do kia nao duoc duong cac
hoat ngung mo gia ban tang giam nhan tiem xet dot dich tinh tp thanh pho huyen thi xa phuong quan nguoi cong
het sach ca tre em hs va nhan vien lao dong f0 f1 covid benh nhan moi tu nhan dan truyen
""".split())
_NAME_QUALIFIERS: Final = re.compile(r"^(?:(?:trung hoc co so|trung hoc pho thong|trung hoc|tieu hoc|mam non|"
                                    r"mau giao|dai hoc|cao dang|tnhh|co phan|da khoa|dau moi|dan sinh|"
                                    r"truyen thong|tu phat|thuc pham|giay|may mac|det may|go|ben|o|tai|da chien|chuyen|thpt|thcs|th) )+")
_DENIAL: Final = re.compile(r"\b(?:khong co chuyen(?! (?:ra|di|duoc|cho|mua|ban)\b)|chua co chuyen|khong he co|khong he|tin gia|tin don sai|"
                            r"thong tin sai|bac bo|khong dung su that|sai su that|khong chinh xac|dinh chinh|"
                            r"la tin don|chi la tin don|tin don thoi|cai chinh|bac tin|bia dat|that thiet|xuyen tac|khong co ke hoach|chua co ke hoach|"
                            r"khong co van ban|la gia mao|khang dinh khong|khong co can cu|dung tin|"
                            r"dung hoang mang|khong phai su that|tin vit|fake news|la sai|sai roi|khong dung dau|"
                            r"khong co tac dung|khong tri duoc|khong chua duoc|khong he dung)\b")

@functools.lru_cache(maxsize=1)
def _gazetteer() -> Gazetteer:
    return Gazetteer.load()


@functools.lru_cache(maxsize=1)
def _district_names() -> tuple[tuple[str, str], ...]:
    """(folded name or alias, district), longest first: the unaccented fallback for the gazetteer."""
    names = []
    for district in _gazetteer().districts:
        for name in (district.name, *district.aliases):
            key = " ".join(fold(name).lower().replace(".", " ").split())
            if key and not key.startswith(("tx ", "tp ", "thanh pho ", "thi xa ", "huyen ")):
                names.append((key, district.name))
    return tuple(sorted(set(names), key=lambda n: -len(n[0])))


def read(forms: NormalisedText, at: datetime | None, *, verdict_frame: bool = False) -> Slots:
    """The slots of one analysed text posted at `at` (None: relative dates stay unknown).

    `verdict_frame`: the text is a fact-checker's entry for a false claim ("Thông tin ... là không đúng sự
    thật"): its denial words describe the verdict, not the claim, so it is read as the rumour itself.
    """
    folded = forms.folded
    place = _gazetteer().locate(forms.text)
    district, ward = (place.district, place.ward) if place else (_unaccented_district(folded), None)
    wards = _wards_named(forms)
    if len(wards) > 1:
        ward = None  # a list of wards ("Mỹ Phước, Thới Hòa, Chánh Phú Hòa ơi") is the district, not one ward
    elif ward is None and len(wards) == 1:
        found_ward, found_district = next(iter(wards)).split("|")
        if district in (None, found_district):
            ward, district = found_ward, found_district
    day = at.astimezone(LOCAL_TZ).date() if at else None
    dates, soft = _dates(folded, day)
    districts = _districts(forms)
    if district:
        districts.add(district)
    return Slots(frozenset(districts), ward if len(districts) == 1 else None, dates, soft, _hours(folded),
                 _numbers(folded), _named(folded, forms), not verdict_frame and bool(_DENIAL.search(folded)))


@functools.lru_cache(maxsize=1)
def _place_names() -> dict[str, str]:
    """Folded district, alias and ward names -> the canonical name a named place is known by."""
    names = {key: district for key, district in _district_names()}
    for district in _gazetteer().districts:
        for ward in district.wards:
            names.setdefault(" ".join(fold(ward.name).lower().split()), ward.name)
    return names


def _place_at_start(rest: str) -> str | None:
    words = rest.split()
    names = _place_names()
    for n in (4, 3, 2, 1):
        key = " ".join(words[:n])
        if len(words) >= n and key in names:
            return names[key]
    return None


_PARK_NUMBER: Final = re.compile(r"^(?:[a-z]+ ){1,4}(\d|i{1,3})\b")


def _unaccented_district(folded: str) -> str | None:
    padded = f" {folded} "
    for key, district in _district_names():
        if f" {key} " in padded:
            return district
    return None


@functools.lru_cache(maxsize=1)
def _ward_names() -> tuple[tuple[str, str, str, bool], ...]:
    """(accented key, folded key, (ward, district) as "ward|district", risky when unaccented), longest first.

    Claims come from the province's own channels, so a ward the gazetteer will not assert without a prefix
    ("Hiệp Thành mình có chương trình...") is still a ward here; ordinary words and given names are left out.
    """
    from classifier.gazetteer import RISKY_NAMES, UNACCENTED_RISKY_NAMES
    names = []
    for district in _gazetteer().districts:
        for ward in district.wards:
            if ward.name in RISKY_NAMES or len(ward.name.split()) < 2:
                continue
            names.append((ward.name.lower(), fold(ward.name).lower(), f"{ward.name}|{district.name}",
                          ward.name in UNACCENTED_RISKY_NAMES))
    return tuple(sorted(names, key=lambda n: -len(n[0])))


def accented(forms: NormalisedText) -> bool:
    """Whether the text was typed with diacritics (a third of its words carry marks; teencode expansion,
    which adds them, does not count)."""
    words = _TOKEN.findall(forms.text)
    return bool(words) and sum(1 for w in words if not w.isascii()) >= 0.3 * len(words)


def _wards_named(forms: NormalisedText) -> set[str]:
    """The wards a text names by themselves, as "ward|district"."""
    is_accented = accented(forms)
    padded = f" {forms.plain if is_accented else forms.folded} "
    hits = set()
    for acc, folded, both, risky in _ward_names():
        key = acc if is_accented else folded
        if f" {key} " in padded and (is_accented or not risky or _confirmed(padded, key, both)):
            hits.add(both)
    return hits


_UNIT_WORDS: Final = ("xa", "phuong", "p", "thi tran", "tt")


def _confirmed(padded: str, key: str, both: str) -> bool:
    """An unaccented ward name that is also an ordinary word ("an dien") is the ward when a unit word stands
    before it ("xa an dien") or the text names its district too ("an dien ... ben cat")."""
    district = " ".join(fold(both.split("|")[1]).lower().split())
    named_district = district != key and f" {district} " in padded  # a ward named like its district confirms nothing
    return named_district or any(f" {unit} {key} " in padded for unit in _UNIT_WORDS)


@functools.lru_cache(maxsize=1)
def _accented_district_names() -> tuple[tuple[str, str], ...]:
    names = []
    for district in _gazetteer().districts:
        for name in (district.name, *district.aliases):
            key = " ".join(name.lower().replace(".", " ").split())
            if key and not key.startswith(("tx ", "tp ", "thành phố ", "thị xã ", "huyện ")):
                names.append((key, district.name))
    return tuple(sorted(set(names), key=lambda n: -len(n[0])))


def _districts(forms: NormalisedText) -> set[str]:
    """Every district the text names ("Dĩ An - Thuận An"), typed with or without diacritics."""
    is_accented = accented(forms)
    padded = f" {forms.plain if is_accented else forms.folded} "
    tokens = _TOKEN.findall(forms.text)
    shouting = sum(1 for t in tokens if t.isupper()) > len(tokens) / 2  # "LOCKDOWN TU 3.8": "TU" is "từ"
    found = set() if shouting else {d for abbr, d in _ABBREVIATIONS.items() if abbr in set(tokens)}
    for key, district in (_accented_district_names() if is_accented else _district_names()):
        if f" {key} " in padded:
            found.add(district)
            padded = padded.replace(f" {key} ", " ")  # "bắc tân uyên" is not also "tân uyên"
    return found


def _dates(folded: str, day: date | None) -> tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]]]:
    found: set[tuple[int, int]] = set()
    soft: set[tuple[int, int]] = set()
    for match in (*_NUMERIC_DATE.finditer(folded), *_WORD_DATE.finditer(folded), *_DOT_DATE.finditer(folded)):
        d, m = int(match.group(1)), int(match.group(2))
        if 1 <= d <= 31 and 1 <= m <= 12 and (d, m) != (24, 7):  # 24/7 is "round the clock"
            found.add((m, d))
    for match in _WORD_RANGE.finditer(folded):  # "từ ngày 14 tới 16 tháng 8"
        first, last, m = (int(g) for g in match.groups())
        if 1 <= first <= last <= 31 and 1 <= m <= 12:
            found.update((m, x) for x in range(first, last + 1))
    for match in _DAYS_BEFORE.finditer(folded):  # "14-15-16/8", "từ 14 tới 16/8"
        m, last = int(match.group(3)), int(match.group(2))
        firsts = [int(x) for x in re.findall(r"\d{1,2}", match.group(1))]
        if 1 <= m <= 12 and firsts and all(1 <= x <= last for x in firsts) and last - min(firsts) <= 7:
            found.update((m, x) for x in range(min(firsts), last + 1))
    for match in _SPOKEN_DATE.finditer(folded):  # "ngày hai mươi ba tháng tám"
        spoken_day, spoken_month = _spoken_value(match.group(1).split()), _spoken_value(match.group(2).split())
        if spoken_day and spoken_month and 1 <= spoken_day <= 31 and 1 <= spoken_month <= 12:
            found.add((int(spoken_month), int(spoken_day)))
    days_given = {d for _, d in found}
    for match in _DAY_ONLY.finditer(folded):
        d = int(match.group(1))
        if 1 <= d <= 31 and d not in days_given:
            found.add((day.month if day and abs(day.day - d) < 20 else 0, d))
    if day is not None:
        for match in _WEEKDAY.finditer(folded):
            target = 6 if match.group(2) else _WEEKDAYS[match.group(1)]
            if match.group(3):  # "tuần sau": that day of next week
                when = day + timedelta(days=7 - day.weekday() + target)
            else:
                when = day + timedelta(days=(target - day.weekday()) % 7)
            soft.add((when.month, when.day))
        for match in _RELATIVE.finditer(folded):
            word = match.group(1)
            shift = 1 if "mai" in word else 2 if "kia" in word else -1 if "qua" in word else 0
            when = day + timedelta(days=shift)
            soft.add((when.month, when.day))
    # an explicit date wins over a weekday or "ngày mai" read from the post's time ("thứ 5 (5/8)")
    return frozenset(found), frozenset() if found else frozenset(soft)


def _hours(folded: str) -> frozenset[int]:
    found = set()
    for match in _HOUR.finditer(folded):
        hour = int(match.group(1))
        part = (match.group(3) or "").strip()
        if hour > 24:
            continue
        if part in ("dem", "toi") and hour == 12:
            hour = 0
        elif part in ("chieu", "toi") and hour < 12:
            hour += 12
        found.add(hour % 24)
    if _MIDNIGHT.search(folded):
        found.add(0)
    return frozenset(found)


def _value(digits: str) -> float | None:
    parts = re.split(r"[.,]", digits)
    try:
        if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
            return float("".join(parts))  # 6.000.000, 1,500
        return float(digits.replace(",", "."))  # 1.5, 1,5
    except ValueError:
        return None


_SPOKEN_DIGITS: Final = {"mot": 1, "mốt": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6,
                          "bay": 7, "tam": 8, "chin": 9, "linh": 0, "le": 0}
_SPOKEN_SCALES: Final = {"tram": 100, "nghin": 1000, "ngan": 1000, "trieu": 10**6, "ty": 10**9}
_SPOKEN: Final = re.compile(r"\b((?:(?:mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin|muoi|chuc|tram|linh|le|nghin|"
                            r"ngan|trieu|ty) ){2,8})(benh nhan|cong nhan|truong hop|nguoi|ca|ho|f0|cn|lieu|dong)\b")


def _spoken_value(words: list[str]) -> float | None:
    """ "một trăm bảy chục" -> 170, "mười bảy" -> 17, "hai mươi lăm" -> 25 (at least two number words)."""
    total, current, digit = 0, 0, None
    for word in words:
        if word in _SPOKEN_DIGITS:
            if digit is not None:  # "ba mốt" = 31, "hai lăm" = 25
                current += digit * 10
            digit = _SPOKEN_DIGITS[word]
        elif word in ("muoi", "chuc"):
            current += (digit if digit is not None else 1) * 10
            digit = None
        elif word in _SPOKEN_SCALES:
            scale = _SPOKEN_SCALES[word]
            current += digit or 0
            digit = None
            if scale == 100:
                current *= 100
            else:
                total += max(current, 1) * scale
                current = 0
    return float(total + current + (digit or 0))


def _numbers(folded: str) -> frozenset[tuple[str, float]]:
    found: set[tuple[str, float]] = set()
    for match in _SPOKEN.finditer(folded):
        words = match.group(1).split()
        if words[0] in _SPOKEN_SCALES or words[0] in ("linh", "le"):
            continue  # "500 ngàn một người": the scale belongs to the digits before it, "một người" is per person
        value = _spoken_value(words)
        if value:
            unit = match.group(2)
            found.add(("money", value) if unit == "dong" else (_COUNT_UNITS[unit], value))
    for match in _NUMBER.finditer(folded):
        digits, unit, tail, half, count = match.groups()
        value = _value(digits)
        if value is None or (unit is None and count is None):
            continue  # a bare number (a house number, "mũi 2", a KCN's number) says no amount
        if unit is not None:
            value *= _MONEY_UNITS[unit]
            if tail and unit in ("trieu", "tr", "cu", "ty", "ti"):  # 1tr5 = 1.5 triệu
                value += int(tail) * _MONEY_UNITS[unit] / 10
            if half:
                value += _MONEY_UNITS[unit] / 2
        if count is not None and (unit is None or unit in _SCALES):
            found.add((_COUNT_UNITS[count], value))
        elif unit is not None:
            found.add(("money", value))
    for match in _WORD_NUMBER.finditer(folded):
        unit = _MONEY_UNITS[match.group(2)]
        value = _DIGIT_WORDS[match.group(1)] * unit + (unit / 2 if match.group(3) else 0)
        found.add((_COUNT_UNITS[match.group(4)], value) if match.group(4) else ("money", value))
    return frozenset(found)


_REMEDIES: Final = {"chanh": "chanh", "tỏi": "tỏi", "muối": "muối", "sả": "sả", "gừng": "gừng", "mật ong": "mật ong",
                     "lá bưởi": "lá bưởi", "tía tô": "tía tô", "nghệ": "nghệ", "rượu": "rượu", "giấm": "giấm",
                     "xuyên tâm liên": "xuyên tâm liên", "vitamin c": "vitamin c", "bia": "bia"}
_REMEDIES_FOLDED: Final = {"chanh": "chanh", "muoi": "muối", "gung": "gừng", "mat ong": "mật ong",
                           "la buoi": "lá bưởi", "tia to": "tía tô", "xuyen tam lien": "xuyên tâm liên",
                           "vitamin c": "vitamin c", "giam": "giấm"}
_REMEDY: Final = re.compile(r"(?<!\w)(" + "|".join(sorted(_REMEDIES, key=len, reverse=True)) + r")(?!\w)")
_REMEDY_FOLDED: Final = re.compile(r"\b(" + "|".join(sorted(_REMEDIES_FOLDED, key=len, reverse=True)) + r")\b")
_CURES: Final = re.compile(r"\b(?:chua|tri|khoi|diet|giet|phong|xong|suc|uong|an)\b")


def _remedies(forms: NormalisedText) -> set[tuple[str, str]]:
    """Home remedies a text names ("súc miệng nước muối pha tỏi"), when it speaks of curing or preventing."""
    if not _CURES.search(forms.folded):
        return set()
    if accented(forms):
        return {("remedy", _REMEDIES[m]) for m in _REMEDY.findall(forms.plain)}
    return {("remedy", _REMEDIES_FOLDED[m]) for m in _REMEDY_FOLDED.findall(forms.folded)}


def _named(folded: str, forms: NormalisedText) -> frozenset[tuple[str, str]]:
    """Named places: a kind word and a name that is a place of the gazetteer, or that was typed with capitals
    ("chợ Lái Thiêu", "KCN VSIP 1", "công ty Pouyuen"); lower-case words after "cho" are "for", not a market."""
    capitalised: set[str] | None = None
    found = set()
    for match in _NAMED.finditer(folded):
        kind = _NAMED_KIND[match.group(1)]
        rest = _NAME_QUALIFIERS.sub("", match.group(2) + " " + folded[match.end():match.end() + 40]).strip()
        place = _place_at_start(rest)
        if place is not None:
            number = _PARK_NUMBER.match(rest)
            found.add((kind, f"{place} {number.group(1)}" if number and kind == "park" else place))
            continue
        if capitalised is None:
            capitalised = {fold(w).lower() for w in _TOKEN.findall(forms.text)
                           if w[:1].isupper() or w.isdigit()}
        # In a text typed with diacritics, "chợ búng" is a market whatever its case ("cho" is "for")
        typed = forms.plain[match.start(1):match.end(1)] if len(forms.plain) == len(folded) else ""
        lower_ok = typed != match.group(1) and typed != "" and accented(forms)
        words: list[str] = []
        for word in rest.split()[:4]:
            if word in _NAME_STOP or (word not in capitalised and not lower_ok) or (word.isdigit() and not words):
                break
            words.append(word)
        if words:
            found.add((kind, " ".join(words)))
    return frozenset(found | _remedies(forms))


# --- comparing ----------------------------------------------------------------------------------------------

def compare(a: Slots, b: Slots) -> dict[str, Match]:
    """Slot by slot: NONE, ONE (unknown on one side), AGREE or CONFLICT."""
    return {"place": _place(a, b), "date": _dates_match(a, b), "hour": _sets(a.hours, b.hours),
            "number": _numbers_match(a.numbers, b.numbers), "named": _named_match(a.named, b.named),
            "polarity": Match.CONFLICT if a.denial != b.denial else Match.AGREE if a.denial else Match.NONE}


def conflicts(result: dict[str, Match]) -> list[str]:
    """The slots that veto a merge."""
    return [name for name in VETO_SLOTS if result[name] is Match.CONFLICT]


def _presence(a: object, b: object) -> Match | None:
    if not a and not b:
        return Match.NONE
    if not a or not b:
        return Match.ONE
    return None


def _place(a: Slots, b: Slots) -> Match:
    known = _presence(a.districts, b.districts)
    if known is not None:
        return known
    if not a.districts & b.districts:
        return Match.CONFLICT
    return Match.CONFLICT if a.ward and b.ward and a.ward != b.ward else Match.AGREE


def _dates_match(a: Slots, b: Slots) -> Match:
    known = _presence(a.dates | a.soft_dates, b.dates | b.soft_dates)
    if known is not None:
        return known
    for ma, da in a.dates:
        for mb, db in b.dates:
            if da == db and (ma == mb or not ma or not mb):
                return Match.AGREE
    for ma, da in a.dates | a.soft_dates:
        for mb, db in b.dates | b.soft_dates:
            if (ma, da) in a.soft_dates or (mb, db) in b.soft_dates:
                if ma and mb and abs((date(2021, ma, da) - date(2021, mb, db)).days) <= 1:
                    return Match.AGREE
    return Match.CONFLICT


def _sets(a: frozenset[int], b: frozenset[int]) -> Match:
    known = _presence(a, b)
    if known is not None:
        return known
    return Match.AGREE if a & b else Match.CONFLICT


def _numbers_match(a: frozenset[tuple[str, float]], b: frozenset[tuple[str, float]]) -> Match:
    kinds = {k for k, _ in a} & {k for k, _ in b}
    if not kinds:
        known = _presence(a, b)
        return Match.ONE if known is None else known  # Match.NONE is falsy: no `or` here
    for kind in kinds:
        values_a = [v for k, v in a if k == kind]
        values_b = [v for k, v in b if k == kind]
        if not any(max(x, y) <= NUMBER_RATIO * min(x, y) for x in values_a for y in values_b if min(x, y) > 0):
            return Match.CONFLICT
    return Match.AGREE


def _named_match(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> Match:
    kinds = {k for k, _ in a} & {k for k, _ in b}
    if not kinds:
        known = _presence(a, b)
        return Match.ONE if known is None else known
    for kind in kinds:
        names_a = [n for k, n in a if k == kind]
        names_b = [n for k, n in b if k == kind]
        if not any(x.startswith(y) or y.startswith(x) for x in names_a for y in names_b):  # remedies: any shared
            return Match.CONFLICT
    return Match.AGREE


def merge(parts: Sequence[Slots]) -> Slots:
    """The slots a group of texts asserts together (a claim's signature): each slot's values, pooled."""
    districts = frozenset().union(*(p.districts for p in parts))
    wards = {p.ward for p in parts if p.ward}
    return Slots(districts, wards.pop() if len(wards) == 1 and len(districts) == 1 else None,
                 frozenset().union(*(p.dates for p in parts)), frozenset().union(*(p.soft_dates for p in parts)),
                 frozenset().union(*(p.hours for p in parts)), frozenset().union(*(p.numbers for p in parts)),
                 frozenset().union(*(p.named for p in parts)), any(p.denial for p in parts))
