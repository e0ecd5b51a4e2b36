"""Reasons show the words people wrote: features of the analysed forms are found back in the original text."""
from __future__ import annotations

import pytest

from classifier.spans import as_written

TEXT = "Ổng ko thở đc, nhà hết đồ ăn rồi, ở Thuận An"


@pytest.mark.parametrize(("term", "expected"), [
    ("ong", "Ổng"),  # a folded word
    ("khong tho", "ko thở"),  # teencode expanded in the folded form
    ("“ng th”", "ko thở"),  # a character n-gram, widened to whole words
    ("do an", "đồ ăn"),
    ("đồ_ăn", "đồ ăn"),  # a pyvi-segmented word
    ("an", "ăn"),  # a whole word wins over the "an" inside a longer one
    ("thuan an", "Thuận An"),
    ("duoc", "đc"),
])
def test_features_are_shown_as_written(term: str, expected: str) -> None:
    assert as_written(TEXT, term) == expected


@pytest.mark.parametrize("term", ["khó_thở", "xyz", "!!!", ""])
def test_terms_not_in_the_text_or_only_punctuation_give_none(term: str) -> None:
    assert as_written(TEXT, term) is None
