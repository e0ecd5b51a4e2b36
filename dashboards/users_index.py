"""The `users` index: people who sign in to the dashboards."""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "users"
VERSION: Final = 2
"""v2: `wards` of medical users (issue 17); v1 documents copy as they are (no wards)."""
MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "username": {"type": "keyword"},
        "display_name": {"type": "text"},
        "role": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False},
        "active": {"type": "boolean"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "wards": {"type": "keyword"},
    },
}
SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
