"""The `posts` index: one document per monitored social-media or news post.

Text fields follow the same three analysed forms as tickets (see intake/index.py), produced in Python.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "posts"
VERSION: Final = 1

_KEYWORD: Final = {"type": "keyword"}

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
        "content_hash": _KEYWORD,
        "likes": {"type": "integer"},
        "comments": {"type": "integer"},
        "shares": {"type": "integer"},
        "misinformation_score": {"type": "float"},
        "claim_id": _KEYWORD,
        "flag_reasons": _KEYWORD,
        "review_state": _KEYWORD,
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
