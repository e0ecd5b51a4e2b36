"""Find the words of a text that a model feature came from, so that a reason shows them as the person wrote them.

The models read analysed forms (folded, teencode expanded, segmented), so their features look like "kho tho",
"“ng th”" or "khó_thở". A reason that says `ong` or `do an` means nothing to an operator (issue 12); the
words of the message itself ("Ổng", "đồ ăn", "ko thở đc") do.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import Final

from classifier.text import clean, expand_teencode, fold

__all__ = ["as_written"]

# A word as people type it: letters and digits, with the separators inside numbers (12/3, 50.000, 3-4t).
_WORD: Final = re.compile(r"[^\W_]+(?:[./:,\-][^\W_]+)*")
_NOT_WORD: Final = re.compile(r"[^a-z0-9 ]+")


@lru_cache(maxsize=1024)  # a reason list looks up several terms in one text
def _stream(text: str) -> tuple[str, str, list[int], list[tuple[int, int]]]:
    """The display text, its words' folded forms joined by spaces, where each word starts in that stream,
    and each word's span in the display text."""
    display = clean(text)
    parts: list[str] = []
    starts: list[int] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for match in _WORD.finditer(display):
        folded = _NOT_WORD.sub(" ", fold(expand_teencode(match.group().lower())).lower())
        form = " ".join(folded.split())
        if not form:
            continue
        starts.append(offset)
        spans.append(match.span())
        parts.append(form)
        offset += len(form) + 1
    return display, " ".join(parts), starts, spans


@lru_cache(maxsize=65536)
def _patterns(term: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The compiled searches for a feature, on word boundaries and anywhere (None: only punctuation).

    Remembered per feature: the features are the models' fixed vocabulary, and compiling two patterns per
    reason overflowed `re`'s own cache of 512, a fifth of a ticket's classification time (issue 16)."""
    needle = " ".join(_NOT_WORD.sub(" ", fold(term.replace("_", " ").strip("“”\"' ").lower())).split())
    if not needle:
        return None
    return re.compile(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])"), re.compile(re.escape(needle))


def as_written(text: str, term: str) -> str | None:
    """The words of `text` (a run of whole words, with their diacritics) that contain the feature `term`.

    `term` may be a word n-gram of any analysed form ("khó_thở", "kho tho") or a character n-gram ("ho th");
    None when it is not in the text (or is only punctuation).
    """
    patterns = _patterns(term)
    if patterns is None:
        return None
    display, stream, starts, spans = _stream(text)
    # Prefer a match on word boundaries ("an" the word, not the "an" inside "thuận an").
    found = patterns[0].search(stream) or patterns[1].search(stream)
    if found is None:
        return None
    first = bisect_right(starts, found.start()) - 1
    last = bisect_right(starts, found.end() - 1) - 1
    return display[spans[first][0]:spans[last][1]]
