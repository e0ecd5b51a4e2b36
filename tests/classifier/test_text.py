"""Behaviour of the Vietnamese text pipeline: tables of real messages, and properties over arbitrary text."""
from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.teencode import LABEL_PREFIXES, SLASH_ABBREVIATIONS, TEENCODE, UNITS_AFTER_NUMBER
from classifier.text import NormalisedText, clean, expand_teencode, fold, normalise, redact, segment

# No example database in the source tree (pytest runs with -p no:cacheprovider); a failure prints its example.
PROPERTIES = settings(max_examples=300, deadline=None, database=None)

# --- tone placement -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("new_style", "classic"), [
    ("hoà", "hòa"),
    ("Khánh Hoà", "Khánh Hòa"),
    ("Thanh Hoá", "Thanh Hóa"),
    ("HOÀ BÌNH", "HÒA BÌNH"),
    ("hoạ sĩ", "họa sĩ"),
    ("khoẻ không", "khỏe không"),
    ("xoè ra", "xòe ra"),
    ("loé sáng", "lóe sáng"),
    ("thuỷ lợi", "thủy lợi"),
    ("THUỶ", "THỦY"),
    ("Thuý Kiều", "Thúy Kiều"),
    ("tuỳ bạn", "tùy bạn"),
    ("luỹ tre", "lũy tre"),
    ("uỷ ban nhân dân", "ủy ban nhân dân"),
    ("Bệnh viện Hoà Hảo.", "Bệnh viện Hòa Hảo."),
])
def test_clean_moves_word_final_tone_marks_to_the_classic_place(new_style: str, classic: str) -> None:
    assert clean(new_style) == classic


@pytest.mark.parametrize("text", [
    "hòa", "khỏe", "thủy",  # already classic
    "hoàng", "ngoài", "khoáng", "hoạt", "toán", "ngoẹo",  # a letter follows: both conventions agree
    "khuya", "thuyền", "khuỷu", "huỳnh",
    "quý", "quỳ", "Quỳnh", "QUÝ", "quà",  # after q, the u belongs to the consonant
    "thuế", "hoặc", "của", "mùa",  # other clusters are not touched
])
def test_clean_keeps_tone_marks_where_both_conventions_agree(text: str) -> None:
    assert clean(text) == text


@pytest.mark.parametrize("text", [
    "Ủy ban nhân dân tỉnh Khánh Hòa thông báo",
    "Nhà tôi ở phường Hòa Khánh, mất nước từ hôm qua",
    "Bố tôi khó thở, SpO2 88%, cần cấp cứu",
    "Đường Nguyễn Văn Linh bị ngập sâu",
])
def test_clean_composes_decomposed_input(text: str) -> None:
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert clean(decomposed) == text


@pytest.mark.parametrize(("decomposed", "expected"), [
    ("hoa\u0300", "hòa"),  # NFD of the new placement
    ("Thuy\u0309", "Thủy"),
    ("Khoe\u0309", "Khỏe"),
])
def test_clean_places_tone_marks_of_decomposed_input(decomposed: str, expected: str) -> None:
    assert clean(decomposed) == unicodedata.normalize("NFC", expected)


@pytest.mark.parametrize(("raw", "expected"), [
    ("khô\u00adng có nước", "không có nước"),  # soft hyphen from a web page
    ("\ufeffAlo tổng đài", "Alo tổng đài"),  # byte-order mark
    ("mất\u200b điện", "mất điện"),  # zero-width space
    ("a\x00b\x07c", "abc"),
    ("  nhiều   khoảng\tcách\n\nquá  ", "nhiều khoảng cách quá"),
    ("giữa\u00a0hai\u3000từ", "giữa hai từ"),
    ("ôi 🤦\u200d♀️", "ôi 🤦\u200d♀️"),  # ZWJ glues an emoji sequence and stays
])
def test_clean_removes_invisible_characters_and_collapses_whitespace(raw: str, expected: str) -> None:
    assert clean(raw) == expected


# --- display text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("Alo !!! cứu với ,, nước ngập ....", "Alo! cứu với, nước ngập..."),
    ("Sao lâu vậy ??? ", "Sao lâu vậy?"),
    ("vui quá :))", "vui quá :))"),  # emoticons keep their space
    ("Giá 50.000đ, hẹn 10:30.", "Giá 50.000đ, hẹn 10:30."),
])
def test_normalised_text_tidies_punctuation_and_keeps_case(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


# --- plain: teencode, elongation, numbers -------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "plain"), [
    ("ko bt dc k", "không biết được không"),
    ("Mn ơi, nhà mk mất nc từ hqua đến h r", "mọi người ơi nhà mình mất nước từ hôm qua đến giờ rồi"),
    ("ck e bị F0, SpO2 88 thì lm ntn ạ?", "chồng em bị f0 spo2 88 thì làm như thế nào ạ"),
    ("tks ad nhìu nha", "cảm ơn admin nhiều nha"),
    ("sao z, bh ms bt", "sao vậy bây giờ mới biết"),
    ("Đóiiii quáaaa", "đói quá"),
    ("khôngggg đc đâuuuu", "không được đâu"),
    ("cứuuuu", "cứu"),  # u and ư are different letters: the "u" of cứu survives
    ("xoong nồi, free ship", "xoong nồi free ship"),  # two letters are not elongation
    ("PCCC tỉnh", "phòng cháy chữa cháy tỉnh"),  # a key with a real triple
    ("quý III năm nay", "quý iii năm nay"),  # Roman numerals are not elongation
    ("giá 50 k hay 50k", "giá 50 nghìn hay 50k"),  # after a number "k" is "nghìn", never "không"
    ("lương 7 tr", "lương 7 triệu"),
    ("uống vitamin C có chữa đc covid-19 ko", "uống vitamin c có chữa được covid 19 không"),
    ("viêm gan B, nhóm máu A", "viêm gan b nhóm máu a"),
    ("điểm a khoản 2 điều 5", "điểm a khoản 2 điều 5"),
    ("a ơi e cảm ơn c", "anh ơi em cảm ơn chị"),
    ("Đ/c: số 12/3 Lê Lợi", "địa chỉ số 12/3 lê lợi"),
    ("V/v cấp lại CCCD", "về việc cấp lại căn cước công dân"),
    ("UBND xã, CSGT và BV tỉnh", "ủy ban nhân dân xã cảnh sát giao thông và bệnh viện tỉnh"),
    ("đèn đường bị hong, hẻm 12", "đèn đường bị hong hẻm 12"),  # unaccented real words are not teencode
    ("lúc 10:30 ngày 05/12/2024, giá 1.500.000đ", "lúc 10:30 ngày 05/12/2024 giá 1.500.000đ"),
    ("sđt: 0912.345.678", "số điện thoại 0912.345.678"),  # normalise does not redact: redact() does
    ("Chào 👋 你好 bạn_ơi", "chào bạn ơi"),  # other scripts, emoji and "_" are not in the canonical form
    ("hoààà", "hòa"),  # a cluster left at the end of a word by a collapse takes the classic placement too
    ("Hoà你", "hòa"),
])
def test_plain_is_lower_case_expanded_and_without_punctuation(raw: str, plain: str) -> None:
    assert normalise(raw).plain == plain


@pytest.mark.parametrize(("transcript", "plain", "word"), [
    ("alo tôi ở phường hòa khánh nhà tôi bị ngập nước từ sáng đến giờ chưa có ai đến kiểm tra",
     "alo tôi ở phường hòa khánh nhà tôi bị ngập nước từ sáng đến giờ chưa có ai đến kiểm tra", "kiểm_tra"),
    ("Alo Tổng Đài Cho Tôi Hỏi Giờ Làm Việc Của Uỷ Ban Phường",
     "alo tổng đài cho tôi hỏi giờ làm việc của ủy ban phường", "tổng_đài"),
    ("alo tôi muốn phản ánh tình trạng mất điện kéo dài ở khu phố ba",
     "alo tôi muốn phản ánh tình trạng mất điện kéo dài ở khu phố ba", "phản_ánh"),
])
def test_speech_transcripts_without_punctuation_are_segmented(transcript: str, plain: str, word: str) -> None:
    result = normalise(transcript)
    assert result.plain == plain
    assert result.segmented.replace("_", " ") == plain
    assert word in result.segmented.split()


@pytest.mark.parametrize(("accented", "unaccented"), [
    ("Nhà tôi bị mất nước", "nha toi bi mat nuoc"),
    ("Bố tôi khó thở", "bo toi kho tho"),
    ("Ủy ban nhân dân", "uy ban nhan dan"),
    ("Đường bị ngập", "duong bi ngap"),
    ("Tiêm vắc xin ở đâu", "tiem vac xin o dau"),
    ("khoẻ", "khoe"),
])
def test_text_typed_without_diacritics_has_the_same_folded_form(accented: str, unaccented: str) -> None:
    assert normalise(accented).folded == normalise(unaccented).folded == unaccented


@pytest.mark.parametrize(("new_style", "classic"), [
    ("Hoà Khánh", "Hòa Khánh"),
    ("sức khoẻ", "sức khỏe"),
    ("thuỷ điện Hoà Bình", "thủy điện Hòa Bình"),
])
def test_both_tone_placements_normalise_identically(new_style: str, classic: str) -> None:
    assert normalise(new_style) == normalise(classic)
    assert normalise(unicodedata.normalize("NFD", new_style)) == normalise(classic)


def test_normalise_as_json_has_every_form() -> None:
    result = normalise("Nhà mk ở P. Hoà Khánh")
    assert isinstance(result, NormalisedText)
    assert result.as_json() == {
        "text": "Nhà mk ở P. Hòa Khánh",
        "plain": "nhà mình ở p hòa khánh",
        "segmented": result.segmented,
        "folded": "nha minh o p hoa khanh",
    }
    assert result.segmented.replace("_", " ") == result.plain


def test_empty_and_blank_texts_normalise_to_empty_forms() -> None:
    assert normalise("").as_json() == {"text": "", "plain": "", "segmented": "", "folded": ""}
    assert normalise(" \n\t\u200b ").plain == ""
    assert normalise("!!! 😀").plain == ""


# --- fold, segment, expand_teencode -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "folded"), [
    ("Đường Hòa Bình", "Duong Hoa Binh"),
    ("ĐẶNG THỊ NGỌC THỦY", "DANG THI NGOC THUY"),
    ("ư ơ ă â ê ô đ", "u o a a e o d"),
    (unicodedata.normalize("NFD", "Nguyễn Thị Hường"), "Nguyen Thi Huong"),
    ("chào 👋 你好!", "chao 👋 你好!"),  # everything that is not a diacritic is kept
    ("already ascii 123", "already ascii 123"),
])
def test_fold_strips_diacritics_and_keeps_case(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_segment_joins_syllables_of_one_word() -> None:
    words = segment("phản ánh tình trạng ô nhiễm môi trường").split()
    assert "phản_ánh" in words
    assert "tình_trạng" in words


def test_segment_keeps_numbers_whole() -> None:
    words = segment("hẹn lúc 10:30 ngày 12/3 ở số 5-7").split()
    assert {"10:30", "12/3", "5-7"} <= set(words)


def test_expand_teencode_replaces_whole_tokens_only() -> None:
    assert expand_teencode("ko biết") == "không biết"
    assert expand_teencode("kovid kok") == "kovid kok"  # "ko" inside a word is not a token
    assert expand_teencode("vậy v") == "vậy vậy"


# --- the teencode dictionary --------------------------------------------------------------------------------


def test_teencode_dictionary_is_large_enough_to_matter() -> None:
    assert len(TEENCODE) >= 120


@pytest.mark.parametrize("key", sorted(TEENCODE))
def test_every_teencode_key_expands_in_a_real_message(key: str) -> None:
    assert key == key.lower() and key.isalnum() and unicodedata.is_normalized("NFC", key)
    assert normalise(key).plain == TEENCODE[key]
    assert normalise(f"{key.upper()}, nhé").plain == f"{TEENCODE[key]} nhé"


@pytest.mark.parametrize("value", sorted(set(TEENCODE.values()) | set(UNITS_AFTER_NUMBER.values())
                                         | set(SLASH_ABBREVIATIONS.values())))
def test_teencode_values_are_canonical_and_final(value: str) -> None:
    assert clean(value) == value == value.lower()  # classic tone placement, NFC, lower case
    for word in value.split():
        assert TEENCODE.get(word, word) == word  # expanding twice changes nothing


@pytest.mark.parametrize("prefix", sorted(LABEL_PREFIXES))
def test_a_letter_after_a_label_prefix_stays_a_letter(prefix: str) -> None:
    assert expand_teencode(f"{prefix} c") == f"{prefix} c"
    assert expand_teencode(f"{prefix} nhé c") == f"{prefix} nhé chị"  # only right after the prefix


# --- redaction ----------------------------------------------------------------------------------------------

PHONES = [
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "091 234 5678", "09 1234 5678",
    "09 12 34 56 78", "0912 - 345 - 678", "0387654321", "0563 123 456", "0703.111.222", "0862345678",
    "+84 912 345 678", "+84912345678", "84912345678", "(+84) 912 345 678", "+84 (0) 912 345 678",
    "0084 912 345 678", "+84 0912 345 678",
    "024 3825 1234", "(024) 3825 1234", "028.3822.1234", "0236 3822 123", "(0236) 3822123",
    "+84 24 3825 1234",
    "0168 123 4567",  # an 11-digit mobile from before 2018
    "0 9 1 2 3 4 5 6 7 8",  # speech-to-text, one digit at a time
]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("template", ["{}", "sđt {} gặp chị Lan", "Liên hệ: {}.", "gọi {}, {} nhé", "sđt{}"])
def test_redact_replaces_phone_numbers(phone: str, template: str) -> None:
    redacted = redact(template.format(phone, phone))
    assert "[phone]" in redacted
    assert not re.search(r"[0-9]{3}", redacted)


@pytest.mark.parametrize(("text", "expected"), [
    ("CCCD 079095001234 của tôi", "CCCD [id] của tôi"),
    ("số CCCD: 079 095 001 234", "số CCCD: [id]"),
    ("căn cước 0790 9500 1234", "căn cước [id]"),
    ("CMND 123456789 cấp năm 2010", "CMND [id] cấp năm 2010"),
    ("không chín một hai ba bốn năm sáu bảy tám", "[phone]"),
    ("số em là Không, chín, một, hai, ba, bốn, năm, sáu, bảy, tám ạ", "số em là [phone] ạ"),
    ("gọi 0912345678 lúc 10 giờ", "gọi [phone] lúc 10 giờ"),
    ("0912345678 hoặc 0987654321", "[phone] hoặc [phone]"),
])
def test_redact_replaces_ids_and_spoken_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "ngày 05/12/2024", "05.12.2024 10 giờ", "05-12-2024 10:30", "2024-03-12", "ngày 05 12 2024 10 giờ",
    "lúc 10:30", "10h30", "từ 8h đến 17h",
    "giá 50.000đ", "1.500.000 đồng", "150000000 đồng", "150000000đ", "150.000.000 VNĐ", "50k", "2,5 triệu",
    "spo2 88", "SpO2: 88%", "SpO2 92 %, nhiệt độ 38,5",
    "số 12/3", "12/3/4 đường Lê Lợi", "ngõ 123 ngách 45", "phòng 1203 tòa A",
    "tổng đài 1900 1234", "gọi 113", "gọi 114 hoặc 115", "năm 2024", "F0", "5 người", "0.5 triệu",
    "12345678", "1234567890123", "quý III 2024", "covid-19", "không một ai đến cả", "CMND của tôi bị mất",
    "lớp 10A1 có 45 học sinh",
])
def test_redact_leaves_dates_prices_readings_and_addresses_alone(text: str) -> None:
    assert redact(text) == text


# --- properties ---------------------------------------------------------------------------------------------

_VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ")
_ALPHABET = (
    _VIETNAMESE_LETTERS + _VIETNAMESE_LETTERS.upper() + "fjwzFJWZ0123456789"
    + " \t\n\u00a0\u3000" + ".,:;/-!?…()'\"_%+@#"
    + "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b\u0307"  # combining marks, as in NFD input
    + "\x00\x1f\u200b\u200c\u200d\u00ad\ufeff\u202e"  # controls and format characters
    + "😀🤦♀️你ñßİıǅ"
)
_WORDS = [
    "hoà", "hòa", "khoẻ", "thuỷ", "quý", "Thuý", "hoààà", "ko", "k", "dc", "đ/c", "v/v", "vitamin", "c", "a", "e",
    "gan", "b", "50", "tr", "iii", "quáaaa", "cứuuu", "pccc", "12/3", "10:30", "50.000đ", "0912345678", "số",
    "nước", "nc", "F0", "SpO2", "...", "!!", "_", "hong", "xoong",
]

texts = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=80),
    st.text(max_size=40),  # the whole of Unicode
    st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(_WORDS), st.text(alphabet=_ALPHABET, max_size=4)),
             max_size=12).map("".join),
)


@given(texts)
@PROPERTIES
def test_clean_is_idempotent(text: str) -> None:
    cleaned = clean(text)
    assert clean(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned


@given(texts)
@PROPERTIES
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(texts)
@PROPERTIES
def test_normalising_the_display_text_again_changes_nothing(text: str) -> None:
    result = normalise(text)
    assert normalise(result.text) == result


@given(texts)
@PROPERTIES
def test_forms_agree_with_each_other(text: str) -> None:
    result = normalise(text)
    assert fold(result.plain) == result.folded
    assert result.folded.isascii()
    assert result.plain == result.plain.lower() and result.segmented == result.segmented.lower()
    # segmentation only joins syllables: it never changes a character
    assert re.sub(r"[\s_]", "", result.segmented) == result.plain.replace(" ", "")
    # plain is a fixed point: it is already canonical
    assert normalise(result.plain).plain == result.plain


@given(texts)
@PROPERTIES
def test_redact_is_idempotent(text: str) -> None:
    assert redact(redact(text)) == redact(text)


@given(st.text(alphabet=_VIETNAMESE_LETTERS + "!?;:()", max_size=60))
@PROPERTIES
def test_redact_changes_nothing_without_digits_or_spaces(text: str) -> None:
    assert redact(text) == unicodedata.normalize("NFC", text)


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """A mobile number in one of the groupings people type, with or without the country code."""
    digits = draw(st.sampled_from("35789")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                    min_size=8, max_size=8)))
    sep = draw(st.sampled_from(["", " ", ".", "-", " - "]))
    groups = draw(st.sampled_from([(3, 3, 3), (2, 3, 4), (9,), (3, 6)]))
    national = [digits[sum(groups[:i]):sum(groups[:i + 1])] for i in range(len(groups))]
    prefix = draw(st.sampled_from(["0", "+84 ", "+84", "84", "(+84) ", "0084 "]))
    if prefix == "0":
        # the leading zero is typed together with the first group: "0912", not "0 912"
        return "0" + sep.join(national)
    return prefix + sep.join(national)


@given(phone_numbers(), st.sampled_from(["{}", "sđt {} nhé", "Gọi {}.", "({})", "a {} b 10:30"]))
@PROPERTIES
def test_redact_catches_every_typed_mobile_number(phone: str, template: str) -> None:
    redacted = redact(template.format(phone))
    assert "[phone]" in redacted
    assert phone not in redacted
