"""The `sessions` index: signed-in browser sessions, keyed by the SHA-256 of their cookie."""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "sessions"
VERSION: Final = 1
MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "username": {"type": "keyword"},
        "role": {"type": "keyword"},
        "csrf": {"type": "keyword", "index": False},
        "created_at": {"type": "date"},
        "expires_at": {"type": "date"},
    },
}
SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
