"""The ward medical team's page of home-isolation cases, and the leaders' per-ward counts on /trends.

Medical users see the wards on their account only; operators and admins see every ward. Names, numbers
and addresses appear only here (roles medical, operator, admin), and every view and action is audited.
The SpO2 sparkline is inline SVG computed here: nothing runs in the browser. (issue 17)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from hotline.kernel.request import ACTOR, ROLE
from dashboards import keys
from dashboards.errors import UserNotFound
from dashboards.store import AuditEntry
from dashboards.views import page_context
from intake.isolation.keys import ISOLATION
from intake.isolation.queries import RISK_ORDER, build_ward_counts, build_ward_cases
from intake.isolation.records import RISK_FACTORS, Case

routes = web.RouteTableDef()
ALL_WARDS_ROLES: Final = frozenset({"operator", "admin"})
SPARK_LOW, SPARK_HIGH = 85, 100
"""The sparkline's fixed SpO2 scale, so the 94 % line sits at the same height on every row."""
RISK_LABELS: Final = {"red": "Nguy cơ cao", "yellow": "Cần chú ý", "green": "Ổn định"}
STATUS_LABELS: Final = {"active": "Đang theo dõi", "hospital": "Đã chuyển viện", "recovered": "Đã khỏi",
                        "closed": "Đã đóng"}
BREATHING_LABELS: Final = {"normal": "thở bình thường", "mild": "hơi khó thở", "severe": "khó thở"}
RECENTLY_CLOSED: Final = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Spark:
    """A SpO2 sparkline laid out in a width × height box."""

    points: str
    last_x: float
    last_y: float
    alert_y: float
    width: int
    height: int
    low: bool


def spo2_sparkline(series: list[tuple[datetime, int]], *, width: int = 120, height: int = 28) -> Spark | None:
    """Polyline points of the last 12 SpO2 readings on a fixed 85–100 % scale, with the 94 % line."""
    values = [v for _, v in series[-12:]]
    if not values:
        return None

    def y(v: int) -> float:
        clipped = min(max(v, SPARK_LOW), SPARK_HIGH)
        return round(height - 2 - (clipped - SPARK_LOW) / (SPARK_HIGH - SPARK_LOW) * (height - 4), 1)
    step = width / max(len(values) - 1, 1)
    points = [(round(i * step, 1) if len(values) > 1 else width / 2, y(v)) for i, v in enumerate(values)]
    return Spark(" ".join(f"{px},{py}" for px, py in points), points[-1][0], points[-1][1], y(94), width, height,
                 values[-1] < 94)


async def _wards_of(request: web.Request) -> tuple[str, ...] | None:
    """The wards the signed-in user may see; None means every ward."""
    if request[ROLE] in ALL_WARDS_ROLES:
        return None
    try:
        return (await request.app[keys.USERS].get(request[ACTOR])).wards
    except UserNotFound:  # an API key has no account, hence no wards
        return ()


async def _audit(request: web.Request, action: str, target: str, after: dict[str, Any]) -> None:
    await request.app[keys.AUDIT].record(AuditEntry(datetime.now(timezone.utc), request[ACTOR], action,
                                                    "isolation_case", target, {}, after))


@routes.get("/medical")
@aiohttp_jinja2.template("medical.html")
async def get_medical(request: web.Request) -> dict[str, Any]:
    """Roles: medical (own wards), operator, admin. Cases by risk with latest readings, SpO2 trend, missed check-ins."""
    wards = await _wards_of(request)
    service = request.app[ISOLATION]
    now = datetime.now(timezone.utc)
    cases = [] if wards == () else await service.cases.search(
        build_ward_cases(wards, include_closed_since=now - RECENTLY_CLOSED))
    active = sorted((c for c in cases if c.status == "active"),
                    key=lambda c: (RISK_ORDER[c.risk], c.latest.spo2 if c.latest and c.latest.spo2 else 100))
    closed = [c for c in cases if c.status != "active"]
    await _audit(request, "isolation_cases_viewed", ",".join(wards) if wards is not None else "*",
                 {"cases": len(cases)})
    return page_context(request, active=active, closed=closed, wards=wards, spark=spo2_sparkline,
                        risk_labels=RISK_LABELS, status_labels=STATUS_LABELS, factors=RISK_FACTORS,
                        breathing=BREATHING_LABELS, today=service.latest_today(), days=case_days,
                        message=request.query.get("message"))


async def _act(request: web.Request, action: str) -> web.StreamResponse:
    service = request.app[ISOLATION]
    case_id = request.match_info["case_id"]
    case, _ = await service.cases.get(case_id)
    wards = await _wards_of(request)
    if wards is not None and case.place not in wards:
        raise web.HTTPForbidden(text="ca này không thuộc phường của bạn")
    if action == "contacted":
        await service.mark_contacted(case_id, actor=request[ACTOR])
        message = "Đã ghi nhận: đã liên hệ người bệnh."
    else:
        await service.mark_hospital(case_id, actor=request[ACTOR])
        message = "Đã ghi nhận: người bệnh đã chuyển viện."
    raise web.HTTPSeeOther("/medical?" + urlencode({"message": message}))


@routes.post("/medical/cases/{case_id}/contacted")
async def post_medical_contacted(request: web.Request) -> web.StreamResponse:
    """Roles: medical (own wards), admin. One click: the team reached the patient (an alert is handled)."""
    return await _act(request, "contacted")


@routes.post("/medical/cases/{case_id}/hospital")
async def post_medical_hospital(request: web.Request) -> web.StreamResponse:
    """Roles: medical (own wards), admin. One click: the patient went to hospital; home monitoring ends."""
    return await _act(request, "hospital")


async def ward_counts(request: web.Request) -> list[tuple[str, int, dict[str, int]]]:
    """Active cases per ward with their risk split, for the leaders' block on /trends (no personal data)."""
    aggs = await request.app[ISOLATION].cases.aggregate(build_ward_counts())
    return [(b["key"], b["doc_count"], {r["key"]: r["doc_count"] for r in b["risk"]["buckets"]})
            for b in aggs.get("place", {}).get("buckets", [])]


def case_days(case: Case, today: Any) -> int:
    """Days since the case's start date (day 0 is the start)."""
    return int((today - case.start_date).days)
