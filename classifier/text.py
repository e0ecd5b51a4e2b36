"""Vietnamese text normalisation: the one place that decides what a text "is", for every domain.

Indexing, training, querying and logging all go through `normalise` (or the pieces it is made of), so that a
query typed without diacritics, in teencode or with the other tone placement finds the documents, and gets
the predictions, of its accented and spelled-out twin. See docs/STYLE.md, "Vietnamese text and Elasticsearch".

Every table below is built once, at import, from the interpreter's Unicode database; every pattern is compiled
once. `normalise` is called on every post and every query, so the hot paths avoid per-character Python code.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Final

from pyvi import ViTokenizer

from classifier.teencode import LABEL_PREFIXES, SLASH_ABBREVIATIONS, TEENCODE, UNITS_AFTER_NUMBER

__all__ = ["NormalisedText", "clean", "expand_teencode", "fold", "fold_chars", "mask_pii", "normalise", "redact",
           "segment"]


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The analysed forms of one text; `plain`, `segmented` and `folded` are derived from `text` alone."""

    text: str
    plain: str
    segmented: str
    folded: str

    def as_json(self) -> dict[str, str]:
        """The four forms, keyed by field name."""
        return {"text": self.text, "plain": self.plain, "segmented": self.segmented, "folded": self.folded}


# --- letters and marks --------------------------------------------------------------------------------------

_TONE_MARKS: Final = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng
# In NFD every Vietnamese diacritic (tone marks, circumflex, breve, horn) is in this block.
_DIACRITICS: Final = re.compile("[\u0300-\u036f]+")
# Every block of combining diacritics: a letter followed by one of these is not the end of a syllable.
_COMBINING: Final = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"


def _toned(letter: str, mark: str) -> str:
    return unicodedata.normalize("NFC", letter + mark)


def _strip_diacritics(text: str) -> str:
    # đ has no decomposition: it is a letter of its own, not d plus a mark, so NFD leaves it alone.
    decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return _DIACRITICS.sub("", decomposed)


def _folds_to_ascii_letter(char: str) -> bool:
    base = _strip_diacritics(char)
    return len(base) == 1 and base.isascii() and base.isalpha()


# Letters allowed in `plain`: those that fold to one ASCII letter, so `folded` is ASCII by construction.
# Latin-1 Supplement to Latin Extended-B and Latin Extended Additional hold every Vietnamese letter.
_LATIN_LETTERS: Final = "a-zA-Z" + "".join(
    filter(_folds_to_ascii_letter, map(chr, (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)))))
_NOT_LATIN: Final = re.compile(rf"[^\x00-\x7f{_LATIN_LETTERS}\u0300-\u036f]")
# Every precomposed Latin letter that folds to one ASCII letter, for `fold_chars`.
_FOLD_CHAR: Final = {ord(char): _strip_diacritics(char) for char in
                     map(chr, (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))) if _folds_to_ascii_letter(char)}


def _build_control_class() -> str:
    # Cc that is not whitespace, every Cf (zero-width space, soft hyphen, BOM, bidi controls) and lone
    # surrogates: invisible, they split words for the tokenizer and cannot be encoded for Elasticsearch.
    # ZWJ stays: it glues emoji sequences ("🤦‍♀️") that operators read; `plain` drops it.
    # Format characters exist only in the BMP, the SMP and the tag block of plane 14; a range keeps the class
    # small, which is what makes the pattern fast.
    ranges: list[list[int]] = []
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        char = chr(code)
        if unicodedata.category(char) in {"Cc", "Cf", "Cs"} and not char.isspace() and code != 0x200D:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(low)) + (f"-{re.escape(chr(high))}" if high > low else "")
                   for low, high in ranges)


_CONTROL: Final = re.compile(f"[{_build_control_class()}]+")

# Tone placement in the clusters oa, oe, uy at the end of a word. We write the classic ("old") placement, mark
# on the first vowel: hòa, khỏe, thủy. It is Unikey's default (its "đặt dấu oà, uý" option is off), the
# spelling of the national press and of official place names (Khánh Hòa, Thanh Hóa, Hòa Bình), so most of our
# input already looks like it; the "new" placement (hoà, khoẻ, thuỷ) comes from school textbooks and some
# keyboards. Choosing the majority form means that the text operators read changes least.
# https://vi.wikipedia.org/wiki/Quy_tắc_đặt_dấu_thanh_trong_chữ_Quốc_ngữ
# Both conventions put the mark on the second vowel when anything follows (hoàng, ngoài, khuya, thuyền), so
# only a word-final cluster moves; after "q" the "u" belongs to the consonant (quý, quà) and nothing moves.
_TONE_MOVES: Final[dict[str, str]] = {
    first + _toned(second, mark): _toned(first, mark) + second
    for mark in _TONE_MARKS
    for firsts, seconds in (("oO", "aAeE"), ("uU", "yY"))
    for first in firsts
    for second in seconds
}
_NEW_STYLE_TONE: Final = re.compile(
    "[oOuU][" + "".join(sorted({pair[1] for pair in _TONE_MOVES})) + rf"](?![^\W\d_]|[{_COMBINING}])")

_SPACE_BEFORE_PUNCT: Final = re.compile(r" (?=[,.!?;…])")  # not before ":" or ")": that would break ":))"
_REPEATED_PUNCT: Final = re.compile(r"([!?,;…])\1+|\.{4,}")

# --- plain form ---------------------------------------------------------------------------------------------

_MARKS_AND_ZWJ: Final = re.compile(f"[{_COMBINING}\u200d]+")
# Everything but letters, digits and spaces goes, except one separator between two digits: 12/3, 50.000, 10:30.
_NOT_PLAIN: Final = re.compile(rf"[^0-9{_LATIN_LETTERS} .,:/\-]+")
_LOOSE_SEPARATOR: Final = re.compile(r"[.,:/\-]+(?:(?<![0-9][.,:/\-])|(?![0-9]))")
_SLASH_ABBREVIATION: Final = re.compile(
    r"(?<![^\W_])(?:" + "|".join(map(re.escape, SLASH_ABBREVIATIONS)) + r")(?![^\W_])")
_TEENCODE: Final = dict(TEENCODE)  # lookups through the read-only proxy are measurably slower


def _vowel_family(*bases: str) -> str:
    return "".join(base + "".join(_toned(base, mark) for mark in _TONE_MARKS) for base in bases)


# Three or more of one letter is elongation ("quáaaa", "đóiiii", "khôngggg"). Vowels that differ only by tone
# or hat count as one letter, but u and ư never merge: "cứuuu" keeps its "u". Two letters stay, because
# Vietnamese writes "oo" (xoong, rơ moóc) and English loans write "ee" (free, feedback).
_VOWEL_FAMILIES: Final = (_vowel_family("a", "ă", "â"), _vowel_family("e", "ê"), _vowel_family("i"),
                          _vowel_family("o", "ô", "ơ"), _vowel_family("u"), _vowel_family("ư"),
                          _vowel_family("y"))
_ELONGATION: Final = re.compile(
    "|".join(f"[{family}]{{3,}}" for family in _VOWEL_FAMILIES) + r"|([b-df-hj-np-tv-zđ])\1{2,}")
# People elongate by repeating one key, so a text without a doubled letter has nothing to collapse; testing
# that first skips the slow scan above for nearly every text.
_DOUBLE_LETTER: Final = re.compile(r"([^\W\d_])\1")
_ROMAN_NUMERAL: Final = re.compile(r"m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")

# --- redaction ----------------------------------------------------------------------------------------------

# Between digit groups people type a space, a dot or a dash, sometimes padded ("0912 - 345 - 678").
_SEP: Final = r"(?:\s?[.\-]\s?|\s{1,2})"
_MOBILE_AFTER_84: Final = rf"[35789][0-9](?:{_SEP}?[0-9]){{7}}"
_LANDLINE_AFTER_84: Final = rf"2[0-9](?:{_SEP}?[0-9]){{8}}"
_PHONE: Final = "|".join((
    # Mobile, 10 digits. The first three are never split, which is what tells "0912 345 678" from a date
    # "05.12.2024 10".
    rf"0[35789][0-9](?:{_SEP}?[0-9]){{7}}",
    rf"0[35789]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}",  # 09 1234 5678
    rf"0[35789](?:{_SEP}[0-9]{{2}}){{4}}",  # 09 12 34 56 78
    r"0 [35789](?: [0-9]){8}",  # one digit at a time, as speech-to-text writes it
    rf"0[12][0-9](?:{_SEP}?[0-9]){{8}}",  # landlines (02x) and pre-2018 mobiles (01x): 11 digits
    rf"\(02[0-9]\){_SEP}?[0-9](?:{_SEP}?[0-9]){{7}}",  # (024) 3825 1234
    rf"\(02[0-9]{{2}}\){_SEP}?[0-9](?:{_SEP}?[0-9]){{6}}",  # (0236) 3822 123
    rf"(?:\+|00)?84{_SEP}?(?:\(0\){_SEP}?|0)?(?:{_MOBILE_AFTER_84}|{_LANDLINE_AFTER_84})",
    rf"\(\+?84\){_SEP}?(?:{_MOBILE_AFTER_84}|{_LANDLINE_AFTER_84})",
))
# CCCD: 12 digits, the province code (001-096) first, so grouped forms start with 0. CMND: 9 digits.
_ID: Final = (r"[0-9]{12}|0[0-9]{2}(?P<s3>[ .])[0-9]{3}(?P=s3)[0-9]{3}(?P=s3)[0-9]{3}"
              r"|0[0-9]{3}(?P<s4>[ .])[0-9]{4}(?P=s4)[0-9]{4}|[0-9]{9}")
# A 9- or 12-digit amount with a unit is money, not an ID ("150000000 đồng").
_CURRENCY: Final = r"\s?(?i:đ|đồng|vnđ|vnd|d\b|k\b|tr\b|triệu|nghìn|ngàn|usd|\$|%)"
_PII: Final = re.compile(
    rf"(?<![0-9])(?<![0-9][.,])(?:(?P<phone>{_PHONE})(?![0-9])"
    rf"|(?P<id>{_ID})(?![0-9])(?![.,][0-9])(?!{_CURRENCY}))")
_DIGIT: Final = re.compile("[0-9]")
_DIGIT_WORD: Final = r"(?:không|một|mốt|hai|ba|bốn|tư|năm|lăm|sáu|bảy|bẩy|tám|chín)"
_WORD_SEP: Final = r"[\s,.\-]+"
# Phone numbers read aloud, as a call transcript writes them: "không chín một hai ...". The look-behind comes
# after the literal so that the engine can jump from one "không" to the next.
_SPOKEN_PHONE: Final = re.compile(
    rf"không(?<!\wkhông){_WORD_SEP}(?:ba|năm|bảy|bẩy|tám|chín|hai{_WORD_SEP}{_DIGIT_WORD})"
    rf"(?:{_WORD_SEP}{_DIGIT_WORD}){{8}}(?!\w)", re.IGNORECASE)

# --- segmentation -------------------------------------------------------------------------------------------

# pyvi loads its CRF model once, at import, onto a class attribute; there is nothing to load lazily. It tags
# with one shared pycrfsuite.Tagger in two calls (set the sequence, then Viterbi). pycrfsuite never releases
# the GIL (no `nogil` in its Cython source) and 16,000 concurrent calls from 8 threads without a lock matched
# the serial output, so reads look safe today; the lock costs no parallelism and keeps them safe if a later
# pycrfsuite releases the GIL between the two calls.
_PYVI_LOCK: Final = threading.Lock()
# pyvi splits "12/3" and "10:30" into three tokens; put numbers back together.
_SPLIT_NUMBER: Final = re.compile(r"(?<=[0-9]) ([.,:/\-]) (?=[0-9])")


# --- public API ---------------------------------------------------------------------------------------------

def normalise(text: str) -> NormalisedText:
    """All analysed forms of `text`; the same function serves indexing, training and querying."""
    display = _tidy_punctuation(clean(text))
    plain = _to_plain(display)
    return NormalisedText(
        text=display,
        plain=plain,
        segmented=segment(plain).lower() if plain else "",
        folded=fold(plain),
    )


def clean(text: str) -> str:
    """NFC, classic tone placement, no invisible control characters, single spaces, no outer whitespace."""
    if not text.isprintable():  # a fast test: most texts have nothing to remove
        text = _CONTROL.sub("", text)  # before NFC, so that a mark cut off from its letter rejoins it
    text = unicodedata.normalize("NFC", text)
    text = _NEW_STYLE_TONE.sub(_move_tone, text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Strip Vietnamese diacritics (đ/Đ -> d/D); case and all other characters are kept."""
    if text.isascii():
        return text
    if not _NOT_LATIN.search(text):
        # Only ASCII, Latin letters and marks: dropping every non-ASCII code point of the NFD form is the
        # answer, and is three times faster than recomposing.
        decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
        return decomposed.encode("ascii", "ignore").decode("ascii")
    return unicodedata.normalize("NFC", _strip_diacritics(text))


def fold_chars(text: str) -> str:
    """`fold` one character at a time: the result has the length of `text`, so an offset into it is an offset
    into `text` (to show a matched phrase as it was written). Give it NFC text (`clean`); a combining mark
    left on its own stays, because dropping it would shift every offset after it."""
    return text if text.isascii() else text.translate(_FOLD_CHAR)


def expand_teencode(text: str) -> str:
    """Collapse elongated letters, then expand chat shorthand in a lower-case text; whole tokens only."""
    if "/" in text:
        text = _expand_slash_abbreviations(text)
    if _DOUBLE_LETTER.search(text):
        text = _ELONGATION.sub(_collapse_run, text)
    words: list[str] = []
    previous = ""
    for token in text.split():
        if previous and previous[-1].isdigit() and token in UNITS_AFTER_NUMBER:
            words.append(UNITS_AFTER_NUMBER[token])
        elif len(token) == 1 and previous in LABEL_PREFIXES:
            words.append(token)
        else:
            words.append(_TEENCODE.get(token, token))
        previous = token
    return " ".join(words)


def redact(text: str) -> str:
    """Replace Vietnamese phone numbers with "[phone]" and ID-card numbers with "[id]"; returns NFC text.

    Apply it to every user-provided string before it reaches a log record, an error message or anything else
    that outlives the ticket. Dates, times, prices, house numbers and SpO2 readings are left alone.
    """
    text = unicodedata.normalize("NFC", text)
    if _DIGIT.search(text):
        text = _PII.sub(_pii_label, text)
    return _SPOKEN_PHONE.sub("[phone]", text)


def mask_pii(text: str) -> str:
    """Mask phone and ID-card numbers inside a text for readers who may not see them; returns NFC text.

    The numbers `redact` finds (0912 345 678, 0912.345.678, +84 912345678, 84912345678, 9- and 12-digit CMND/CCCD)
    keep their shape and last three digits ("**** *** 678"), so a reader still sees that a number was given
    and can tell two apart; numbers read aloud become "***". Used for leaders and the comms team in the API,
    pages and CSV, and on tickets copied into the social monitor (issue 14, #7).
    """
    text = unicodedata.normalize("NFC", text)
    if _DIGIT.search(text):
        text = _PII.sub(_mask_digits, text)
    return _SPOKEN_PHONE.sub("***", text)


def segment(text: str) -> str:
    """Word-segment with pyvi (syllables of one word joined by "_"), keeping numbers such as 12/3 whole."""
    with _PYVI_LOCK:
        segmented = str(ViTokenizer.tokenize(text))
    return _SPLIT_NUMBER.sub(r"\1", segmented)


# --- helpers ------------------------------------------------------------------------------------------------

def _move_tone(match: re.Match[str]) -> str:
    # The "q" test lives here rather than in a look-behind: a pattern that starts with a character class lets
    # the engine skip ahead, which makes clean() five times faster on the usual text with nothing to move.
    pair = match.group()
    start = match.start()
    if start and match.string[start - 1] in "qQ":
        return pair
    return _TONE_MOVES.get(pair, pair)


def _tidy_punctuation(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    return _REPEATED_PUNCT.sub(lambda match: match.group(1) or "...", text)


def _to_plain(text: str) -> str:
    text = _MARKS_AND_ZWJ.sub("", text.lower())
    if "/" in text:
        text = _expand_slash_abbreviations(text)  # before the slash goes, or "đ/c" reads "đ" + "chị"
    text = expand_teencode(_LOOSE_SEPARATOR.sub(" ", _NOT_PLAIN.sub(" ", text)))
    # Dropping characters can leave a cluster at the end of a word ("hoààà", "hoà你"): place its mark again.
    return _NEW_STYLE_TONE.sub(_move_tone, text)


def _expand_slash_abbreviations(text: str) -> str:
    return _SLASH_ABBREVIATION.sub(lambda match: f" {SLASH_ABBREVIATIONS[match.group()]} ", text)


def _collapse_run(match: re.Match[str]) -> str:
    run = match.group()
    string, start, end = match.string, match.start(), match.end()
    while start and not string[start - 1].isspace():
        start -= 1
    while end < len(string) and not string[end].isspace():
        end += 1
    token = string[start:end]
    # A key may hold a real triple ("pccc"), and a Roman numeral is not elongation ("quý iii", "khóa xiii").
    if token in _TEENCODE or (run[0] in "ivxlcdm" and _ROMAN_NUMERAL.fullmatch(token)):
        return run
    # keep the letter with the most marks: "quáaaa" -> "quá", "nhềeee" -> "nhề"
    return max(run, key=lambda char: len(unicodedata.normalize("NFD", char)))


def _mask_digits(match: re.Match[str]) -> str:
    found = match.group()
    keep = len(found)
    for _ in range(3):  # the position of the third digit from the end
        keep = max(i for i in range(keep) if found[i].isdigit())
    return re.sub("[0-9]", "*", found[:keep]) + found[keep:]


def _pii_label(match: re.Match[str]) -> str:
    return "[phone]" if match.group("phone") is not None else "[id]"
