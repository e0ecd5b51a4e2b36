"""Place names for pickers and searches: the gazetteer's districts and wards, matched without accents.

The queue's and the leaders' district and ward pickers accept "di an", "Di An" or "tp dĩ an" for Dĩ An, and
a search such as "phong toa di an" reads "di an" as the place Dĩ An rather than as two loose words that
"đi ăn" or "Thuận An … đi" would also contain (issue 13).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from classifier.text import fold

_PREFIXES: Final = ("thanh pho ", "tp. ", "tp ", "thi xa ", "tx ", "huyen ", "phuong ", "p. ", "xa ",
                    "thi tran ", "tt ")


class Unit(Protocol):
    """A ward of the gazetteer (classifier.gazetteer.Ward)."""

    @property
    def name(self) -> str: ...


class DistrictUnit(Protocol):
    """A district of the gazetteer (classifier.gazetteer.District)."""

    @property
    def name(self) -> str: ...

    @property
    def wards(self) -> Sequence[Unit]: ...


def _key(text: str) -> str:
    return " ".join(fold(text).lower().replace("-", " ").split())


def _strip_prefix(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


@dataclass(frozen=True, slots=True)
class QueryPlaces:
    """What a search names as places, and the words left over for the text search."""

    rest: str
    districts: tuple[str, ...] = ()
    wards: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


class PlaceIndex:
    """District and ward names by their folded, lower-case form."""

    def __init__(self, districts: Iterable[DistrictUnit]) -> None:
        wards: dict[str, tuple[str, ...]] = {}
        district_keys: dict[str, str] = {}
        ward_keys: dict[str, set[str]] = {}
        names: list[str] = []
        for d in districts:
            names.append(d.name)
            wards[d.name] = tuple(w.name for w in d.wards)
            district_keys[_key(d.name)] = d.name
        for district, ward_names in wards.items():
            for ward in ward_names:
                ward_keys.setdefault(_key(ward), set()).add(ward)
        self.districts: tuple[str, ...] = tuple(names)
        self.wards: dict[str, tuple[str, ...]] = wards
        self._district_keys = district_keys
        self._ward_keys = {k: tuple(sorted(v)) for k, v in ward_keys.items()}
        self._longest = max((len(k.split()) for k in (*district_keys, *ward_keys)), default=1)

    @classmethod
    def load(cls) -> PlaceIndex:
        """The index of the bundled gazetteer (Bình Dương)."""
        from classifier.gazetteer import Gazetteer
        return cls(Gazetteer.load().districts)

    def district(self, text: str) -> str | None:
        """The district `text` names, accent- and case-insensitively ("di an", "TP Dĩ An"); None if none."""
        key = _key(text)
        return self._district_keys.get(key) or self._district_keys.get(_strip_prefix(key))

    def ward(self, text: str, district: str | None = None) -> str | None:
        """The ward `text` names (inside `district` if given); None if none or ambiguous without a district."""
        key = _key(text)
        found = self._ward_keys.get(key) or self._ward_keys.get(_strip_prefix(key)) or ()
        if district is not None:
            found = tuple(w for w in found if w in self.wards.get(district, ()))
        return found[0] if found else None

    def split_query(self, folded: str) -> QueryPlaces:
        """Take the district and ward names (two words or more) out of a folded query, longest first."""
        words = _key(folded).split()
        rest: list[str] = []
        districts: list[str] = []
        wards: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 1, -1):
                key = " ".join(words[i:i + n])
                district = self._district_keys.get(key)
                ward_names = self._ward_keys.get(key, ())
                if district or ward_names:
                    if district:
                        districts.append(district)
                    wards.extend(ward_names)
                    i += n
                    break
            else:
                rest.append(words[i])
                i += 1
        names = tuple(dict.fromkeys((*districts, *wards)))
        return QueryPlaces(" ".join(rest), tuple(dict.fromkeys(districts)), tuple(dict.fromkeys(wards)), names)
