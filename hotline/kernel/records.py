"""Records every domain shares: the local time zone, `Version` (optimistic concurrency) and `Change` (history)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Final, Protocol, TypeVar

LOCAL_TZ: Final = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Vietnam's time (UTC+7 all year, no daylight saving): what people read and type; stored times are UTC."""
LOCAL_TZ_NAME: Final = "Asia/Ho_Chi_Minh"
"""The same zone by its IANA name, for Elasticsearch's date histograms."""


def utcnow() -> datetime:
    """Timezone-aware now; every stored time is UTC."""
    return datetime.now(timezone.utc)


@dataclasses.dataclass(frozen=True, slots=True)
class Version:
    """Elasticsearch's optimistic-concurrency token for one read of a document ("seq_no:primary_term")."""

    seq_no: int
    primary_term: int

    def __str__(self) -> str:
        return f"{self.seq_no}:{self.primary_term}"

    @classmethod
    def parse(cls, raw: str) -> Version:
        """'12:1' -> Version(12, 1); raises ValueError."""
        seq, _, term = raw.partition(":")
        return cls(int(seq), int(term))


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One entry of a record's history: who changed what, from what, to what."""

    at: datetime
    actor: str
    action: str
    before: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    after: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON form (stored and served)."""
        return {"at": self.at.isoformat(), "actor": self.actor, "action": self.action,
                "before": jsonable(self.before), "after": jsonable(self.after)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        """Read a stored history entry back."""
        return cls(datetime.fromisoformat(data["at"]), data["actor"], data["action"], data.get("before") or {},
                   data.get("after") or {})


class Historied(Protocol):
    """A record with a history: tickets, claims."""

    @property
    def history(self) -> tuple[Change, ...]: ...

    @property
    def updated_at(self) -> datetime: ...


R = TypeVar("R", bound=Historied)


def with_change(record: R, actor: str, action: str, at: datetime, **changes: Any) -> R:
    """A copy of a frozen dataclass with `changes` applied and recorded in its history."""
    before = {k: jsonable(getattr(record, k)) for k in changes}
    after = {k: jsonable(v) for k, v in changes.items()}
    entry = Change(at, actor, action, before, after)
    return dataclasses.replace(record, **changes, updated_at=at,  # type: ignore[type-var]
                               history=(*record.history, entry))


def with_event(record: R, actor: str, action: str, at: datetime, details: Mapping[str, Any]) -> R:
    """A copy with an event that changes no field (an SMS sent, a note) in its history."""
    entry = Change(at, actor, action, {}, dict(details))
    return dataclasses.replace(record, updated_at=at, history=(*record.history, entry))  # type: ignore[type-var]


def jsonable(value: Any) -> Any:
    """A value as JSON: times in ISO 8601, enums by value, records by their `as_json` or their fields."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "as_json"):
        return value.as_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value
