"""Where in Bình Dương a caller is: the province's administrative units, and a matcher over free text.

`Gazetteer.load()` reads `classifier/data/binh_duong_units.json` (the 9 district-level and 91 commune-level
units in force from 2024-05-01 until the 2025 reorganisation). `Gazetteer.locate(text)` returns the
district and, when it can tell, the ward, xã or thị trấn ("ward" below) that a text names, or None.

How a text is read
------------------
The text is split into word tokens, lower-cased and accent-folded (diacritics dropped, đ -> d). Names,
prefixes and a few function words are looked up as folded n-grams, longest first, left to right, so
"Chánh Phú Hòa" is never read as "Phú Hòa" and "Bắc Tân Uyên" never as "Tân Uyên"; a name never runs
across punctuation or a line break ("Châu Phú, An Giang" holds no "Phú An"). Folding alone would make
"đi ăn" read "Dĩ An" and "minh họa" read "Minh Hòa", so a span typed *with* diacritics must match the
accented name (tone placement is ignored, and hỏi and ngã count as one tone, because southern writers
swap them). A span typed without diacritics matches on its folded form.

A name right after a prefix is taken at its word: "phường", "p", "f", "xã", "thị trấn", "tt" make it a
ward (or the ward of that name inside a district: "phường Dĩ An"); "thành phố", "tp", "thị xã", "tx",
"huyện" make it a district, and a ward name after them is not one of ours ("huyện Tân Thành" is the old
district of Bà Rịa-Vũng Tàu). After "khu phố", "kp", "ấp", "đường" and the like the name is a street's or
a hamlet's ("đường Bạch Đằng"; "khu phố 3" names nothing), after a surname it is a person's ("Lê Vĩnh
Tân"), and after "quận", "tỉnh" or a neighbouring province it is elsewhere; a ward named just before one of
those is elsewhere too ("phường Tân Định, quận 1").

Some names count only with support. `RISKY_NAMES` (ordinary words, given names) need a prefix, a locative
word just before ("ở", "tại", "thuộc", "về", "đến", "gần", "khu vực", "địa bàn"), the province name right
after, or a district of theirs right next to them ("An Bình Phú Giáo"). `ELSEWHERE_NAMES` (better known as
places outside the province) need the same, but a locative word is not enough: "ở Phú Thọ" is the province.
`UNACCENTED_RISKY_NAMES` ("di an" is "đi ăn") need support when typed without diacritics, and so does any
name typed bare inside a text that is otherwise typed with them ("Công an Long An" holds "an Long").

Choosing one place
------------------
1. A ward whose district is also named wins (0.95): "phường Tân Bình Dĩ An", "xã An Bình, Phú Giáo".
2. Otherwise a ward that resolves by itself: a name unique in the province (0.9 after a ward prefix,
   0.8 bare), or a repeated name settled by the prefix's kind, current or former (0.7: "phường Tân
   Bình" is in Dĩ An, "xã/thị trấn Tân Bình" in Bắc Tân Uyên) or by a landmark's district (0.7).
   If a district is also named and disagrees, whichever comes first in the text wins, at 0.6.
3. Otherwise a named district, ward None (0.9 after a district prefix, 0.85 bare).
4. Otherwise a landmark (0.6), with its ward when the data gives one.
5. A repeated ward name that nothing settles gives None, unless all its units share a district (0.5,
   district only). A wrong district sends a ticket to the wrong local team; an empty one makes the
   operator ask, which is the cheaper mistake.
"""
from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum, auto
from importlib import resources
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

__all__ = ["ELSEWHERE_NAMES", "District", "Gazetteer", "Landmark", "Place", "RISKY_NAMES",
           "UNACCENTED_RISKY_NAMES", "Ward"]

RISKY_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    # ordinary words, spelled exactly like the unit
    "An Bình": "an bình, peaceful: 'mong được an bình'",
    "Bình An": "bình an, safe and well: 'chúc cả nhà bình an'",
    "Thái Hòa": "thái hòa, harmonious; also thị xã Thái Hòa (Nghệ An)",
    "Phú Cường": "phú cường, prosperous: 'đất nước phú cường'",
    "Tân Lập": "tân lập, newly founded: 'doanh nghiệp tân lập'",
    "Định Thành": "inside 'quyết định thành lập', 'dự định thành ...'",
    "Định An": "inside 'ổn định an ninh', 'xác định an toàn'",
    # given names: callers name people
    "Minh Hòa": "a given name; unaccented it is also minh họa (illustration)",
    "Minh Tân": "a given name",
    "Minh Thạnh": "unaccented it reads Minh Thành / Minh Thanh, common given names",
    "Thanh Tuyền": "a given name (and a well-known singer)",
    "Thanh An": "a given name",
})
"""Unit names that count only after a prefix or a locative word ("ở", "tại"), before the province name, or
next to a district of theirs."""

ELSEWHERE_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    # Ho Chi Minh City above all: many callers live or work there, or came from there
    "Tân Bình": "quận Tân Bình (HCMC); also repeated in the province",
    "Tân Định": "phường and chợ Tân Định (quận 1, HCMC); also repeated in the province",
    "Tân Hiệp": "Tân Hiệp (Kiên Giang, Hóc Môn, Biên Hòa); also repeated in the province",
    "An Phú": "phường An Phú (TP Thủ Đức), huyện An Phú (An Giang)",
    "Hiệp Thành": "phường Hiệp Thành (quận 12, HCMC)",
    "Tân Hưng": "phường Tân Hưng (quận 7, HCMC)",
    "Phú Mỹ": "thị xã Phú Mỹ (Bà Rịa-Vũng Tàu), Phú Mỹ Hưng (HCMC)",
    "Phú Thọ": "tỉnh Phú Thọ",
    "Phú Hòa": "huyện Phú Hòa (Phú Yên), Phú Hòa Đông (Củ Chi); unaccented also phụ họa",
    "Tân An": "thành phố Tân An (Long An)",
    "Tân Thành": "former huyện Tân Thành (Bà Rịa-Vũng Tàu); unaccented also tán thành (to approve)",
    "Bạch Đằng": "a street in most towns, a river and its battles",
})
"""Unit names better known as places elsewhere: they count only after a prefix, before the province name, or
next to a district of theirs; "ở Phú Thọ" is the province."""

UNACCENTED_RISKY_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    "Dĩ An": "di an: đi ăn (to go and eat)",
    "Bình Hòa": "binh hoa: bình hoa (a vase)",
    "Đông Hòa": "dong hoa: đồng hóa (assimilation)",
    "Hòa Lợi": "hoa loi: hoa lợi (yield, income)",
    "Vĩnh Hòa": "vinh hoa: vinh hoa (glory)",
    "An Thái": "an thai: an thai (pregnancy-keeping medicine)",
    "Hội Nghĩa": "hoi nghia: hỏi nghĩa (to ask what something means)",
    "Đất Cuốc": "dat cuoc: đặt cược (to place a bet)",
    "An Điền": "an dien: 'giáo án điện tử' (electronic lesson plan)",
    "An Lập": "an lap: 'đồ án lập trình' (programming project)",
    "Lai Hưng": "lai hung: lại hứng (to bear again)",
    "Lái Thiêu": "lai thieu: lại thiếu (short of ... again)",
    "Tân Mỹ": "tan my: tận Mỹ (all the way to America)",
    "Thạnh Hội": "thanh hoi: thành hội (a city association)",
    "An Long": "an long: ăn lông (in 'ăn lông ở lỗ')",
})
"""Unit names that need the same support as RISKY_NAMES when typed without diacritics. So does any name
typed bare in a text typed with diacritics, and there, the names that have none (An Linh, An Long, Thanh
An)."""

# Confidence of each rule in the module docstring.
_WARD_IN_NAMED_DISTRICT: Final = 0.95
_WARD_PREFIXED: Final = 0.9
_DISTRICT_PREFIXED: Final = 0.9
_DISTRICT: Final = 0.85
_WARD: Final = 0.8
_WARD_BY_CONTEXT: Final = 0.7
_LANDMARK: Final = 0.6
_CONFLICT: Final = 0.6
_DISTRICT_OF_AMBIGUOUS_WARD: Final = 0.5

_WARD_KINDS: Final = frozenset({"phường", "xã", "thị trấn"})
_DISTRICT_KINDS: Final = frozenset({"thành phố", "thị xã", "huyện"})

# Function words, keyed by the words as written with diacritics; teencode forms have none.
_WARD_PREFIXES: Final[Mapping[str, str]] = MappingProxyType({
    "phường": "phường", "p": "phường", "f": "phường", "ph": "phường", "phg": "phường", "fường": "phường",
    "xã": "xã", "x": "xã",
    "thị trấn": "thị trấn", "tt": "thị trấn", "ttr": "thị trấn",
})
# Not "h": in chat it is "giờ" ("mấy h"), and "h." before a district name adds nothing.
_DISTRICT_PREFIXES: Final = ("thành phố", "tp", "thị xã", "tx", "huyện")
# Places below our units: the name that follows is a street's or a hamlet's.
_BLOCKING_PREFIXES: Final = ("khu phố", "kp", "ấp", "thôn", "xóm", "tổ dân phố", "đường", "hẻm", "hxh")
# Units that Bình Dương does not have, and the neighbours callers name most: the name that follows is
# elsewhere, and so is a ward named just before ("phường Tân Định, quận 1"), unless the province is ours
# ("tỉnh Bình Dương"). Thủ Đức and Biên Hòa are left out: they border our wards, which are named beside them.
_FOREIGN_PREFIXES: Final = ("quận", "q", "tỉnh", *(f"q{number}" for number in range(1, 13)),
                             "hồ chí minh", "tphcm", "hcm", "sài gòn", "đồng nai", "bình phước", "tây ninh",
                             "long an", "hà nội")
# After a surname the name is a person's ("Bộ trưởng Lê Vĩnh Tân"). Surnames count only when typed with
# their diacritics: bare, "vo" is "vô" (to go in), "do" is "because" and "dang" is "đang".
_SURNAMES: Final = ("nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "võ", "vũ", "đặng", "bùi",
                    "đỗ", "ngô", "trương", "đinh")
_LOCATIVES: Final = ("ở", "tại", "thuộc", "về", "đến", "gần", "khu vực", "địa bàn")
# The province name vouches for the name next to it, as in an address ("Dĩ An, Bình Dương"); matching it
# also keeps the "duong" of an unaccented "binh duong" from being read as "đường".
_PROVINCE: Final = ("bình dương",)
# Consumed without effect: "KCN VSIP" is "VSIP", and the "an" of "công an" (police, in every other complaint)
# does not start An Thạnh, An Phú, An Bình...: "cong an thanh hoa" is the Thanh Hóa police.
_FILLERS: Final = ("kcn", "khu công nghiệp", "khu cn", "công an")

_WORD: Final = re.compile(r"[^\W_]+")
_SEPARATORS: Final = re.compile(r"([\W_]+)")
# Share of words with diacritics above which a text counts as typed with them: most Vietnamese syllables
# carry a mark, but chat keeps many bare shorthands ("ko", "mn", "f0").
_ACCENTED_SHARE: Final = 0.3
_TONES: Final = re.compile("[\u0300\u0301\u0303\u0309\u0323]")
_HOI: Final = "\u0309"
_NGA: Final = "\u0303"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a text puts the caller: a district of Bình Dương and, if known, a ward, xã or thị trấn."""

    district: str
    ward: str | None
    confidence: float
    matched: str


@dataclass(frozen=True, slots=True)
class Ward:
    """A commune-level unit (phường, xã or thị trấn); `former_kinds` are kinds it had in 2018-2024."""

    name: str
    kind: str
    district: str
    former_kinds: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Landmark:
    """A well-known place; `district` is None for places whose district the data does not assert."""

    name: str
    district: str | None
    ward: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class District:
    """A district-level unit (thành phố or huyện) with its wards."""

    name: str
    kind: str
    wards: tuple[Ward, ...]
    former_kinds: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    landmarks: tuple[Landmark, ...] = ()


class _Role(Enum):
    NAME = auto()
    WARD_PREFIX = auto()
    DISTRICT_PREFIX = auto()
    BLOCK = auto()
    FOREIGN = auto()
    SURNAME = auto()
    LOCATIVE = auto()
    PROVINCE = auto()
    FILLER = auto()


class _Risk(Enum):
    NONE = auto()
    UNACCENTED = auto()
    WORD = auto()
    ELSEWHERE = auto()


_AccentKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class _Target:
    district: str
    ward: str | None
    kinds: frozenset[str]
    landmark: bool


@dataclass(frozen=True, slots=True)
class _Lexeme:
    role: _Role
    accents: tuple[_AccentKey, ...]
    targets: tuple[_Target, ...] = ()
    ward_kind: str | None = None
    bare: bool = False  # a unit name spelled without diacritics, such as An Long: typing it proves nothing


@dataclass(frozen=True, slots=True)
class _Mention:
    lead: int  # first token, the prefix included
    end: int
    targets: tuple[_Target, ...]
    prefix: _Role | None
    ward_kind: str | None
    risk: _Risk
    exact: bool  # typed with the name's own diacritics, not just folded to it
    vouched: bool = False  # followed by the province name


@dataclass(frozen=True, slots=True)
class _Reading:
    mention: _Mention
    kind: str  # "district", "ward" or "landmark"
    targets: tuple[_Target, ...]

    @property
    def districts(self) -> frozenset[str]:
        return frozenset(target.district for target in self.targets)


class Gazetteer:
    """Bình Dương's administrative units, and `locate` to find the one a text names."""

    __slots__ = ("province", "as_of", "districts", "_table", "_lengths")

    def __init__(self, province: str, as_of: str, districts: Sequence[District],
                 unplaced: Sequence[Landmark] = ()) -> None:
        self.province: Final = province
        self.as_of: Final = as_of
        self.districts: Final = tuple(districts)
        self._table, self._lengths = _build_lexicon(self.districts, unplaced)

    @classmethod
    def load(cls, path: str | PathLike[str] | None = None) -> Gazetteer:
        """Read a units file; by default the one bundled with the package (Bình Dương, 2024)."""
        if path is None:
            data = resources.files(__package__ or "classifier").joinpath("data")
            text = data.joinpath("binh_duong_units.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))

    @classmethod
    def from_json(cls, data: object) -> Gazetteer:
        """Build from the parsed units file; raises ValueError naming the first malformed entry."""
        root = _mapping(data, "the units file")
        districts = tuple(_parse_district(item) for item in _list(root.get("districts"), "districts"))
        if not districts:
            raise ValueError("the units file lists no districts")
        names = [district.name for district in districts]
        if len(set(names)) != len(names):
            raise ValueError(f"district names repeat: {names}")
        unplaced = tuple(_parse_landmark(item, None, frozenset())
                         for item in _list(root.get("unplaced_landmarks", []), "unplaced_landmarks"))
        return cls(_text(root.get("province"), "province"), _text(root.get("as_of"), "as_of"),
                   districts, unplaced)

    def locate(self, text: str) -> Place | None:
        """The district and ward that `text` names, or None if it names none of ours (or only ambiguously)."""
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        words = _Words.split(text)
        mentions, foreign = self._scan(words)
        if not mentions:
            return None
        readings = (_read(mention) for mention in mentions)
        return _choose(_supported(readings, accented=words.accented, foreign=foreign), words)

    def _scan(self, words: _Words) -> tuple[list[_Mention], set[int]]:
        # Left to right, longest n-gram first. Returns the name mentions, and where the text moves to a
        # place outside the province (a token index), which disqualifies a ward named just before.
        mentions: list[_Mention] = []
        foreign: set[int] = set()
        pending: _Lexeme | None = None
        pending_start = pending_end = -1
        folded, first_words = words.folded, self._lengths
        index, count = 0, len(folded)
        while index < count:
            found = None if folded[index] not in first_words else self._match(words, index)
            if found is None:
                index += 1
                continue
            size, lexemes, exact = found
            role = lexemes[0].role
            if role is _Role.NAME:
                prefix = pending if pending is not None and pending_end == index else None
                is_prefix = prefix is not None and prefix.role in (_Role.WARD_PREFIX, _Role.DISTRICT_PREFIX)
                mentions.append(_Mention(
                    lead=pending_start if is_prefix else index, end=index + size,
                    targets=tuple(dict.fromkeys(target for lexeme in lexemes for target in lexeme.targets)),
                    prefix=prefix.role if prefix is not None else None,
                    ward_kind=prefix.ward_kind if prefix is not None else None,
                    risk=_RISK_BY_KEY.get(" ".join(words.folded[index:index + size]), _Risk.NONE),
                    exact=exact))
            elif role is _Role.SURNAME and not exact:
                pass  # an unaccented "vo", "do": more likely "vô", "do" than a surname
            elif role is not _Role.FILLER:
                pending, pending_start, pending_end = lexemes[0], index, index + size
                if role is _Role.PROVINCE and mentions and mentions[-1].end == index:
                    mentions[-1] = replace(mentions[-1], vouched=True)
                if role in (_Role.DISTRICT_PREFIX, _Role.FOREIGN) and self._leaves_province(
                        words, index + size, role):
                    foreign.add(index)
            index += size
        return mentions, foreign

    def _prefix_inside(self, words: _Words, index: int, end: int) -> bool:
        # "cong an thanh pho": a prefix that starts inside a name and runs past it wins over the name, or
        # "an thanh" (An Thạnh) would swallow the "thanh" of "thanh pho".
        folded = words.folded
        for start in range(index + 1, end):
            for size in self._lengths.get(folded[start], ()):
                stop = start + size
                if stop > end and stop <= len(folded):
                    lexemes = self._table.get(" ".join(folded[start:stop]))
                    if lexemes is not None and lexemes[0].role in _PREFIX_ROLES:
                        return True
        return False

    def _leaves_province(self, words: _Words, index: int, role: _Role) -> bool:
        following = self._match(words, index) if index < len(words.folded) else None
        if following is None:
            return True
        lexemes = following[1]
        if lexemes[0].role is _Role.PROVINCE:
            return False
        return role is _Role.FOREIGN or not any(
            target.ward is None and not target.landmark for lexeme in lexemes for target in lexeme.targets)

    def _match(self, words: _Words, index: int) -> tuple[int, tuple[_Lexeme, ...], bool] | None:
        folded = words.folded
        sizes = self._lengths.get(folded[index])
        if sizes is None:
            return None
        for size in sizes:
            end = index + size
            if end > len(folded):
                continue
            lexemes = self._table.get(folded[index] if size == 1 else " ".join(folded[index:end]))
            if lexemes is None:
                continue
            if size > 1 and (words.crosses_break(index, end) or (
                    lexemes[0].role is _Role.NAME and self._prefix_inside(words, index, end))):
                continue  # never across punctuation: "Châu Phú, An Giang" holds no "Phú An"
            span = words.tokens[index:end]
            keys = tuple(_accent_key(token) for token in span)
            exact = tuple(lexeme for lexeme in lexemes if lexeme.accents == keys)
            if exact:
                return size, exact, not all(lexeme.bare for lexeme in exact)
            if all(token.isascii() for token in span):
                return size, lexemes, False
        return None


# --- reading the text ---------------------------------------------------------------------------------------

def _build_fold_table() -> dict[int, int | None]:
    # Every precomposed Latin letter that is one ASCII letter plus marks, as in classifier.text.fold; a
    # table (not NFD and a regex) because `locate` runs on every ticket. Kept here rather than imported:
    # importing classifier.text loads pyvi's CRF model, which the gazetteer does not need.
    table: dict[int, int | None] = {code: None for code in range(0x0300, 0x0370)}
    for code in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)):
        decomposed = unicodedata.normalize("NFD", chr(code))
        base = "".join(char for char in decomposed if not unicodedata.combining(char))
        if len(base) == 1 and base.isascii() and base.isalpha():
            table[code] = ord(base)
    table[ord("đ")], table[ord("Đ")] = ord("d"), ord("D")
    return table


_FOLD: Final = _build_fold_table()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(_FOLD)


@functools.lru_cache(maxsize=4096)
def _accent_key(token: str) -> _AccentKey:
    # Letters with their hats and horns, and the tone apart: tone placement ("hoà"/"hòa") does not matter,
    # and hỏi/ngã are one tone, since southern writers swap them ("Dỉ An").
    decomposed = unicodedata.normalize("NFD", token)
    tones = "".join(sorted(_TONES.findall(decomposed))).replace(_NGA, _HOI)
    return unicodedata.normalize("NFC", _TONES.sub("", decomposed)), tones


@dataclass(frozen=True, slots=True)
class _Words:
    """The words of an NFC text: lower-cased `tokens`, their `folded` twins, and where they are in `text`."""

    text: str
    parts: list[str]  # word, separator, word, ..., word: the text from its first word to its last
    offset: int  # where the first word starts in `text`
    tokens: list[str]
    folded: list[str]
    accented: bool  # the text is typed with diacritics

    @classmethod
    def split(cls, text: str) -> _Words:
        lowered = text.lower()
        source = lowered if len(lowered) == len(text) else text  # lower() lengthens a few letters (İ)
        parts = _SEPARATORS.split(source)  # the outer words may be ""
        offset = 0
        if len(parts) > 1 and parts[0] == "":
            offset = len(parts[1])
            del parts[:2]
        if parts[-1] == "":
            del parts[-2:]
        tokens = parts[::2] if source is lowered else [token.lower() for token in parts[::2]]
        joined = " ".join(tokens)
        ascii_text = joined.isascii()
        folded = joined.split(" ") if ascii_text else joined.translate(_FOLD).split(" ")
        if len(folded) != len(tokens):  # a token of marks alone folds to nothing
            folded = [token.translate(_FOLD) for token in tokens]
        accented = not ascii_text and (len(tokens) - sum(map(str.isascii, tokens)) >= _ACCENTED_SHARE * (
            len(tokens) - sum(map(str.isdigit, tokens))))
        return cls(text, parts, offset, tokens, folded, accented)

    def crosses_break(self, start: int, end: int) -> bool:
        """Whether punctuation or a line break, not just spaces or a hyphen, separates tokens start..end-1."""
        return any(separator != " " and separator.strip(" \t") not in ("", "-")
                   for separator in self.parts[2 * start + 1:2 * end - 1:2])

    def quote(self, *mentions: _Mention) -> str:
        """The text of the mentions, from the first one's prefix to the last one's end."""
        ordered = sorted(mentions, key=lambda mention: mention.lead)
        if len(ordered) == 2 and _distance(ordered[0], ordered[1]) > 2:
            return " … ".join(self.quote(mention) for mention in ordered)
        ends = list(itertools.accumulate(map(len, self.parts[:2 * ordered[-1].end - 1]), initial=self.offset))
        return self.text[ends[2 * ordered[0].lead]:ends[2 * ordered[-1].end - 1]]


def _read(mention: _Mention) -> _Reading | None:
    districts = tuple(target for target in mention.targets if target.ward is None and not target.landmark)
    wards = tuple(target for target in mention.targets if target.ward is not None and not target.landmark)
    landmarks = tuple(target for target in mention.targets if target.landmark)
    if mention.prefix in (_Role.BLOCK, _Role.FOREIGN, _Role.SURNAME):
        return None
    if mention.prefix is _Role.DISTRICT_PREFIX:
        return _Reading(mention, "district", districts) if districts else None
    if mention.prefix is _Role.WARD_PREFIX and wards:
        # "phường Dĩ An" is the ward; "tt Dĩ An" is more likely "thông tin Dĩ An" than a thị trấn it never was
        if not districts or any(mention.ward_kind in target.kinds for target in wards):
            return _Reading(mention, "ward", wards)
    if districts:
        return _Reading(mention, "district", districts)
    if wards:
        return _Reading(mention, "ward", wards)
    return _Reading(mention, "landmark", landmarks) if landmarks else None


def _supported(readings: Iterable[_Reading | None], *, accented: bool, foreign: set[int]) -> list[_Reading]:
    found = [reading for reading in readings
             if reading is not None and not (reading.kind == "ward" and foreign & {reading.mention.end,
                                                                                   reading.mention.end + 1})]
    kept: list[_Reading] = []
    for position, reading in enumerate(found):
        mention = reading.mention
        # A name typed bare inside a text typed with diacritics is two ordinary words more often than a
        # place: "Công an Long An" holds "an Long", not xã An Long.
        risky = mention.risk in (_Risk.WORD, _Risk.ELSEWHERE) or (
            not mention.exact and (mention.risk is _Risk.UNACCENTED or accented))
        supports = _PLACE_WORDS if mention.risk is _Risk.ELSEWHERE else _PLACE_AND_LOCATIVE_WORDS
        if (not risky or mention.prefix in supports or mention.vouched
                or (position > 0 and _pair(found[position - 1], reading))
                or (position + 1 < len(found) and _pair(reading, found[position + 1]))):
            kept.append(reading)
    return kept


_PREFIX_ROLES: Final = frozenset({_Role.WARD_PREFIX, _Role.DISTRICT_PREFIX, _Role.FOREIGN, _Role.BLOCK})
_PLACE_WORDS: Final = frozenset({_Role.WARD_PREFIX, _Role.DISTRICT_PREFIX, _Role.PROVINCE})
_PLACE_AND_LOCATIVE_WORDS: Final = _PLACE_WORDS | {_Role.LOCATIVE}


def _pair(first: _Reading, second: _Reading) -> bool:
    # A ward and a district of its own, side by side ("An Bình Phú Giáo", "Dĩ An, Tân Bình"), vouch for
    # each other; at most one word (often "thuộc") may stand between them.
    if second.mention.lead - first.mention.end > 1:
        return False
    kinds = {first.kind, second.kind}
    return kinds == {"ward", "district"} and bool(first.districts & second.districts)


# --- choosing one place -------------------------------------------------------------------------------------

def _choose(readings: Sequence[_Reading], words: _Words) -> Place | None:
    districts = [reading for reading in readings if reading.kind == "district"]
    wards = [reading for reading in readings if reading.kind == "ward"]
    landmarks = [reading for reading in readings if reading.kind == "landmark"]
    named = {name for reading in districts for name in reading.districts}

    for ward in wards:
        inside = [target for target in ward.targets if target.district in named]
        if inside:
            target, district = min(
                ((target, reading) for target in inside for reading in districts
                 if target.district in reading.districts),
                key=lambda pair: _distance(ward.mention, pair[1].mention))
            return Place(target.district, target.ward, _WARD_IN_NAMED_DISTRICT,
                         words.quote(ward.mention, district.mention))

    context = {name for reading in landmarks for name in reading.districts}
    for ward in wards:
        resolved = _resolve_ward(ward, context)
        if resolved is None:
            continue
        target, confidence = resolved
        if districts and districts[0].mention.lead < ward.mention.lead:
            # The caller named a district first and a ward of another one later ("ở Dĩ An, làm ở Thuận
            # Giao"): the first place said is more often where they are.
            return _district_place(districts[0], words, _CONFLICT)
        return Place(target.district, target.ward, _CONFLICT if districts else confidence,
                     words.quote(ward.mention))

    if districts:
        first = districts[0]
        prefixed = first.mention.prefix is _Role.DISTRICT_PREFIX
        return _district_place(first, words, _DISTRICT_PREFIXED if prefixed else _DISTRICT)
    if landmarks:
        first = landmarks[0]
        return Place(first.targets[0].district, first.targets[0].ward, _LANDMARK,
                     words.quote(first.mention))
    for ward in wards:
        if len(ward.districts) == 1:
            return Place(ward.targets[0].district, None, _DISTRICT_OF_AMBIGUOUS_WARD,
                         words.quote(ward.mention))
    return None


def _district_place(reading: _Reading, words: _Words, confidence: float) -> Place:
    return Place(reading.targets[0].district, None, confidence, words.quote(reading.mention))


def _resolve_ward(ward: _Reading, context: set[str]) -> tuple[_Target, float] | None:
    targets = ward.targets
    if len(targets) == 1:
        return targets[0], _WARD_PREFIXED if ward.mention.prefix is _Role.WARD_PREFIX else _WARD
    by_kind = [target for target in targets if ward.mention.ward_kind in target.kinds]
    if len(by_kind) == 1:
        return by_kind[0], _WARD_BY_CONTEXT
    by_landmark = [target for target in targets if target.district in context]
    if len(by_landmark) == 1:
        return by_landmark[0], _WARD_BY_CONTEXT
    return None


def _distance(first: _Mention, second: _Mention) -> int:
    return second.lead - first.end if first.end <= second.lead else first.lead - second.end


# --- building the lexicon -----------------------------------------------------------------------------------

def _words(phrase: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", phrase).lower())


def _build_lexicon(districts: Sequence[District], unplaced: Sequence[Landmark],
                   ) -> tuple[dict[str, tuple[_Lexeme, ...]], dict[str, tuple[int, ...]]]:
    names: dict[tuple[str, tuple[_AccentKey, ...]], list[_Target]] = {}
    functions: dict[tuple[str, tuple[_AccentKey, ...]], _Lexeme] = {}

    def add_name(phrase: str, target: _Target | None) -> None:
        words = _words(phrase)
        if words:
            entry = names.setdefault((_fold(" ".join(words)), tuple(map(_accent_key, words))), [])
            if target is not None and target not in entry:
                entry.append(target)

    def add_function(phrase: str, role: _Role, ward_kind: str | None = None) -> None:
        words = _words(phrase)
        accents = tuple(map(_accent_key, words))
        functions[(_fold(" ".join(words)), accents)] = _Lexeme(role, accents, ward_kind=ward_kind)

    for district in districts:
        target = _Target(district.name, None, frozenset({district.kind, *district.former_kinds}), False)
        for phrase in (district.name, *district.aliases):
            add_name(_strip_district_prefix(phrase), target)
        for ward in district.wards:
            ward_target = _Target(district.name, ward.name, frozenset({ward.kind, *ward.former_kinds}), False)
            for phrase in (ward.name, *ward.aliases):
                add_name(phrase, ward_target)
        for landmark in district.landmarks:
            landmark_target = _Target(district.name, landmark.ward, frozenset(), True)
            for phrase in (landmark.name, *landmark.aliases):
                add_name(phrase, landmark_target)
    for word, kind in _WARD_PREFIXES.items():
        add_function(word, _Role.WARD_PREFIX, kind)
    for role, words in ((_Role.DISTRICT_PREFIX, _DISTRICT_PREFIXES), (_Role.BLOCK, _BLOCKING_PREFIXES),
                        (_Role.FOREIGN, _FOREIGN_PREFIXES), (_Role.SURNAME, _SURNAMES),
                        (_Role.LOCATIVE, _LOCATIVES), (_Role.PROVINCE, _PROVINCE), (_Role.FILLER, _FILLERS)):
        for word in words:
            add_function(word, role)
    for landmark in unplaced:
        for phrase in (landmark.name, *landmark.aliases):
            add_function(phrase, _Role.FILLER)  # recognised, so that a shorter landmark does not match

    unit_names = [district.name for district in districts] + [
        ward.name for district in districts for ward in district.wards]
    bare = {tuple(map(_accent_key, _words(name))) for name in unit_names if name.isascii()}
    grouped: dict[str, list[_Lexeme]] = {}
    for (key, accents), targets in names.items():
        grouped.setdefault(key, []).append(_Lexeme(_Role.NAME, accents, tuple(targets), bare=accents in bare))
    for (key, accents), lexeme in functions.items():
        clash = grouped.setdefault(key, [])
        if clash and clash[0].role is not lexeme.role:
            roles = clash[0].role.name.lower(), lexeme.role.name.lower()
            raise ValueError(f"{key!r} is both a {roles[0]} and a {roles[1]}")
        clash.append(lexeme)
    table = {key: tuple(lexemes) for key, lexemes in grouped.items()}
    sizes: dict[str, set[int]] = {}
    for key in table:
        first, *rest = key.split(" ")
        sizes.setdefault(first, set()).add(1 + len(rest))
    return table, {first: tuple(sorted(found, reverse=True)) for first, found in sizes.items()}


def _strip_district_prefix(phrase: str) -> str:
    # Aliases such as "TP Dĩ An" are kept in the data for other readers; the matcher handles prefixes itself.
    words = phrase.split()
    for prefix in sorted(_DISTRICT_PREFIXES, key=len, reverse=True):
        size = len(prefix.split())
        if _fold(" ".join(words[:size]).lower()) == _fold(prefix) and len(words) > size:
            return " ".join(words[size:])
    return phrase


_RISK_BY_KEY: Final[Mapping[str, _Risk]] = MappingProxyType({
    **{_fold(" ".join(_words(name))): _Risk.UNACCENTED for name in UNACCENTED_RISKY_NAMES},
    **{_fold(" ".join(_words(name))): _Risk.WORD for name in RISKY_NAMES},
    **{_fold(" ".join(_words(name))): _Risk.ELSEWHERE for name in ELSEWHERE_NAMES},
})


# --- parsing the units file ---------------------------------------------------------------------------------

def _parse_district(data: object) -> District:
    item = _mapping(data, "a district")
    name = _text(item.get("name"), "district name")
    kind = _text(item.get("kind"), f"kind of {name}")
    if kind not in _DISTRICT_KINDS:
        raise ValueError(f"{name}: unknown district kind {kind!r}")
    wards = tuple(_parse_ward(ward, name) for ward in _list(item.get("wards"), f"wards of {name}"))
    if not wards:
        raise ValueError(f"{name} has no wards")
    ward_names = [ward.name for ward in wards]
    if len(set(map(_fold, ward_names))) != len(ward_names):
        raise ValueError(f"ward names repeat within {name}: {ward_names}")
    known = frozenset(ward_names)
    return District(
        name=name, kind=kind, wards=wards,
        former_kinds=_texts(item.get("former_kinds", []), f"former kinds of {name}"),
        aliases=_texts(item.get("aliases", []), f"aliases of {name}"),
        landmarks=tuple(_parse_landmark(landmark, name, known)
                        for landmark in _list(item.get("landmarks", []), f"landmarks of {name}")))


def _parse_ward(data: object, district: str) -> Ward:
    item = _mapping(data, f"a ward of {district}")
    name = _text(item.get("name"), f"ward name in {district}")
    kind = _text(item.get("kind"), f"kind of {name}")
    former = _texts(item.get("former_kinds", []), f"former kinds of {name}")
    if kind not in _WARD_KINDS or not _WARD_KINDS.issuperset(former):
        raise ValueError(f"{name} ({district}): unknown ward kind in {kind!r}, {former!r}")
    return Ward(name=name, kind=kind, district=district, former_kinds=former,
                aliases=_texts(item.get("aliases", []), f"aliases of {name}"))


def _parse_landmark(data: object, district: str | None, wards: frozenset[str]) -> Landmark:
    item = _mapping(data, f"a landmark of {district}")
    name = _text(item.get("name"), "landmark name")
    ward = item.get("ward")
    if ward is not None and (not isinstance(ward, str) or ward not in wards):
        raise ValueError(f"landmark {name}: {ward!r} is not a ward of {district}")
    return Landmark(name=name, district=district, ward=ward,
                    aliases=_texts(item.get("aliases", []), f"aliases of {name}"))


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object, not {type(value).__name__}")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, not {type(value).__name__}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    return unicodedata.normalize("NFC", value.strip())


def _texts(value: object, what: str) -> tuple[str, ...]:
    return tuple(_text(item, what) for item in _list(value, what))
