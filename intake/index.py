"""The `tickets` index: one document per hotline ticket (call, SMS or web report).

Vietnamese text arrives already analysed by classifier.text.normalise: `text` (NFC, for display and the
standard analyzer), `text_segmented` (pyvi words joined by "_", whitespace analyzer) and `text_folded`
(accent-folded, standard analyzer). No Elasticsearch plugin is needed.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "tickets"
VERSION: Final = 1

_KEYWORD: Final = {"type": "keyword"}
_FOLDED_KEYWORD: Final = {"type": "keyword", "normalizer": "lowercase_keyword"}

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "number": _KEYWORD,
        "channel": _KEYWORD,
        "status": _KEYWORD,
        "caller": _KEYWORD,
        "caller_name": {"type": "text"},
        "district": _FOLDED_KEYWORD,
        "ward": _FOLDED_KEYWORD,
        "address": {"type": "text"},
        "text": {"type": "text", "analyzer": "standard"},
        "text_segmented": {"type": "text", "analyzer": "whitespace"},
        "text_folded": {"type": "text", "analyzer": "standard"},
        "category": _KEYWORD,
        "category_score": {"type": "float"},
        "urgency": _KEYWORD,
        "urgency_reasons": _KEYWORD,
        "assignee": _KEYWORD,
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "sla_due_at": {"type": "date"},
        "follow_up_at": {"type": "date"},
        "merged_into": _KEYWORD,
        "call_sid": _KEYWORD,
        "message_sids": _KEYWORD,
        "recording_url": {"type": "keyword", "index": False},
        "transcript_segments": {
            "type": "object",
            "properties": {"sequence": {"type": "integer"}, "text": {"type": "text", "index": False},
                           "engine": _KEYWORD},
        },
        "notes": {
            "type": "object",
            "properties": {"author": _KEYWORD, "at": {"type": "date"}, "text": {"type": "text"}},
        },
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
