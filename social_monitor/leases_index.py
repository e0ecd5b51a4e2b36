"""The `leases` index: one document per lease ("source:baobd", "escalation:<ticket>"), keyed by its name.

Read and written only by id (real-time gets, conditional writes), never searched; small, so one shard.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "leases"
VERSION: Final = 1
MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "holder": {"type": "keyword"},
        "renewed_at": {"type": "date"},
        "expires_at": {"type": "date"},
        "state": {"type": "object", "enabled": False},
        # What the holder hands on to the next one (a source's cursor and next run): stored, not indexed.
    },
}
SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
