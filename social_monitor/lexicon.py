"""The claim matcher's domain lexicon: words people use for the same event, mapped to one concept token.

Same-claim rewordings share few words (issue 11: median character-5-gram Jaccard 0.115), mostly because people
name one event in many ways: "phong tỏa", "khóa chặt", "chốt chặn", "lockdown"; "tiêm", "chích"; "F0", "ca
dương tính", "mắc covid". `canonical(folded)` rewrites each phrase of an accent-folded, teencode-expanded text
(classifier.text.normalise(...).folded) into its concept token, so every lexical feature of the pair scorer
sees one token where the posts used different words. The classes grew from the registers and topics of the
development set (social_monitor/data/claims/dev_*.jsonl); longer phrases are matched first.

`EVENT_CONCEPTS` are the concepts that say what happened (a lockdown is not a price rise): the scorer compares
the sets of events two texts mention, and `EXCLUSIVE` lists events that cannot describe one incident.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

CONCEPTS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    # --- what happened
    "zlockdown": ("phong toa", "phong toa tam thoi", "khoa chat", "khoa cung", "chot chan", "chot", "chot kiem soat",
                  "lap chot", "dung chot", "rao chan", "lockdown", "look down", "phong toa cung", "bit duong",
                  "ngan duong", "khoanh vung", "cach ly toan bo", "cach ly xa hoi", "cach ly ca", "phong toa ca"),
    "zdistancing": ("gian cach", "gian cach xa hoi", "chi thi 16", "chi thi 15", "ct16", "ct 16"),
    "zcurfew": ("gioi nghiem", "cam ra duong", "cam di lai", "khong duoc ra duong", "cam ra khoi nha",
                "o yen tai cho", "ai o dau o yen do", "khong ra khoi nha"),
    "zquarantine": ("khu cach ly", "cach ly tap trung", "trai cach ly", "diem cach ly", "cach ly", "bi cach ly"),
    "zclose": ("dong cua", "tam dong cua", "dong cua tam thoi", "ngung hoat dong", "tam ngung hoat dong",
               "dung hoat dong", "tam dung hoat dong", "tam ngung", "tam dung", "giai tan", "dong het",
               "ngung ban", "nghi ban", "khong hop", "ngung hop", "tam nghi", "cho nghi"),
    "znormal": ("van ban binh thuong", "van hoat dong binh thuong", "van mo cua", "van hoat dong", "van ban",
                "hoat dong binh thuong", "buon ban binh thuong", "van di lam binh thuong"),
    "zreopen": ("mo cua lai", "mo cua tro lai", "hoat dong tro lai", "hoat dong lai", "mo lai", "hop lai",
                "noi lai"),
    "zvaccinate": ("tiem", "chich", "tiem chung", "tiem ngua", "chich ngua", "tiem vac xin", "chich vac xin",
                   "mui tiem", "mui 1", "mui 2", "mui mot", "mui hai"),
    "zvaccine": ("vac xin", "vac xin covid", "astrazeneca", "astra", "pfizer", "moderna", "sinopharm",
                 "vero cell", "verocell", "sputnik", "abdala", "hayat vax"),
    "zcase": ("f0", "ca duong tinh", "ca nhiem", "ca mac", "mac covid", "nhiem covid", "duong tinh",
              "ca benh", "benh nhan covid", "nguoi nhiem", "nguoi mac", "ca covid", "ca moi", "bi nhiem",
              "dinh covid", "nhiem benh"),
    "zcontact": ("f1", "f2", "tiep xuc gan"),
    "zdeath": ("tu vong", "chet", "qua doi", "khong qua khoi", "thiet mang"),
    "ztest": ("xet nghiem", "test nhanh", "test", "pcr", "lay mau", "que test", "kit test", "bo test",
              "xet nghiem nhanh", "rt pcr"),
    "zaid": ("ho tro", "cuu tro", "an sinh", "tui an sinh", "phat gao", "tro cap", "nhan tien", "goi ho tro",
             "cuu doi", "tiep te", "phat qua", "tang qua", "qua ho tro", "phat tien"),
    "zrice": ("gao", "luong thuc", "thuc pham"),
    "zprice": ("tang gia", "gia ca", "gia ban", "thet gia", "hot gia", "tang vot", "dat do", "leo thang"),
    "zscam": ("lua dao", "gia mao", "mao danh", "chiem doat", "danh cap", "link la", "duong link",
              "link", "dang ky online"),
    "zpermit": ("giay di duong", "giay thong hanh", "giay xac nhan di lai", "the di duong", "ma qr di duong",
                "giay phep di lai"),
    "zletter": ("cong van", "van ban", "thong bao khan", "quyet dinh", "chi thi", "cong dien"),
    "zoverload": ("qua tai", "het giuong", "khong con giuong", "tu choi tiep nhan", "het cho"),
    "zremedy": ("xong hoi", "xong la", "an toi", "uong toi", "nuoc muoi", "sup mieng", "chanh", "gung", "mat ong",
                "la xong", "bai thuoc"),
    "zoxygen": ("oxy", "binh oxy", "binh khi", "may tho"),
    "zside_effect": ("phan ung phu", "tac dung phu", "bien chung", "soc phan ve", "sau tiem", "sau khi tiem",
                     "sau khi chich", "dong mau", "vo sinh"),
    "zfake": ("vac xin gia", "hang gia", "kem chat luong", "khong ro nguon goc", "nuoc cat", "vac xin nuoc"),
    "zpaid": ("tiem dich vu", "tien tiem", "tiem co phi", "tiem mat tien", "tiem tai nha", "chich tai nha",
              "tiem tan nha", "chich tan nha"),
    "zfee": ("tien an", "phi cach ly", "tu tra tien", "dong tien an", "tra tien an", "tu tuc tien an"),
    "zspray": ("phun thuoc", "rai thuoc", "phun khu khuan", "khu khuan", "khu trung", "truc thang"),
    # --- who and where (kinds of named places; the names themselves are slots, see slots.py)
    "zmarket": ("cho dau moi", "sieu thi", "bach hoa xanh", "coopmart", "cua hang tien loi"),
    "zfactory": ("cong ty", "nha may", "xi nghiep", "doanh nghiep", "xuong"),
    "zpark": ("kcn", "khu cong nghiep", "khu cn"),
    "zschool": ("truong", "truong hoc", "hoc sinh", "di hoc"),
    "zhospital": ("benh vien", "benh vien da chien", "trung tam y te", "tram y te", "co so y te"),
    "zworker": ("cong nhan", "nguoi lao dong", "lao dong", "nhan vien"),
    "zauthority": ("ubnd", "uy ban nhan dan", "uy ban", "chinh quyen", "so y te", "bo y te", "ban chi dao",
                   "cong an", "tinh uy", "lanh dao tinh", "chu tich"),
    "zprovince": ("binh duong", "bd", "toan tinh", "tinh binh duong"),
    "zeveryone": ("moi nguoi", "ca nha", "anh em", "ba con", "ae", "mn", "anh chi em"),
    "zshare": ("chia se", "share", "chuyen tiep", "lan truyen", "truyen tai", "gui", "chia se gap"),
})
"""Concept token -> the folded phrases that name it."""

EVENT_CONCEPTS: Final = frozenset({
    "znormal", "zlockdown", "zdistancing", "zcurfew", "zquarantine", "zclose", "zreopen", "zvaccinate", "zcase", "zdeath",
    "ztest", "zaid", "zprice", "zscam", "zpermit", "zoverload", "zremedy", "zside_effect", "zfake", "zpaid",
    "zfee", "zspray", "zoxygen"})
"""Concepts that say what happened (the rest say who or where)."""

EXCLUSIVE: Final = frozenset({frozenset(p) for p in (
    ("zclose", "zreopen"),
    ("zclose", "znormal"),
    ("zlockdown", "znormal"),
)})
"""Pairs of events one incident cannot be both of: a text about one and a text about the other are two claims."""

_PHRASES: Final = sorted(((p, c) for c, ps in CONCEPTS.items() for p in ps), key=lambda pc: -len(pc[0]))
_BY_PHRASE: Final = {p: c for p, c in _PHRASES}
_PATTERN: Final = re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p, _ in _PHRASES) + r")(?![a-z0-9])")


def canonical(folded: str) -> str:
    """The folded text with every lexicon phrase replaced by its concept token (longest phrase first)."""
    return _PATTERN.sub(lambda m: _BY_PHRASE[m.group()], folded)


def concepts(canon: str) -> frozenset[str]:
    """The concept tokens of a canonical text."""
    return frozenset(t for t in canon.split() if t in CONCEPTS)


def events(found: frozenset[str]) -> frozenset[str]:
    """The event concepts among `found`."""
    return found & EVENT_CONCEPTS


FAMILIES: Final[Mapping[str, frozenset[str]]] = MappingProxyType({name: frozenset(members.split()) for name, members in {
    "restriction": "zlockdown zcurfew zdistancing zquarantine zclose zpermit",
    "reopening": "zreopen znormal",
    "vaccination": "zvaccinate zvaccine zside_effect zfake zpaid",
    "cases": "zcase zcontact zdeath ztest zoverload zoxygen",
    "aid": "zaid zfee zprice zrice zscam",
    "remedy": "zremedy",
    "spraying": "zspray",
}.items()})
"""Kinds of event: texts about one incident name events of a common kind (a lockdown and a curfew can be one
rumour; aerial spraying and a lockdown cannot). On the dev split 3 % of same-claim pairs name only disjoint
kinds (mostly a question naming none of the claim's words), so disjoint kinds veto a pair."""
_FAMILY_OF: Final = {c: f for f, cs in FAMILIES.items() for c in cs}


def exclusive(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two texts' events cannot describe one incident: a pair listed in EXCLUSIVE, or kinds of event
    (FAMILIES) with nothing in common."""
    if any(frozenset((x, y)) in EXCLUSIVE for x in a - b for y in b - a):
        return True
    kinds_a = {_FAMILY_OF[c] for c in a if c in _FAMILY_OF}
    kinds_b = {_FAMILY_OF[c] for c in b if c in _FAMILY_OF}
    return bool(kinds_a and kinds_b and not kinds_a & kinds_b)
