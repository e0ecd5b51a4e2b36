"""Demo data of issue 17 for `hotline demo load`: a Zalo conversation with the hotline, and one ward's list of
people isolating at home (Đông Hòa, Dĩ An) with a week of check-in answers, one of them worsening.

Written straight to the stores (nothing is sent to Zalo or by SMS); risks come from the real rules.
"""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from elasticsearch import AsyncElasticsearch

from hotline.kernel.records import LOCAL_TZ
from dashboards import service as accounts
from dashboards.errors import UserExists
from dashboards.store import AuditStore, UserStore
from intake.isolation.assess import assess
from intake.isolation.parse import parse_reply
from intake.isolation.records import Case, CheckIn, Reading
from intake.isolation.store import CaseStore
from intake.records import Channel, Note, Status, Ticket, ticket_number
from intake.service import SlaPolicy
from intake.store import TicketStore
from intake.zalo import party_of

MEDICAL_USER: Final = ("yt.donghoa", "medical", "Trạm y tế phường Đông Hòa", ("Dĩ An/Đông Hòa",))
CONVERSATION: Final = (
    ("user", "Chào 1022, nhà em ở khu phố Tân Hòa phường Đông Hòa có 3 người F0, đang cách ly tại nhà"),
    ("user", "[Vị trí] Khu phố Tân Hòa, Đông Hòa, Dĩ An (10.8953, 106.7771)"),
    ("user", "Ba em 67 tuổi bị tiểu đường, sáng nay spo2 95, em cần đăng ký cho trạm y tế theo dõi"),
    ("operator", "Dạ 1022 đã chuyển thông tin cho trạm y tế phường Đông Hòa. Trạm sẽ nhắn hỏi thăm sức khỏe "
                 "mỗi ngày lúc 8 giờ và 17 giờ qua Zalo này. Nếu khó thở, môi tím: gọi 115 ngay."),
)
# name, age, risk factors, days since start, answers oldest first ("" = no answer to that check-in)
CASES: Final = (
    ("Nguyễn Văn Hải", 67, ("diabetes",), 4, ("spo2 96", "spo2 95 sot 37,8", "95%", "spo2 94, hoi met")),
    ("Trần Thị Hồng", 34, (), 6, ("spo2 98", "98 khong sot", "spo2 97", "spo2 98", "97%", "spo2 98")),
    ("Lê Minh Tuấn", 52, ("hypertension",), 5, ("spo2 97", "spo2 96", "spo2 95", "spo2 92, hơi khó thở")),
    ("Phạm Thị Lan", 72, ("heart", "unvaccinated"), 3, ("spo2 96", "", "")),
    ("Võ Thành Nam", 28, (), 11, ("spo2 98", "spo2 99", "spo2 98 không sốt", "spo2 98", "98%", "spo2 99")),
    ("Đặng Ngọc Mai", 45, ("obesity",), 2, ("sốt 38 độ 6, spo2 96", "spo2 96 sot 38")),
)


async def load_isolation_demo(es: AsyncElasticsearch, *, alias: Any, password: str, seed: int = 2021) -> dict[str, int]:
    """Create the ward's medical user, the Zalo ticket and the cases; safe to run twice (ids are fixed)."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    users = 0
    try:
        username, role, name, wards = MEDICAL_USER
        await accounts.add_user(username, role, password, name, actor="demo", now=now, wards=wards,
                                users=UserStore(es, alias("users")), audit=AuditStore(es, alias("audit")))
        users = 1
    except UserExists:
        pass
    tickets = TicketStore(es, alias("tickets"))
    start = now - timedelta(hours=3)
    ticket_id = "zalo-demo0000000000000001"
    ticket = Ticket(id=ticket_id, number=ticket_number(ticket_id, start), channel=Channel.ZALO, created_at=start,
                    updated_at=start, caller=party_of("8123456789012345678"), category="medical", urgency="high",
                    reasons=("người yếu thế một mình",), district="Dĩ An", ward="Đông Hòa",
                    sla_due_at=SlaPolicy().due(start, "high"),
                    messages=tuple(text for who, text in CONVERSATION if who == "user"),
                    message_sids=tuple(f"demo{i:016x}" for i in range(3)))
    ticket = replace(ticket, text=ticket.composed_text()).with_change("zalo", "created", start, status=Status.NEW)
    ticket = ticket.with_change("system", "zalo_ack_sent", start + timedelta(seconds=2))
    ticket = replace(ticket.with_change("dtv.lan", "zalo_reply", start + timedelta(minutes=9),
                                        status=Status.IN_PROGRESS, assignee="dtv.lan"),
                     notes=(Note(start + timedelta(minutes=9), "dtv.lan", f"[Trả lời qua Zalo] {CONVERSATION[-1][1]}"),))
    made = int(await tickets.create(ticket))
    cases = CaseStore(es, alias("isolation_cases"))
    created = 0
    for i, (name, age, factors, days, answers) in enumerate(CASES):
        case = _case(i, name, age, factors, days, answers, now, rng)
        try:
            await cases.create(case)
            created += 1
        except Exception:  # already loaded by an earlier run (fixed ids)
            pass
    return {"users": users, "tickets": made, "cases": created}


def _case(i: int, name: str, age: int, factors: tuple[str, ...], days: int, answers: tuple[str, ...],
          now: datetime, rng: random.Random) -> Case:
    today = now.astimezone(LOCAL_TZ).date()
    created = now - timedelta(days=days, hours=2)
    case = Case(id=f"f0-demo{i:05d}", name=name, district="Dĩ An", ward="Đông Hòa",
                address=f"{rng.randrange(2, 180)} đường số {rng.randrange(1, 20)}, khu phố Tân Hòa",
                start_date=today - timedelta(days=days), consent=True, created_at=created, updated_at=now,
                phone=f"+8490{rng.randrange(10**6, 10**7)}", age=age, risk_factors=factors,
                zalo_user_id=str(8_100_000_000_000_000_000 + i) if i % 2 == 0 else None)
    case = case.with_event(created, "dtv.lan", "registered")
    slots = _slots(now, len(answers))
    for slot, answer in zip(slots, answers):
        checkin = CheckIn(slot, slot, "zalo" if case.zalo_user_id else "sms")
        readings = case.readings
        if answer:
            at = slot + timedelta(minutes=rng.randrange(5, 90))
            parsed = parse_reply(answer)
            readings = (*readings, Reading(at, answer, parsed.spo2, parsed.temperature, parsed.breathing, parsed.flags))
            checkin = replace(checkin, answered_at=at)
        case = replace(case, checkins=(*case.checkins, checkin), readings=readings)
    result = assess(case)
    return replace(case, risk=result.risk, risk_reasons=result.reasons)


def _slots(now: datetime, count: int) -> list[datetime]:
    """The last `count` 08:00/17:00 check-in times before now, oldest first."""
    local = now.astimezone(LOCAL_TZ)
    found: list[datetime] = []
    day: date = local.date()
    while len(found) < count:
        for hour in (17, 8):
            moment = datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ)
            if moment <= local and len(found) < count:
                found.append(moment)
        day -= timedelta(days=1)
    return sorted(found)
