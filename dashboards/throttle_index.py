"""The `sign_in_failures` index: recent failed sign-ins per user name or address, keyed by the key's SHA-256.

Shared by every replica so the limits add up across them (issue 16); read and written by id only, except the
periodic purge of keys quiet for longer than the window.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "sign_in_failures"
VERSION: Final = 1
MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "times": {"type": "date", "index": False},
        "updated_at": {"type": "date"},
    },
}
SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
