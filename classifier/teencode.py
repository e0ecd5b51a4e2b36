"""Vietnamese chat shorthand ("teencode") and the abbreviations citizens type, with their full forms.

`classifier.text.expand_teencode` replaces whole lower-case tokens only. Keys are what people really type in
chat, comments and hotline SMS; values are written the way `classifier.text.clean` writes them (NFC, classic
tone placement: "ủy", "hòa"), so an expanded text is already in canonical form.

What is deliberately *not* here:
- unaccented real words ("tiem", "khong", "duoc"): folding already makes them match their accented twins;
- shorthand that is also an unaccented word of our domain. "hong" is "hỏng" (broken: the streetlight, the
  water pipe), "hông" is a hip or the side of a house ("bên hông chợ"), "hem" is "hẻm" (alley, in every
  southern address), "bùn" is mud after a flood, "bít" is "bít đường" (road blocked), "kg" is kilograms.
  Expanding them to "không" would turn complaints into nonsense, so they stay as typed;
- shorthand with no dominant meaning: "gđ" (gia đình / giám đốc), "tt" (thông tin / thị trấn / tương tác),
  "cmt" (comment / chứng minh thư), "b" (bạn / vitamin b / khu b), "t" and "m" (tôi, tao / mày, mình).

Where a key has several meanings we keep the one that dominates chat or that our domain depends on, and say so
next to the entry. Invariants (tested): keys are single lower-case tokens made of letters and digits; no word
of a value is itself a key, so expansion is idempotent.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

TEENCODE: Final[Mapping[str, str]] = MappingProxyType({
    # --- negation; the commonest shorthand of all
    "ko": "không",
    "k": "không",  # after a number it is "nghìn" ("50 k"): see UNITS_AFTER_NUMBER
    "kh": "không",  # also "khách hàng" in shop talk; citizens write "không"
    "khg": "không",
    "khog": "không",
    "khôg": "không",
    "kô": "không",
    "hok": "không",
    "hk": "không",  # also "học kỳ"; rare in hotline messages
    "khum": "không",
    "khom": "không",
    "kbt": "không biết",
    "kbiet": "không biết",
    # --- được: "đk" is left out, it is as often "đăng ký" or "điều kiện"
    "dc": "được",
    "đc": "được",
    "dk": "được",
    "dx": "được",
    "đx": "được",
    # --- question words
    "j": "gì",
    "ji": "gì",
    "gj": "gì",
    "ntn": "như thế nào",
    "bn": "bao nhiêu",  # also "bạn", and "bệnh nhân" in COVID bulletins; citizens ask "phạt bn", "bn tiền"
    "bnhiu": "bao nhiêu",
    # --- pronouns and people. "a", "c", "e" are also labels ("vitamin c", "khu a"): see LABEL_PREFIXES
    "mk": "mình",  # also "mật khẩu"; "mình" dominates
    "mik": "mình",
    "mjk": "mình",
    "mìk": "mình",
    "mh": "mình",
    "e": "em",
    "a": "anh",
    "c": "chị",
    "cj": "chị",
    "chj": "chị",
    "ck": "chồng",  # also "chuyển khoản" in scam reports; "chồng" dominates chat
    "vk": "vợ",
    "vck": "vợ chồng",
    "ny": "người yêu",
    "ng": "người",
    "ngta": "người ta",
    "ngt": "người ta",
    "mn": "mọi người",  # "mn ơi" opens half the posts in local groups
    "mng": "mọi người",
    "ae": "anh em",
    "ace": "anh chị em",
    "ad": "admin",
    "ctv": "cộng tác viên",
    # --- verbs and adverbs
    "bt": "biết",  # also "bình thường"; "ko bt" (don't know) is far more frequent
    "bik": "biết",
    "bjk": "biết",
    "bjt": "biết",
    "r": "rồi",
    "rùi": "rồi",
    "ròi": "rồi",
    "ùi": "rồi",
    "oy": "rồi",
    "z": "vậy",
    "v": "vậy",  # also "với" and "và"; as a whole token "vậy" is the usual one ("sao v")
    "zậy": "vậy",
    "dzậy": "vậy",
    "zị": "vậy",
    "dzị": "vậy",
    "vs": "với",
    "cx": "cũng",
    "cg": "cũng",
    "kũng": "cũng",
    "ns": "nói",
    "nch": "nói chuyện",
    "ncl": "nói chung là",
    "nc": "nước",  # in teen chat often "nói chuyện"; here "mất nc", "ngập nc", "nc sạch" decide the category
    "nx": "nữa",  # also "nhận xét"
    "lm": "làm",
    "vc": "việc",  # also "vợ chồng" and a vulgar intensifier; "lm vc" (làm việc) dominates
    "ms": "mới",
    "đag": "đang",
    "dag": "đang",
    "ph": "phải",
    "pải": "phải",
    "fải": "phải",
    "mún": "muốn",
    "thik": "thích",
    "thjk": "thích",
    "thíc": "thích",
    "iu": "yêu",
    "lun": "luôn",
    "thui": "thôi",
    "wen": "quen",
    "wá": "quá",
    "qá": "quá",
    "wa": "qua",
    "zô": "vô",
    "zui": "vui",
    "dzui": "vui",
    "nhìu": "nhiều",
    "nhiu": "nhiều",
    "nhg": "nhưng",
    "nhưg": "nhưng",
    "nma": "nhưng mà",
    "kái": "cái",
    "kon": "con",
    "nek": "nè",
    "nèk": "nè",
    "trùi": "trời",
    "ui": "ôi",
    "ah": "à",
    "ak": "à",
    "uk": "ừ",
    "uh": "ừ",
    "uhm": "ừ",
    "ừk": "ừ",
    # --- time
    "h": "giờ",
    "jờ": "giờ",
    "bh": "bây giờ",  # also "bao giờ" (when) and "bảo hiểm"; "bây giờ" dominates
    "bjo": "bây giờ",
    "trc": "trước",
    "hnay": "hôm nay",
    "hqua": "hôm qua",
    "tg": "thời gian",  # also "tác giả"
    # --- politeness
    "ok": "ok",
    "oke": "ok",
    "okê": "ok",
    "okie": "ok",
    "oki": "ok",
    "okey": "ok",
    "okay": "ok",
    "okela": "ok",
    "oce": "ok",
    "tks": "cảm ơn",
    "thks": "cảm ơn",
    "thx": "cảm ơn",
    "thank": "cảm ơn",
    "thanks": "cảm ơn",
    "xl": "xin lỗi",
    "sr": "xin lỗi",
    "sry": "xin lỗi",
    "sorry": "xin lỗi",
    "pls": "làm ơn",
    "plz": "làm ơn",
    # --- messaging and contact; these decide whether a ticket has a way back to the citizen
    "sdt": "số điện thoại",
    "sđt": "số điện thoại",
    "đt": "điện thoại",  # "dt" is left out: as often "diện tích" (land disputes) or "dân tộc"
    "stk": "số tài khoản",
    "lh": "liên hệ",
    "ib": "nhắn tin",
    "inb": "nhắn tin",
    "nt": "nhắn tin",  # also "người ta"; "nt cho mình" dominates
    "tn": "tin nhắn",
    "rep": "trả lời",
    "fb": "facebook",
    # --- administration, places and documents citizens cite
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "cq": "cơ quan",
    "cqcn": "cơ quan chức năng",
    "csgt": "cảnh sát giao thông",
    "pccc": "phòng cháy chữa cháy",
    "gtvt": "giao thông vận tải",
    "tnmt": "tài nguyên môi trường",
    "qđ": "quyết định",
    "nđ": "nghị định",
    "vb": "văn bản",
    "hd": "hướng dẫn",  # also "hóa đơn"; "hd giúp em" dominates hotline questions
    "kt": "kiểm tra",  # also "kinh tế", "kế toán"; complaints ask for "kt"
    "lq": "liên quan",
    "dv": "dịch vụ",
    "nv": "nhân viên",
    "cty": "công ty",
    "sd": "sử dụng",
    "vd": "ví dụ",
    "cmnd": "chứng minh nhân dân",
    "cccd": "căn cước công dân",
    "gplx": "giấy phép lái xe",
    "tp": "thành phố",
    "tphcm": "thành phố hồ chí minh",
    "hcm": "hồ chí minh",
    "sg": "sài gòn",
    "vn": "việt nam",
    "tx": "thị xã",
    "kp": "khu phố",
    "ql": "quốc lộ",
    "vnđ": "đồng",
    "vnd": "đồng",
    "sv": "sinh viên",
    "hs": "học sinh",
    "gv": "giáo viên",
    "đh": "đại học",
    "thpt": "trung học phổ thông",
    "thcs": "trung học cơ sở",
    # --- health and COVID; "f0", "f1", "pcr" and "spo2" are already the words people use and stay as typed
    "bs": "bác sĩ",
    "bv": "bệnh viện",
    "bvđk": "bệnh viện đa khoa",
    "bvdk": "bệnh viện đa khoa",
    "yt": "y tế",
    "byt": "bộ y tế",
    "tyt": "trạm y tế",
    "ttyt": "trung tâm y tế",
    "bhyt": "bảo hiểm y tế",
    "bhxh": "bảo hiểm xã hội",
    "kbyt": "khai báo y tế",
    "xn": "xét nghiệm",
    "vx": "vắc xin",
    "vaccine": "vắc xin",
    "vacxin": "vắc xin",
    "vacxine": "vắc xin",
    "vắcxin": "vắc xin",
    "vaxin": "vắc xin",
    "ncov": "covid",
    "covid19": "covid 19",  # "covid-19" loses its hyphen in `plain`; this makes both spellings one
    "fo": "f0",  # F0 (a confirmed case) typed with the letter O
    "sp02": "spo2",  # SpO2 typed with a zero
})
"""Whole-token shorthand -> full form. Read-only."""

UNITS_AFTER_NUMBER: Final[Mapping[str, str]] = MappingProxyType({
    # A number turns "k" from "không" into "nghìn": "50 k" must not become "50 không", which reads as a
    # negation to every model downstream.
    "k": "nghìn",
    "tr": "triệu",
    "h": "giờ",
    "p": "phút",
})
"""Units that follow a number token, and override `TEENCODE` there."""

LABEL_PREFIXES: Final[frozenset[str]] = frozenset({
    # After these words a single letter is a label ("vitamin c", "viêm gan b", "khu a", "điểm a khoản 2",
    # "quý iv"), not the pronoun "chị"/"anh"/"em". "vitamin c chữa covid" is a classic rumour; expanding it to
    # "vitamin chị" would hide it from the misinformation desk.
    "vitamin", "gan", "khu", "máu", "tòa", "dãy", "lô", "block", "nhóm", "loại", "hạng", "cấp", "câu",
    "mục", "điểm", "khoản", "điều", "chương", "phần", "tầng", "quý", "kỷ", "khóa", "lớp", "án",
})
"""Tokens after which a one-letter token keeps its letter."""

SLASH_ABBREVIATIONS: Final[Mapping[str, str]] = MappingProxyType({
    # Expanded before punctuation is stripped: once the slash is gone, "đ/c" would read "đ" + "chị".
    "đ/c": "địa chỉ",  # in official letters also "đồng chí"; citizens giving an address dominate here
    "v/v": "về việc",
    "t/g": "thời gian",
    "b/c": "báo cáo",
})
"""Abbreviations written with a slash, keyed on the lower-case form."""
