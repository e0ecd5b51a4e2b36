"""The `posts` index: one document per monitored social-media or news post (and misinformation ticket).

Text fields follow the same three analysed forms as tickets (see intake/index.py), produced in Python.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "posts"
VERSION: Final = 2
"""2: `media` (attachments, read back only; issue 11)."""

_KEYWORD: Final = {"type": "keyword"}

FLAG: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {"kind": _KEYWORD, "message": {"type": "text", "index": False}, "score": {"type": "float"},
                   "reasons": _KEYWORD, "known_claim_id": _KEYWORD, "verdict": _KEYWORD,
                   "correction_url": {"type": "keyword", "index": False}, "growth": {"type": "float"}},
}

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "source": _KEYWORD,
        "source_id": _KEYWORD,
        "url": {"type": "keyword", "index": False},
        "author": _KEYWORD,
        "published_at": {"type": "date"},
        "collected_at": {"type": "date"},
        "text": {"type": "text", "analyzer": "standard"},
        "text_segmented": {"type": "text", "analyzer": "whitespace"},
        "text_folded": {"type": "text", "analyzer": "standard"},
        "transcript": {"type": "text", "index": False},
        "content_hash": _KEYWORD,
        "likes": {"type": "integer"},
        "comments": {"type": "integer"},
        "shares": {"type": "integer"},
        "misinformation_score": {"type": "float"},
        "score_reasons": _KEYWORD,
        "claim_id": _KEYWORD,
        "known_claim_id": _KEYWORD,
        "verdict": _KEYWORD,
        "correction_url": {"type": "keyword", "index": False},
        "flags": FLAG,
        "duplicate_of": _KEYWORD,
        "media": {"type": "object", "enabled": False},
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
