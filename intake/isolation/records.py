"""Typed records of home-isolation monitoring: a case, its readings and check-ins, and its registration."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from intake.errors import InvalidTicket
from intake.records import mask_phone

HIGH_RISK_AGE: Final = 65
RISK_FACTORS: Final = {"diabetes": "Tiểu đường", "hypertension": "Tăng huyết áp", "heart": "Bệnh tim",
                       "lung": "Bệnh phổi mạn", "kidney": "Bệnh thận", "obesity": "Béo phì",
                       "pregnancy": "Mang thai", "immunosuppressed": "Suy giảm miễn dịch",
                       "unvaccinated": "Chưa tiêm vắc-xin"}
PHONE: Final = re.compile(r"^\+?\d{9,15}$")


class CaseStatus(StrEnum):
    """Where a case is."""

    ACTIVE = "active"
    HOSPITAL = "hospital"
    RECOVERED = "recovered"
    CLOSED = "closed"


class Risk(StrEnum):
    """How worried the ward team should be: red has raised an alert."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Reading:
    """One answer to a check-in."""

    at: datetime
    text: str
    spo2: int | None = None
    temperature: float | None = None
    breathing: str | None = None
    flags: tuple[str, ...] = ()

    @property
    def good(self) -> bool:
        """A reading that counts towards recovery: SpO2 ≥ 96, no fever, breathing normal, no sign."""
        return (self.spo2 is not None and self.spo2 >= 96 and (self.temperature or 37.0) < 37.5
                and self.breathing in (None, "normal") and not self.flags)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One scheduled question sent to the patient."""

    slot: datetime
    sent_at: datetime
    via: str
    """"zalo", "sms" or "failed"."""
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the case's history."""

    at: datetime
    actor: str
    action: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    """A person isolating at home with COVID-19 (F0), followed by the ward's medical team."""

    id: str
    name: str
    district: str
    ward: str
    address: str
    start_date: date
    consent: bool
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    zalo_user_id: str | None = None
    age: int | None = None
    risk_factors: tuple[str, ...] = ()
    ticket_id: str | None = None
    status: CaseStatus = CaseStatus.ACTIVE
    risk: Risk = Risk.GREEN
    risk_reasons: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()
    checkins: tuple[CheckIn, ...] = ()
    alerts: tuple[str, ...] = ()
    """Emergency tickets opened for this case."""
    contacted_at: datetime | None = None
    closed_at: datetime | None = None
    history: tuple[Event, ...] = ()

    @property
    def place(self) -> str:
        """"district/ward": how wards are named in user accounts and ISOLATION_WARD_ON_CALL."""
        return f"{self.district}/{self.ward}"

    @property
    def high_risk(self) -> bool:
        """Older or with a risk factor: silence counts as a warning sign."""
        return (self.age or 0) >= HIGH_RISK_AGE or bool(self.risk_factors)

    @property
    def latest(self) -> Reading | None:
        """The newest reading."""
        return self.readings[-1] if self.readings else None

    @property
    def missed(self) -> int:
        """Consecutive unanswered check-ins, newest first (the one just sent counts once it has a successor)."""
        count = 0
        for checkin in reversed(self.checkins[:-1] if self.checkins else ()):
            if checkin.answered_at is not None:
                break
            count += 1
        return count

    def spo2_series(self) -> list[tuple[datetime, int]]:
        """SpO2 readings in time order, for the sparkline and the trend rule."""
        return [(r.at, r.spo2) for r in self.readings if r.spo2 is not None]

    def with_event(self, at: datetime, actor: str, action: str, detail: str = "", **changes: Any) -> Case:
        """A copy with `changes` applied and recorded."""
        return replace(self, **changes, updated_at=at, history=(*self.history, Event(at, actor, action, detail)))

    def as_doc(self) -> dict[str, Any]:
        """The Elasticsearch document."""
        doc = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}
        doc["place"] = self.place
        doc["high_risk"] = self.high_risk
        latest = self.latest
        doc["latest_spo2"] = latest.spo2 if latest else None
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Case:
        """Rebuild from the stored document."""
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None
        return cls(
            id=doc["id"], name=doc["name"], district=doc["district"], ward=doc["ward"], address=doc["address"],
            start_date=date.fromisoformat(doc["start_date"]), consent=doc["consent"],
            created_at=datetime.fromisoformat(doc["created_at"]), updated_at=datetime.fromisoformat(doc["updated_at"]),
            phone=doc.get("phone"), zalo_user_id=doc.get("zalo_user_id"), age=doc.get("age"),
            risk_factors=tuple(doc.get("risk_factors") or ()), ticket_id=doc.get("ticket_id"),
            status=CaseStatus(doc["status"]), risk=Risk(doc["risk"]), risk_reasons=tuple(doc.get("risk_reasons") or ()),
            readings=tuple(Reading(datetime.fromisoformat(r["at"]), r["text"], r.get("spo2"), r.get("temperature"),
                                   r.get("breathing"), tuple(r.get("flags") or ())) for r in doc.get("readings") or ()),
            checkins=tuple(CheckIn(datetime.fromisoformat(c["slot"]), datetime.fromisoformat(c["sent_at"]), c["via"],
                                   when(c.get("answered_at"))) for c in doc.get("checkins") or ()),
            alerts=tuple(doc.get("alerts") or ()), contacted_at=when(doc.get("contacted_at")),
            closed_at=when(doc.get("closed_at")),
            history=tuple(Event(datetime.fromisoformat(h["at"]), h["actor"], h["action"], h.get("detail", ""))
                          for h in doc.get("history") or ()))

    def as_json(self, *, personal: bool) -> dict[str, Any]:
        """The API form; without `personal`, no name, number, address or Zalo id."""
        body = self.as_doc()
        if not personal:
            body.update(name=None, address=None, phone=mask_phone(self.phone), zalo_user_id=None,
                        readings=[{**r, "text": None} for r in body["readings"]])
        return body


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (Reading, CheckIn, Event)):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _text(data: dict[str, Any], name: str, *, required: bool = False, max_len: int = 200) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidTicket(f"'{name}' là bắt buộc")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidTicket(f"'{name}' phải là chuỗi tối đa {max_len} ký tự")
    return value.strip()


@dataclass(frozen=True, slots=True)
class CaseRegistration:
    """A validated POST /api/isolation/cases body; fields missing here may come from `ticket_id`."""

    name: str
    consent: bool
    start_date: date
    address: str | None = None
    district: str | None = None
    ward: str | None = None
    phone: str | None = None
    zalo_user_id: str | None = None
    age: int | None = None
    risk_factors: tuple[str, ...] = field(default=())
    ticket_id: str | None = None

    @classmethod
    def from_json(cls, data: Any, today: date) -> CaseRegistration:
        """Validate the body; consent is required, and at least a phone or a Zalo id to reach the patient."""
        if not isinstance(data, dict):
            raise InvalidTicket("expected a JSON object")
        known = {"name", "consent", "start_date", "address", "district", "ward", "phone", "zalo_user_id", "age",
                 "risk_factors", "ticket_id"}
        unknown = set(data) - known
        if unknown:
            raise InvalidTicket(f"unknown fields: {', '.join(sorted(unknown))}")
        if data.get("consent") is not True:
            raise InvalidTicket("cần có sự đồng ý của người bệnh (consent: true) để theo dõi")
        name = _text(data, "name", required=True)
        assert name is not None
        raw_start = _text(data, "start_date")
        try:
            start = date.fromisoformat(raw_start) if raw_start else today
        except ValueError as err:
            raise InvalidTicket("'start_date' phải có dạng YYYY-MM-DD") from err
        if start > today:
            raise InvalidTicket("'start_date' không được ở tương lai")
        phone = _text(data, "phone", max_len=20)
        if phone is not None and not PHONE.match(phone.replace(" ", "")):
            raise InvalidTicket("'phone' không phải số điện thoại")
        zalo = _text(data, "zalo_user_id", max_len=32)
        if zalo is not None and not zalo.isdigit():
            raise InvalidTicket("'zalo_user_id' phải là dãy số")
        age = data.get("age")
        if age is not None and (not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 120):
            raise InvalidTicket("'age' phải là số nguyên 0–120")
        factors = data.get("risk_factors") or []
        if not isinstance(factors, list) or any(f not in RISK_FACTORS for f in factors):
            raise InvalidTicket(f"'risk_factors' chỉ gồm: {', '.join(RISK_FACTORS)}")
        return cls(name, True, start, _text(data, "address", max_len=300), _text(data, "district"),
                   _text(data, "ward"), phone.replace(" ", "") if phone else None, zalo, age,
                   tuple(dict.fromkeys(factors)), _text(data, "ticket_id"))
