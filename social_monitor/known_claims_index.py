"""The `known_claims` index: the comms team's registry of checked claims, verdicts and corrections."""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "known_claims"
VERSION: Final = 1

_KEYWORD: Final = {"type": "keyword"}

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "text": {"type": "text", "analyzer": "standard"},
        "text_segmented": {"type": "text", "analyzer": "whitespace"},
        "text_folded": {"type": "text", "analyzer": "standard"},
        "verdict": _KEYWORD,
        "date": {"type": "date"},
        "recorded_by": _KEYWORD,
        "recorded_at": {"type": "date"},
        "correction_text": {"type": "text", "index": False},
        "correction_url": {"type": "keyword", "index": False},
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
