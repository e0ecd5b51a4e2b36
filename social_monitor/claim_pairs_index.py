"""The `claim_pairs` index: pairs of posts people grouped together or apart (merges and splits on /comms).

Training labels for the claim matcher (`hotline claims export-pairs`); read back whole, never searched.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "claim_pairs"
VERSION: Final = 1

_KEYWORD: Final = {"type": "keyword"}

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "a_post": _KEYWORD,
        "b_post": _KEYWORD,
        "a_text": {"type": "text", "index": False},
        "b_text": {"type": "text", "index": False},
        "label": _KEYWORD,
        "origin": _KEYWORD,
        "claim_id": _KEYWORD,
        "actor": _KEYWORD,
        "at": {"type": "date"},
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
