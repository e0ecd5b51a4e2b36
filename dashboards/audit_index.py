"""The `audit` index: who changed which user, setting, ticket or claim, when, from what to what."""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "audit"
VERSION: Final = 1
MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "at": {"type": "date"},
        "actor": {"type": "keyword"},
        "action": {"type": "keyword"},
        "target_type": {"type": "keyword"},
        "target_id": {"type": "keyword"},
        "before": {"type": "object", "enabled": False},
        "after": {"type": "object", "enabled": False},
    },
}
SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
