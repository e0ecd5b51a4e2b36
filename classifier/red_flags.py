"""Explicit urgency rules: signs that a life may be at risk now, or that help is needed today.

The learned urgency model can miss a rare phrasing; these rules cannot be outvoted. They run on the folded
form (no diacritics, lower case, teencode expanded), so "kho tho", "khó thở" and "khó thơ" all match.
A match preceded by a negation ("không khó thở", "hết sốt") does not count.
Each rule names the sign in Vietnamese, because operators read the reason next to the ticket.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

EMERGENCY: Final = "emergency"
HIGH: Final = "high"

_NEGATION: Final = re.compile(r"\b(khong|chua|het|khoi|ko|k|hong|chang|cha)\s+(?:\w+\s+)?$")


@dataclass(frozen=True, slots=True)
class RedFlag:
    """One documented rule."""

    reason: str
    level: str
    pattern: re.Pattern[str]


def _flag(reason: str, level: str, *alternatives: str) -> RedFlag:
    return RedFlag(reason, level, re.compile(r"\b(?:" + "|".join(alternatives) + r")\b"))


RED_FLAGS: Final[tuple[RedFlag, ...]] = (
    # Breathing and oxygen: the commonest way COVID patients at home died waiting.
    _flag("khó thở", EMERGENCY, r"kho tho", r"tho khong (?:duoc|noi|ra)", r"khong tho (?:duoc|noi)",
          r"ngop tho", r"tho doc", r"hut hoi", r"tho gap", r"tho rit", r"ngung tho", r"het tho"),
    _flag("SpO2 thấp", EMERGENCY, r"spo2 (?:\D{0,12})(?:[1-8]\d|9[0-3])(?:\s*%)?",
          r"spo2 (?:thap|tut|giam|xuong)", r"oxy (?:mau )?(?:thap|tut|giam)"),
    # Folding merges words: "ngất"/"ngắt" (cut off), "xỉu"/"xíu" (a little), "tự tử"/"từ từ" (slowly),
    # "bạo hành"/"bảo hành" (warranty), "vỡ ối"/"vợ ơi", "chuyển dạ"/"chuyện đã"; those need context.
    _flag("ngất, bất tỉnh", EMERGENCY, r"ngat xiu", r"ngat lim", r"(?:bi|da|vua|dang) ngat(?! (?:dien|nuoc|mang|song|may))",
          r"xiu (?:di|nga|lim|roi)", r"te xiu", r"bat tinh", r"(?:bi|dang|hoi|nguoi|da|roi|ong|ba|con|em|chau|me) lo mo", r"(?:nam|bat dau|da|bi|nguoi) la di",
          r"nga ra (?:luon )?khong biet gi", r"khong (?:dung |ngoi )?day (?:noi|duoc)", r"bo bu", r"hon me", r"li bi",
          r"khong (?:con )?tinh tao", r"goi khong (?:tinh|day)", r"lim di"),
    _flag("co giật", EMERGENCY, r"co giat", r"len con giat"),
    _flag("tím tái", EMERGENCY, r"tim tai", r"moi tim", r"tai nhot", r"tim ngat"),
    _flag("đau ngực, đột quỵ", EMERGENCY, r"dau (?:that )?nguc", r"tuc nguc", r"dot quy", r"meo mieng",
          r"(?:dot ngot|bong|vua) (?:bi )?liet", r"ngung tim"),
    _flag("chảy máu nặng", EMERGENCY, r"chay (?:rat )?nhieu mau", r"mat (?:rat )?nhieu mau",
          r"chay mau khong (?:cam|ngung|dung)", r"(?:ra mau|mau ra) nhieu", r"oi ra mau", r"non ra mau",
          r"bang huyet", r"dut (?:\w+ ){0,2}(?:ngon|tay|chan)"),
    _flag("tai nạn nguy hiểm: điện giật, ngộ độc, cháy", EMERGENCY, r"dien giat", r"ngo doc", r"chay nha",
          r"nha (?:dang )?(?:bi )?chay", r"boc chay", r"boc khoi", r"hoa hoan", r"chet duoi", r"duoi nuoc"),
    _flag("bạo lực đang xảy ra", EMERGENCY, r"cam dao", r"cam hung khi", r"bi dam", r"dam (?:nguoi|chet)",
          r"chem (?:nguoi|nhau)", r"bi chem", r"danh (?:chet|du don|hoi dong)", r"dang danh (?:nhau|vo|con|nguoi)",
          r"bi bao hanh", r"bao hanh (?:vo|con|tre|chau|nguoi)", r"bi danh (?:ghe|dap|nhu)", r"doa giet", r"bat coc"),
    _flag("ý định tự tử", EMERGENCY, r"tu sat", r"(?:dinh|muon|doi|se|da) tu tu", r"uong thuoc tu tu",
          r"(?:toi|em|no|con|chau|ban|minh|anh|chi|noi) muon chet", r"nhan tin tam biet", r"nhay cau", r"treo co", r"khong muon song"),
    _flag("chuyển dạ, sản phụ nguy hiểm", EMERGENCY, r"(?:bi|da|vua) vo oi", r"vo oi roi", r"ra nuoc oi",
          r"chuyen da (?:roi|de|sinh)", r"dang chuyen da", r"dau de", r"sap de", r"de rot"),
    _flag("sốt cao", HIGH, r"sot cao", r"sot (?:39|40|41)", r"sot (?:lien tuc|may ngay)"),
    _flag("hết lương thực", HIGH, r"het (?:sach )?(?:do an|gao|thuc an|luong thuc|sua)",
          r"khong con (?:gi|do|gao|thuc an|sua) (?:de )?(?:an|uong)", r"nhin doi", r"doi (?:qua|ca ngay|may ngay)",
          r"het tien an"),
    _flag("người yếu thế một mình", HIGH, r"(?:cu|ong|ba|nguoi gia|nguoi benh|tre|be|chau) .{0,30}mot minh",
          r"khong ai cham soc", r"song mot minh"),
    _flag("phụ nữ mang thai, trẻ nhỏ", HIGH, r"mang thai", r"ba bau", r"co bau", r"tre so sinh", r"em be sot",
          r"con nho sot"),
    _flag("cần thuốc hoặc oxy hôm nay", HIGH, r"het thuoc", r"can binh oxy", r"can oxy", r"het oxy"),
)


def match_red_flags(folded: str) -> list[RedFlag]:
    """The rules whose sign appears, un-negated, in an accent-folded, lower-case text."""
    found = []
    for flag in RED_FLAGS:
        for match in flag.pattern.finditer(folded):
            if not _NEGATION.search(folded[max(0, match.start() - 24):match.start()]):
                found.append(flag)
                break
    return found
