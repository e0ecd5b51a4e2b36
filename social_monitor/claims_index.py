"""The `claims` index: one document per claim (a group of near-duplicate mentions) with its review.

`lsh_bands` holds the LSH band keys of the claim's kept MinHash signatures (social_monitor/similarity.py), so
finding the candidate claims of a batch of posts is one `terms` query; the signatures themselves are only
read back, never searched.
"""
from __future__ import annotations

from typing import Any, Final

from social_monitor.index import FLAG

NAME: Final = "claims"
VERSION: Final = 1

_KEYWORD: Final = {"type": "keyword"}

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "text": {"type": "text", "analyzer": "standard"},
        "text_segmented": {"type": "text", "analyzer": "whitespace"},
        "text_folded": {"type": "text", "analyzer": "standard"},
        "first_seen": {"type": "date"},
        "last_seen": {"type": "date"},
        "updated_at": {"type": "date"},
        "mention_count": {"type": "integer"},
        "reach": {"type": "long"},
        # Hour buckets ("2026-11-27T10": 3) of the last 48 h; read back, never queried.
        "hourly": {"type": "object", "enabled": False},
        "mentions_24h": {"type": "integer"},
        "mentions_prev_24h": {"type": "integer"},
        "growth_24h": {"type": "float"},
        "max_score": {"type": "float"},
        "post_ids": _KEYWORD,
        "ticket_ids": _KEYWORD,
        "sources": _KEYWORD,
        "signatures": {"type": "long", "index": False, "doc_values": False},
        "lsh_bands": _KEYWORD,
        "known_claim_id": _KEYWORD,
        "verdict": _KEYWORD,
        "correction_text": {"type": "text", "index": False},
        "correction_url": {"type": "keyword", "index": False},
        "flags": FLAG,
        "state": _KEYWORD,
        "history": {"type": "object", "enabled": False},
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
