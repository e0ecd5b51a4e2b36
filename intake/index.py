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

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "number": _KEYWORD,
        "channel": _KEYWORD,
        "status": _KEYWORD,
        "caller": _KEYWORD,
        "text": {"type": "text", "analyzer": "standard"},
        "text_segmented": {"type": "text", "analyzer": "whitespace"},
        "text_folded": {"type": "text", "analyzer": "standard"},
        "messages": {"type": "text", "index": False},
        "segments": {
            "type": "object",
            "properties": {"sequence": {"type": "integer"}, "text": {"type": "text", "index": False},
                           "engine": _KEYWORD},
        },
        "recording_transcript": {"type": "text", "index": False},
        "category": _KEYWORD,
        "category_score": {"type": "float"},
        "category_corrected": {"type": "boolean"},
        "urgency": _KEYWORD,
        "reasons": _KEYWORD,
        # Canonical names from the gazetteer ("Dĩ An"), so facets show them as people write them.
        "district": _KEYWORD,
        "ward": _KEYWORD,
        "assignee": _KEYWORD,
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "sla_due_at": {"type": "date"},
        "follow_up_at": {"type": "date"},
        "escalated_at": {"type": "date"},
        "call_sid": _KEYWORD,
        "message_sids": _KEYWORD,
        "recording_sid": _KEYWORD,
        "recording_url": {"type": "keyword", "index": False},
        "notes": {
            "type": "object",
            "properties": {"author": _KEYWORD, "at": {"type": "date"}, "text": {"type": "text"}},
        },
        # The history is shown, never searched: stored in _source only.
        "history": {"type": "object", "enabled": False},
        "related": _KEYWORD,
        "merged_into": _KEYWORD,
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
