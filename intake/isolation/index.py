"""The `isolation_cases` index: one document per home-isolation case, readings and check-ins inside it.

A case has at most a few dozen readings (two check-ins a day for about two weeks), so they stay in the
document rather than in an index of their own. Personal fields are stored but not searchable by text.
"""
from __future__ import annotations

from typing import Any, Final

NAME: Final = "isolation_cases"
VERSION: Final = 1

_KEYWORD: Final = {"type": "keyword"}
_DATE: Final = {"type": "date"}

MAPPING: Final[dict[str, Any]] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD, "name": {"type": "keyword", "index": False}, "district": _KEYWORD, "ward": _KEYWORD,
        "place": _KEYWORD, "address": {"type": "keyword", "index": False}, "start_date": _DATE,
        "consent": {"type": "boolean"}, "created_at": _DATE, "updated_at": _DATE, "phone": _KEYWORD,
        "zalo_user_id": _KEYWORD, "age": {"type": "integer"}, "risk_factors": _KEYWORD, "ticket_id": _KEYWORD,
        "status": _KEYWORD, "risk": _KEYWORD, "risk_reasons": _KEYWORD, "high_risk": {"type": "boolean"},
        "latest_spo2": {"type": "integer"}, "alerts": _KEYWORD, "contacted_at": _DATE, "closed_at": _DATE,
        "readings": {"type": "object", "enabled": False},
        "checkins": {"type": "object", "enabled": False},
        "history": {"type": "object", "enabled": False},
    },
}

SETTINGS: Final[dict[str, Any]] = {"number_of_shards": 1}
