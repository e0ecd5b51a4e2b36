"""Home-isolation monitoring: registration, the check-in rounds, replies, alerts, recovery and retention.

The scheduler is `tick(now)`: the composition root calls it every ISOLATION_INTERVAL seconds with the real
clock, tests call it with the times they want. Each round asks every active case the question of the
latest slot it has not been asked (08:00 and 17:00 Asia/Ho_Chi_Minh by default), closes recovered cases,
raises alerts for silence, and deletes closed cases past the retention period. Replies arrive through the
intake journal (Zalo or SMS) and `take_reply`, which records the reading and alerts at once if it is bad:
an alert never waits for the next round. (issue 17)
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Final

from hotline.kernel.concurrency import change_saved
from hotline.kernel.records import LOCAL_TZ
from intake.errors import InvalidTicket, TicketConflict, TicketNotFound
from intake.isolation.assess import assess
from intake.isolation.parse import parse_reply
from intake.isolation.queries import build_active_cases, build_case_of_contact, build_expired
from intake.isolation.records import Case, CaseRegistration, CaseStatus, CheckIn, Reading, Risk
from intake.isolation.store import CaseStore
from intake.records import Channel, Status, Ticket, mask_phone, ticket_number
from intake.service import AuditLog, Messaging, Place, SlaPolicy, ZaloMessaging
from intake.store import TicketStore
from intake.zalo import party_of, zalo_user_of

log = logging.getLogger(__name__)

SYSTEM: Final = "system"
CONFLICT_RETRIES: Final = 5
RECOVERY_READINGS: Final = 2
CONTACTS_TTL_S: Final = 30.0
"""How long the set of active cases' phone numbers and Zalo ids is trusted before it is read again. Every
inbound SMS and Zalo text is checked against it, so the common case (not a patient) costs no search; a case
registered in another process (`hotline worker`) is recognised within this delay."""


@dataclass(frozen=True, slots=True)
class IsolationConfig:
    """The settings monitoring needs (built from hotline.settings.Settings)."""

    checkin_times: tuple[time, ...] = (time(8, 0), time(17, 0))
    recovery_days: int = 10
    retention_days: int = 30
    ward_on_call: Mapping[str, str] | None = None
    fallback_on_call: tuple[str, ...] = ()

    @classmethod
    def from_strings(cls, times: tuple[str, ...], **values: object) -> IsolationConfig:
        """Times as "HH:MM" strings (validated by the settings)."""
        parsed = tuple(time(int(t[:2]), int(t[3:5])) for t in times)
        return cls(checkin_times=parsed, **values)  # type: ignore[arg-type]


def question(case: Case) -> str:
    """The check-in question, in plain Vietnamese, with examples people can copy."""
    return (f"Trạm y tế {case.ward} hỏi thăm sức khỏe. Anh/chị vui lòng nhắn lại: 1) SpO2 (ví dụ: spo2 97), "
            "2) nhiệt độ (ví dụ: sốt 38 độ 5, hoặc không sốt), 3) có khó thở không. "
            "Nếu khó thở nhiều, môi tím, đau ngực: gọi 115 ngay.")


class IsolationService:
    """Everything monitoring does; dependencies passed in once by the composition root."""

    def __init__(self, *, cases: CaseStore, tickets: TicketStore, sla: SlaPolicy, config: IsolationConfig,
                 zalo: ZaloMessaging | None = None, sms: Messaging | None = None, audit: AuditLog | None = None,
                 locate: Callable[[str], Place | None] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.cases = cases
        self._tickets = tickets
        self._sla = sla
        self.config = config
        self._zalo = zalo
        self._sms = sms
        self._audit = audit
        self._locate = locate
        self._clock = clock or (lambda: datetime.now(LOCAL_TZ))
        self._contacts: frozenset[str] = frozenset()
        self._contacts_read_at = -CONTACTS_TTL_S

    # --- registration and the medical team's actions ------------------------------------------------
    async def register(self, reg: CaseRegistration, *, actor: str, now: datetime | None = None) -> Case:
        """Open a case, from an operator's form or from a ticket (whose contact and place it takes)."""
        now = now or self._clock()
        phone, zalo, district, ward, address = reg.phone, reg.zalo_user_id, reg.district, reg.ward, reg.address
        if reg.ticket_id:
            ticket, _ = await self._tickets.get(reg.ticket_id)
            zalo = zalo or zalo_user_of(ticket.caller)
            phone = phone or (ticket.caller if ticket.caller and not zalo_user_of(ticket.caller) else None)
            district, ward = district or ticket.district, ward or ticket.ward
        if (not district or not ward) and address and self._locate is not None:
            place = self._locate(address)
            if place is not None:
                district, ward = district or place.district, ward or place.ward
        if not district or not ward:
            raise InvalidTicket("cần biết huyện và phường/xã của người bệnh (district, ward)")
        if not phone and not zalo:
            raise InvalidTicket("cần số điện thoại hoặc Zalo của người bệnh để hỏi thăm")
        case = Case(id=f"f0-{uuid.uuid4().hex[:12]}", name=reg.name, district=district, ward=ward,
                    address=address or "", start_date=reg.start_date, consent=True, created_at=now, updated_at=now,
                    phone=phone, zalo_user_id=zalo, age=reg.age, risk_factors=reg.risk_factors,
                    ticket_id=reg.ticket_id).with_event(now, actor, "registered")
        await self.cases.create(case)
        self._contacts |= {c for c in (phone, party_of(zalo) if zalo else None) if c}
        await self._record(now, actor, "case_registered", case, {"place": case.place, "ticket_id": reg.ticket_id})
        times = " và ".join(t.strftime("%H:%M") for t in self.config.checkin_times)
        await self._tell(case, f"Trạm y tế {case.ward} sẽ hỏi thăm sức khỏe anh/chị mỗi ngày lúc {times} qua "
                               "tin nhắn này. Nếu khó thở, môi tím, đau ngực: gọi 115 ngay.")
        return case

    async def mark_contacted(self, case_id: str, *, actor: str) -> Case:
        """The ward team reached the patient: the alert is handled, monitoring continues (red becomes yellow)."""
        now = self._clock()

        async def change(case: Case) -> Case | None:
            risk = Risk.YELLOW if case.risk is Risk.RED else case.risk
            return case.with_event(now, actor, "contacted", contacted_at=now, risk=risk)
        _, after = await self._change(case_id, change)
        await self._record(now, actor, "case_contacted", after, {"risk": after.risk.value})
        return after

    async def mark_hospital(self, case_id: str, *, actor: str) -> Case:
        """The patient went to hospital: monitoring at home ends."""
        now = self._clock()

        async def change(case: Case) -> Case | None:
            if case.status is not CaseStatus.ACTIVE:
                return None
            return case.with_event(now, actor, "hospital", status=CaseStatus.HOSPITAL, closed_at=now)
        _, after = await self._change(case_id, change)
        await self._record(now, actor, "case_hospital", after, {"status": after.status.value})
        return after

    # --- replies -----------------------------------------------------------------------------
    async def take_reply(self, party: str, text: str, at: datetime) -> bool:
        """Record an answer from an active case's phone or Zalo; False if it is not one (it becomes a ticket)."""
        if party not in await self._active_contacts():
            return False
        zalo = zalo_user_of(party)
        found = await self.cases.search(build_case_of_contact(phone=None if zalo else party, zalo_user_id=zalo))
        if not found:
            return False
        parsed = await asyncio.to_thread(parse_reply, text)
        if parsed.empty:
            return False
        reading = Reading(at, text[:500], parsed.spo2, parsed.temperature, parsed.breathing, parsed.flags)

        async def change(case: Case) -> Case | None:
            if any(r.at == reading.at and r.text == reading.text for r in case.readings):
                return None  # the journal replayed this message
            checkins = case.checkins
            if checkins and checkins[-1].answered_at is None:
                checkins = (*checkins[:-1], replace(checkins[-1], answered_at=at))
            case = case.with_event(at, "patient", "reading", _describe(reading),
                                   readings=(*case.readings, reading), checkins=checkins)
            return await self._reassessed(case, self._clock())
        before, after = await self._change(found[0].id, change)
        await self._after(before, after)
        return True

    async def looks_like_reply(self, party: str, text: str) -> bool:
        """Whether `take_reply` will most likely take this message (an active case's contact, a readable
        answer): the SMS webhook answers with a health acknowledgement instead of a ticket number. The worker
        still decides; a case closed in between only means the patient was not given the ticket's number."""
        if party not in await self._active_contacts():
            return False
        return not (await asyncio.to_thread(parse_reply, text)).empty

    def latest_today(self) -> date:
        """Today in the province (registration dates are local dates)."""
        return self._clock().astimezone(LOCAL_TZ).date()

    async def _active_contacts(self) -> frozenset[str]:
        loop = asyncio.get_running_loop()
        if loop.time() - self._contacts_read_at >= CONTACTS_TTL_S:
            body = {**build_active_cases(), "_source": ["phone", "zalo_user_id"]}
            found: set[str] = set()
            for doc in await self.cases.sources(body):
                found.update(c for c in (doc.get("phone"), party_of(doc["zalo_user_id"]) if doc.get("zalo_user_id")
                                         else None) if c)
            self._contacts, self._contacts_read_at = frozenset(found), loop.time()
        return self._contacts

    # --- the scheduler -----------------------------------------------------------------------
    def latest_slot(self, now: datetime) -> datetime | None:
        """The most recent check-in time at or before `now` (today's or yesterday's), in local time."""
        local = now.astimezone(LOCAL_TZ)
        slots = [datetime.combine(local.date() - timedelta(days=back), t, LOCAL_TZ)
                 for back in (0, 1) for t in self.config.checkin_times]
        past = [s for s in slots if s <= local]
        return max(past) if past else None

    async def tick(self, now: datetime) -> dict[str, int]:
        """One round: ask, close recovered cases, alert on silence, delete expired cases."""
        slot = self.latest_slot(now)
        counts = {"asked": 0, "recovered": 0, "alerts": 0, "deleted": 0}
        for case in await self.cases.search(build_active_cases()):
            try:
                before, after = await self._change(case.id, lambda c: self._round(c, slot, now))
                await self._after(before, after)
                counts["asked"] += len(after.checkins) > len(before.checkins)
                counts["recovered"] += after.status is CaseStatus.RECOVERED and before.status is CaseStatus.ACTIVE
                counts["alerts"] += len(after.alerts) > len(before.alerts)
            except (TicketConflict, TicketNotFound, InvalidTicket) as err:  # one case must not stop the round
                log.warning("isolation round skipped case %s: %s", case.id, type(err).__name__)
        counts["deleted"] = await self.purge(now)
        return counts

    async def _round(self, case: Case, slot: datetime | None, now: datetime) -> Case | None:
        if case.status is not CaseStatus.ACTIVE:
            return None
        changed = case
        if slot is not None and slot >= case.created_at and (not case.checkins or case.checkins[-1].slot < slot):
            via = await self._ask(case)
            changed = changed.with_event(now, SYSTEM, "checkin_sent", via,
                                         checkins=(*case.checkins, CheckIn(slot, now, via)))
        recent = changed.readings[-RECOVERY_READINGS:]
        days = (now.astimezone(LOCAL_TZ).date() - changed.start_date).days
        if (days >= self.config.recovery_days and len(recent) == RECOVERY_READINGS and all(r.good for r in recent)
                and changed.risk is not Risk.RED):
            return changed.with_event(now, SYSTEM, "recovered", f"{days} ngày", status=CaseStatus.RECOVERED,
                                      closed_at=now, risk=Risk.GREEN, risk_reasons=())
        changed = await self._reassessed(changed, now)
        return None if changed == case else changed

    async def _ask(self, case: Case) -> str:
        return await self._tell(case, question(case))

    async def _tell(self, case: Case, text: str) -> str:
        """Send by Zalo if the case has it, else (or if Zalo refuses) by SMS; returns the channel or "failed"."""
        if case.zalo_user_id and self._zalo is not None:
            try:
                await self._zalo.send_text(case.zalo_user_id, text)
                return "zalo"
            except Exception as err:  # fall back to SMS; the reason goes to the log, not the text
                log.warning("Zalo message to case %s failed: %s", case.id, type(err).__name__)
        if case.phone and self._sms is not None:
            try:
                await self._sms.send_sms(case.phone, text)
                return "sms"
            except Exception as err:
                log.warning("SMS to case %s (%s) failed: %s", case.id, mask_phone(case.phone), type(err).__name__)
        return "failed"

    # --- alerts ------------------------------------------------------------------------------
    async def _reassessed(self, case: Case, now: datetime) -> Case:
        """The case with its risk brought up to date; a new red opens the emergency ticket (idempotent id)."""
        result = assess(case)
        if not result.worsening:
            if case.risk is Risk.RED:
                return case  # stays red until the ward team has acted on the alert
            return replace(case, risk=result.risk, risk_reasons=result.reasons)
        if case.risk is Risk.RED:
            return replace(case, risk_reasons=result.reasons)
        ticket = await self._open_emergency(case, result.reasons, now)
        return case.with_event(now, SYSTEM, "alert", "; ".join(result.reasons), risk=Risk.RED,
                               risk_reasons=result.reasons, alerts=(*case.alerts, ticket.id))

    async def _open_emergency(self, case: Case, reasons: tuple[str, ...], now: datetime) -> Ticket:
        ticket_id = f"isolation-{case.id}-{len(case.alerts) + 1}"
        latest = case.latest
        text = (f"F0 cách ly tại nhà trở nặng: {', '.join(reasons)}. Theo dõi {case.id}, {case.ward}, "
                f"{case.district}." + (f" Trả lời gần nhất: {latest.text}" if latest else ""))
        contact = case.phone or (party_of(case.zalo_user_id) if case.zalo_user_id else None)
        ticket = Ticket(id=ticket_id, number=ticket_number(ticket_id, now), channel=Channel.ISOLATION,
                        created_at=now, updated_at=now, caller=contact, text=text, messages=(text,),
                        category="medical", urgency="emergency", reasons=("F0 trở nặng", *reasons),
                        district=case.district, ward=case.ward, sla_due_at=self._sla.due(now, "emergency"))
        ticket = ticket.with_change(SYSTEM, "created", now, status=Status.NEW)
        if not await self._tickets.create(ticket):  # a retry after a conflict: the ticket is already there
            ticket, _ = await self._tickets.get(ticket_id)
        return ticket

    async def _after(self, before: Case, after: Case) -> None:
        """Messages that follow a saved change: the on-call SMS and a word to the patient after a new alert."""
        if len(after.alerts) <= len(before.alerts):
            if after.status is CaseStatus.RECOVERED and before.status is CaseStatus.ACTIVE:
                await self._tell(after, "Chúc mừng anh/chị đã hết thời gian theo dõi tại nhà với chỉ số tốt. "
                                        "Trạm y tế kết thúc hỏi thăm. Nếu có triệu chứng lại, hãy báo trạm y tế.")
                await self._record(self._clock(), SYSTEM, "case_recovered", after, {"status": after.status.value})
            return
        ticket, _ = await self._tickets.get(after.alerts[-1])
        ward_number = (self.config.ward_on_call or {}).get(after.place)
        numbers = (ward_number,) if ward_number else self.config.fallback_on_call
        latest = after.latest
        body = (f"[1022] F0 TRỞ NẶNG {after.ward}, {after.district}: {after.name}"
                f"{', ' + str(after.age) + ' tuổi' if after.age else ''}, {after.address or 'chưa có địa chỉ'}. "
                f"{', '.join(after.risk_reasons)}. ĐT {after.phone or 'Zalo'}. Phiếu {ticket.number}.")
        if self._sms is not None:
            for number in numbers:
                try:
                    await self._sms.send_sms(number, body[:600])
                except Exception as err:  # one failing number must not stop the others
                    log.warning("on-call SMS for case %s to %s failed: %s", after.id, mask_phone(number),
                                type(err).__name__)
        else:
            log.error("case %s worsened but no SMS sender is configured; ticket %s is the only alert",
                      after.id, ticket.id)
        await self._record(self._clock(), SYSTEM, "case_alert", after,
                           {"ticket_id": ticket.id, "reasons": list(after.risk_reasons),
                            "spo2": latest.spo2 if latest else None, "on_call": [mask_phone(n) for n in numbers]})
        await self._tell(after, "Chỉ số của anh/chị cần nhân viên y tế xem ngay; trạm y tế sẽ gọi cho anh/chị. "
                                "Nếu khó thở nặng, môi tím, đau ngực: gọi 115 ngay.")

    # --- retention ---------------------------------------------------------------------------
    async def purge(self, now: datetime) -> int:
        """Delete closed cases older than the retention period; each deletion is audited (without the data)."""
        before = now - timedelta(days=self.config.retention_days)
        ids = await self.cases.ids(build_expired(before))
        for case_id in ids:
            await self.cases.delete(case_id)
            if self._audit is not None:
                await self._audit(at=now, actor=SYSTEM, action="case_deleted", target_type="isolation_case",
                                  target_id=case_id, before={}, after={"retention_days": self.config.retention_days})
        if ids:
            log.info("deleted %d isolation cases past retention", len(ids))
        return len(ids)

    # --- plumbing ----------------------------------------------------------------------------
    async def _change(self, case_id: str,
                      change: Callable[[Case], Awaitable[Case | None]]) -> tuple[Case, Case]:
        """Apply `change` under optimistic concurrency; returns (before, after)."""
        async def step(case: Case) -> Case:
            return await change(case) or case  # None: nothing to change
        before, after, _ = await change_saved(
            partial(self.cases.get, case_id), step, self.cases.save, conflict=TicketConflict,
            attempts=CONFLICT_RETRIES, gave_up=lambda: TicketConflict(f"case {case_id} kept changing; will retry"))
        return before, after if after is not None else before

    async def _record(self, at: datetime, actor: str, action: str, case: Case, after: dict[str, object]) -> None:
        if self._audit is None:
            return
        try:
            await self._audit(at=at, actor=actor, action=action, target_type="isolation_case", target_id=case.id,
                              before={}, after=after)
        except Exception:  # the change is saved with its own history; do not fail the caller
            log.exception("audit entry for case %s not recorded", case.id)


def _describe(reading: Reading) -> str:
    parts = []
    if reading.spo2 is not None:
        parts.append(f"SpO2 {reading.spo2}%")
    if reading.temperature is not None:
        parts.append(f"{reading.temperature:.1f}°C")
    if reading.breathing:
        parts.append(f"thở: {reading.breathing}")
    parts.extend(reading.flags)
    return ", ".join(parts)
