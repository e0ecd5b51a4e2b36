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

# "cha" (chả) is left out: folded, it is also "cha" (father), as in "thằng cha đánh con".
_NEGATION: Final = re.compile(r"\b(khong|chua|het|khoi|ko|k|hong|chang)\s+(?:\w+\s+)?$")


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
    # "không thở" is someone not breathing (pulled from water, collapsed), not a negated symptom.
    _flag("khó thở", EMERGENCY, r"kho tho", r"tho khong (?:duoc|noi|ra)", r"khong tho (?:duoc|noi)",
          r"ngop tho", r"tho nhanh", r"co lom nguc", r"tho kho khe", r"noi khong het cau", r"ho ra mau",
          r"khong (?:con )?(?:thay )?tho\b(?! (?:dai|than|ra|vao))", r"tho doc", r"hut hoi", r"tho gap",
          r"tho rit", r"ngung tho", r"het tho"),
    _flag("SpO2 thấp", EMERGENCY, r"spo2 (?:\D{0,12})(?:[1-8]\d|9[0-3])(?:\s*%)?",
          r"spo2 (?:thap|tut|giam|xuong)", r"oxy (?:mau )?(?:thap|tut|giam)"),
    # Folding merges words: "ngất"/"ngắt" (cut off), "xỉu"/"xíu" (a little), "tự tử"/"từ từ" (slowly),
    # "bạo hành"/"bảo hành" (warranty), "vỡ ối"/"vợ ơi", "chuyển dạ"/"chuyện đã"; those need context.
    # "kêu không trả lời", "lay không tỉnh": someone who does not answer being called or shaken.
    _flag("ngất, bất tỉnh", EMERGENCY, r"ngat xiu", r"(?:keu|goi|lay) (?:\w+ ){0,2}khong (?:tinh|tra loi|day|thua)",
          r"goi khong tinh", r"gui khong (?:tinh|day)", r"ngat lim", r"(?:bi|da|vua|dang) ngat(?! (?:dien|nuoc|mang|song|may))",
          r"xiu (?:di|nga|lim|roi)", r"te xiu", r"bat tinh", r"(?:bi|dang|hoi|nguoi|da|roi|ong|ba|con|em|chau|me) lo mo",
          r"(?:nam|bat dau|da|bi|nguoi) la di",
          r"nga ra (?:luon )?khong biet gi", r"khong (?:dung |ngoi )?day (?:noi|duoc)", r"bo bu", r"hon me", r"li bi",
          r"khong (?:con )?tinh tao", r"goi khong (?:tinh|day)", r"lim di"),
    _flag("co giật", EMERGENCY, r"co giat", r"len con giat"),
    _flag("tím tái", EMERGENCY, r"tim tai", r"moi tim", r"tai nhot", r"tim ngat"),
    _flag("đau ngực, đột quỵ", EMERGENCY, r"dau (?:that )?nguc", r"tuc nguc", r"dot quy", r"meo mieng",
          r"(?:dot ngot|bong|vua) (?:bi )?liet", r"ngung tim"),
    _flag("chảy máu nặng", EMERGENCY, r"chay (?:rat )?nhieu mau", r"mat (?:rat )?nhieu mau",
          r"chay mau (?:\w+ ){0,2}(?:khong (?:cam|ngung|dung)|nhieu|qua troi|lenh lang)",
          r"mau (?:chay|ra) (?:\w+ ){0,2}(?:nhieu|qua troi|khong (?:cam|ngung|dung)|lenh lang|dam dia)",
          r"(?:ra mau|mau ra) nhieu", r"oi ra mau", r"non ra mau", r"mau me (?:be bet|day)",
          r"bang huyet", r"dut (?:\w+ ){0,2}(?:ngon|tay|chan)"),
    # Poison: a swallowed battery or pills, a snake bite, foam at the mouth.
    _flag("ngộ độc, nuốt phải vật lạ, rắn cắn", EMERGENCY, r"ngo doc", r"nuot (?:phai )?(?:pin|dong xu|vat|hat|thuoc)",
          r"uong (?:nham|phai) (?:thuoc|xang|nuoc tay|axit|thuoc tru sau)", r"ran (?:doc )?can", r"sui bot mep"),
    # Beyond COVID (issue 12): the non-medical emergencies callers report to the same line. "chay" folds
    # cháy (fire), chạy (run) and chảy (flow) together, so a fire needs a building or flames next to it.
    _flag("cháy, hỏa hoạn", EMERGENCY, r"chay nha", r"hoa hoan", r"boc chay", r"boc khoi", r"chay lon(?! xon)",
          r"(?:nha|day tro|phong tro|nha tro|xuong|kho|tiem|can ho|chung cu|quan|phong)(?: \w+){0,3} "
          r"(?:dang |bi )?(?<!nuoc )(?<!xe )chay"
          r"(?! (?:xe|grab|om|hang|viec|may|di|ve|ra|vao|vo|qua|theo|tron|an|mau|nuoc|thuoc|deadline|het|lon xon)\b)",
          r"xe chua chay", r"cuu hoa",
          r"khoi (?:den )?(?:ngun ngut|mu mit|day (?:nha|phong)|boc|cuon cuon)", r"lua (?:boc|chay|lan|bung|dang chay)",
          r"no binh (?:gas|ga)\b", r"chay no"),
    # A live wire in a flooded street beside children was called "high" by the v1 models (issue 12).
    # "bị giật" alone is also a snatched phone or bag.
    _flag("điện giật, dây điện đứt", EMERGENCY, r"dien giat", r"giat dien(?! thoai)", r"ro dien", r"toe lua", r"chap dien",
          r"dien (?:bi )?chap",
          r"bi giat(?! (?:do|tui|dien thoai|day chuyen|bop|xe|non|minh|lui))",
          r"day dien (?:\w+ ){0,2}(?:dut|rot|roi xuong|dong|chap|vong sat|sa xuong|nam)",
          r"(?:tru|cot) dien (?:\w+ ){0,3}(?:chap|no|nga|do|gay)"),
    # A gas smell in a boarding house, where people cook on bottled gas in the room.
    _flag("rò rỉ khí gas", EMERGENCY, r"(?:ro|xi|hoi|mui) (?:khi )?gas\b", r"gas (?:bi )?(?:ro|xi)",
          r"(?:ro ri|xi) (?:khi )?ga\b", r"mui ga\b"),
    # Someone in or pulled out of water: flood water, canals, ponds, rivers.
    _flag("đuối nước", EMERGENCY, r"chet duoi", r"duoi nuoc", r"nuoc cuon", r"lu cuon", r"troi (?:\w+ ){0,2}song",
          r"(?:te|rot|nga|nhay|bi cuon|truot) (?:\w+ ){0,2}(?:xuong )?(?:song|kenh|ao|ho boi|suoi|muong|rach|gieng)\b",
          r"vot len"),
    # "sập" folds to "sap", which is also "sắp" (about to): a structure must come first, and "sắp tới",
    # "sắp đánh nhau" are excluded.
    _flag("sập đổ, người bị kẹt", EMERGENCY,
          r"(?:tuong|nha|mai|tran|cau|gian giao|cong trinh|rao|ton|ham)(?: \w+){0,3} sap"
          r"(?! (?:toi|den|duoc|het|ra|co|ve|xong|di|lam|mo|phai|sinh|de|nga|danh|chet)\b)",
          r"cay (?:\w+ )?(?:nga|do) de",
          r"(?:mac )?ket (?:\w+ ){0,2}(?:ben )?(?:duoi|trong) (?:dong|nha|phong|cabin|xe|tuong|do nat)",
          r"bi (?:vui|de|mac ket)\b", r"nga tu gian giao"),
    # An accident counts when someone is hurt: bleeding, unconscious, not moving, trapped.
    _flag("tai nạn giao thông có người bị thương", EMERGENCY,
          r"tai nan (?:\w+ ){0,8}(?:chay mau|bat tinh|bat dong|nguy kich|gay|chet|nang|ket)",
          r"bi (?:xe )?(?:\w+ )?tong\b", r"bi xe (?:\w+ )?can\b", r"nam bat dong", r"(?:xe|o to)(?: \w+){0,3} lat\b"),
    # Violence now, or with injuries: weapons, stabbing, blood, a cry for help, beating a spouse or a child.
    _flag("bạo lực đang xảy ra", EMERGENCY, r"cam dao", r"cam hung khi", r"bi dam", r"dam (?:nguoi|chet|nhau)",
          r"chem (?:nguoi|nhau)", r"bi chem", r"danh (?:chet|du don|hoi dong)", r"dang danh (?:nhau|vo|con|nguoi)",
          r"danh (?:\w+ ){0,4}(?:chay mau|bam|gay)", r"danh (?:vo|con|chau|be|tre|nguoi) (?:\w+ ){0,2}bang",
          r"chay mau (?:dau|mieng|mui)", r"keu cuu", r"dung danh nua",
          r"danh (?:\w+ ){0,2}(?:du lam|du qua|du doi|bop)", r"\bdang (?:say (?:roi )?)?danh (?:em|toi|vo|con|me|nguoi|be|chau)\b",
          r"ruot (?:\w+ ){0,3}(?:chem|giet|dam)", r"doa (?:chem|giet|dam)",
          r"bi bao hanh", r"bao hanh (?:vo|con|tre|chau|nguoi)", r"bi danh (?:ghe|dap|nhu)", r"doa giet", r"bat coc"),
    # A child being lured or taken, locked in, abandoned, wandering alone, or left with nobody to look after it.
    _flag("trẻ em gặp nguy hiểm", EMERGENCY, r"bat coc", r"\bdu (?:\w+ ){0,5}len xe",
          r"(?:be|chau|dua nho|con nit|tre|em be|thang nho|con nho|dua be|tre em)(?: \w+){0,6} "
          r"(?:bi nhot|bi khoa (?:trong|trai)|bi bo roi|bi bo lai)",
          r"(?:nhot|khoa) (?:\w+ ){0,3}(?:be|dua nho|con nit|tre)\b",
          r"(?:em be|dua nho|con nit|be|(?<!ben )tre)(?: \S+){0,14} khong ai (?:trong|coi|giu|cham)",
          r"(?:dua nho|con nit|be|(?<!ben )tre)(?: \S+){0,6} (?:lang thang|di lac)"),
    _flag("ý định tự tử", EMERGENCY, r"tu sat", r"(?:dinh|muon|doi|se|da) tu tu", r"uong thuoc tu tu",
          r"(?:toi|em|no|con|chau|ban|minh|anh|chi|noi|ong|ba|chong|vo) muon chet", r"uong thuoc (?:ngu )?(?:\w+ )?tu tu",
          r"nhan tin tam biet", r"nhay cau", r"treo co", r"khong muon song"),
    _flag("chuyển dạ, sản phụ nguy hiểm", EMERGENCY, r"(?:bi|da|vua) vo oi", r"vo oi roi", r"ra nuoc oi",
          r"chuyen da (?:roi|de|sinh)", r"dang chuyen da", r"(?<!o )dau de", r"dau bung du doi", r"sap de", r"de rot"),
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
