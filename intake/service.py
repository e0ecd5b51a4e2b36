"""Intake's domain logic: journal entries become tickets; operators' changes are validated and recorded."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from classifier.estimators import explain_proba_all
from classifier.text import redact
from hotline.kernel.records import Change, with_event
from intake import queries
from intake.commands import (CallStarted, Command, ManualReported, RecordingCompleted, ReplyRequested, SmsReceived,
                             TranscriptSegment, ZaloFollow, ZaloMessage, decode)
from intake.errors import IntakeError, InvalidTicket, StoreUnavailable, TicketConflict, TicketNotFound
from intake.journal import Journal, JournalEntry
from intake.records import (OPEN_STATUSES, TRANSITIONS, Channel, InboundMessage, ManualReport, Note, Segment, Status,
                            Ticket, TicketPatch, mask_phone, parse_ticket_number, ticket_number)
from intake.store import TicketStore, forms_of
from intake.zalo import party_of, zalo_user_of

log = logging.getLogger(__name__)

SYSTEM: Final = "system"
RELATED_WINDOW: Final = timedelta(hours=48)
SMS_JOIN_WINDOW: Final = timedelta(hours=24)
CONFLICT_RETRIES: Final = 5
SMS_CHUNK: Final = 50
"""Tickets per chunk of a batch of SMS entries; the chunks of a batch are written concurrently."""
REPLY_ATTEMPTS: Final = 3


class Classifier(Protocol):
    """What intake needs of a text classifier (classifier.protocols.TextClassifier + explain)."""

    classes_: Any

    def predict_proba(self, texts: Sequence[Any]) -> Any: ...

    def explain(self, texts: Sequence[Any], labels: Sequence[str] | None = None, *, top: int = 3) -> list[list[str]]: ...

    def explain_proba(self, texts: Sequence[Any], *, top: int = 3) -> tuple[Any, list[list[str]]]: ...


class Place(Protocol):
    """A located district/ward (classifier.gazetteer.Place)."""

    district: str
    ward: str | None


class Speech(Protocol):
    """A speech-to-text engine (intake.speech.SpeechEngine)."""

    name: str

    def transcribe(self, audio: bytes, *, content_type: str = ...) -> Any: ...


class Messaging(Protocol):
    """Twilio's REST API, as intake uses it (intake.twilio_api.TwilioApi)."""

    async def download_recording(self, url: str) -> bytes: ...

    async def send_sms(self, to: str, body: str) -> str: ...


class ZaloMessaging(Protocol):
    """The Zalo OA API, as intake uses it (intake.zalo_api.ZaloApi)."""

    async def send_text(self, user_id: str, text: str) -> str: ...

    async def download_media(self, url: str) -> bytes: ...


class CheckInReply(Protocol):
    """Home-isolation monitoring's hook (intake.isolation): True if the message answered a check-in."""

    async def __call__(self, party: str, text: str, at: datetime) -> bool: ...


class AuditLog(Protocol):
    """Where people's changes to tickets are also written (the admins' audit trail); set by the composition root."""

    async def __call__(self, *, at: datetime, actor: str, action: str, target_type: str, target_id: str,
                       before: Mapping[str, Any], after: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """How long each urgency may wait for action."""

    emergency: timedelta = timedelta(minutes=15)
    high: timedelta = timedelta(hours=4)
    normal: timedelta = timedelta(days=3)

    def due(self, created_at: datetime, urgency: str | None) -> datetime | None:
        """When a ticket of this urgency is overdue."""
        return created_at + getattr(self, urgency) if urgency in ("emergency", "high", "normal") else None


@dataclass(frozen=True, slots=True)
class Classification:
    """What the models say about a text."""

    category: str
    category_score: float
    urgency: str
    reasons: tuple[str, ...]


def classify(text: str, *, category: Classifier, urgency: Classifier) -> Classification:
    """Run both models once on the normalised text (blocking: call it through asyncio.to_thread)."""
    return classify_many([text], category=category, urgency=urgency)[0]


def classify_many(texts: Sequence[str], *, category: Classifier, urgency: Classifier) -> list[Classification]:
    """`classify` for several texts, each model run once on all of them, the features made once when the two
    models share them (blocking)."""
    forms = [forms_of(t) for t in texts]
    (cat_proba, cat_reasons), (urg_proba, urg_reasons) = explain_proba_all([category, urgency], forms)
    return [Classification(str(category.classes_[cp.argmax()]), round(float(cp.max()), 4),
                           str(urgency.classes_[up.argmax()]), tuple(dict.fromkeys(ur + cr)))
            for cp, cr, up, ur in zip(cat_proba, cat_reasons, urg_proba, urg_reasons)]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What `apply_sms_batch` did: entries applied, and entries to apply one at a time (in journal order)."""

    done: list[int]
    fallback: list[JournalEntry]


@dataclass
class IntakeService:
    """Everything intake does, with its dependencies passed in once by the composition root."""

    store: TicketStore
    category: Classifier
    urgency: Classifier
    sla: SlaPolicy
    locate: Callable[[str], Place | None] | None = None
    speech: Speech | None = None
    messaging: Messaging | None = None
    on_call: tuple[str, ...] = ()
    outcome_sms: bool = False
    audit: AuditLog | None = None
    assignees: Callable[[str], Awaitable[bool]] | None = None
    """Whether a name may be given tickets (an active user of the operator role); set by the composition root."""
    clock: Callable[[], datetime] = lambda: datetime.now().astimezone()
    zalo: ZaloMessaging | None = None
    check_in_reply: CheckInReply | None = None
    looks_like_check_in: Callable[[str, str], Awaitable[bool]] | None = None
    """Whether an SMS is most likely a home-isolation answer (`check_in_reply` will take it): its reply says so."""
    reply_backoff_s: float = 0.5
    sms_chunk: int = SMS_CHUNK
    claim_escalation: Callable[[str], Awaitable[bool]] | None = None
    """Whether this replica may send the escalation SMS of a ticket id: a claim in Elasticsearch that one replica
    of the fleet wins (set by the composition root); None sends unclaimed (a single process)."""

    # --- journal entries -> tickets -------------------------------------------------------------
    async def apply(self, entry: JournalEntry) -> None:
        """Apply one journal entry; safe to repeat (every step checks whether it was already done)."""
        await self.handle(decode(entry))

    async def handle(self, command: Command) -> None:
        """Dispatch a command to its handler, by type (cosmicpython's handlers table)."""
        handlers: Mapping[type[Command], Callable[[Any], Awaitable[None]]] = {
            CallStarted: self._apply_call, TranscriptSegment: self._apply_transcription,
            RecordingCompleted: self._apply_recording, SmsReceived: self._apply_sms,
            ManualReported: self._apply_manual, ZaloMessage: self._apply_zalo, ZaloFollow: self._apply_zalo_follow,
            ReplyRequested: self._apply_reply,
        }
        await handlers[type(command)](command)

    def _new_ticket(self, ticket_id: str, channel: Channel, created: datetime, caller: str | None,
                    actor: str = "twilio") -> Ticket:
        ticket = Ticket(id=ticket_id, number=ticket_number(ticket_id, created), channel=channel,
                        created_at=created, updated_at=created, caller=caller)
        return ticket.with_change(actor, "created", created, status=Status.NEW)

    def _call_ticket(self, call_sid: str, received_at: datetime, caller: str | None) -> Callable[[], Ticket]:
        tid = call_ticket_id(call_sid)
        return lambda: replace(self._new_ticket(tid, Channel.CALL, received_at, caller), call_sid=call_sid)

    async def _apply_call(self, c: CallStarted) -> None:
        await self._upsert(call_ticket_id(c.call_sid), self._call_ticket(c.call_sid, c.received_at, c.caller),
                           lambda t: None)

    async def _apply_transcription(self, c: TranscriptSegment) -> None:
        segment = Segment(c.sequence, c.text, "twilio")

        def add(t: Ticket) -> Ticket | None:
            if any(s.sequence == segment.sequence for s in t.segments):
                return None
            return replace(t, segments=(*t.segments, segment))
        await self._upsert(call_ticket_id(c.call_sid), self._call_ticket(c.call_sid, c.received_at, None), add)

    async def _apply_recording(self, c: RecordingCompleted) -> None:
        if c.status != "completed":
            return
        transcript = None
        if self.speech is not None and self.messaging is not None:
            audio = await self.messaging.download_recording(c.recording_url)
            result = await asyncio.to_thread(self.speech.transcribe, audio, content_type="audio/wav")
            transcript = result.text.strip() or None

        def attach(t: Ticket) -> Ticket | None:
            if t.recording_sid == c.recording_sid and (transcript is None or t.recording_transcript):
                return None
            return t.with_change(SYSTEM, "recording", self.clock(), recording_sid=c.recording_sid,
                                 recording_url=c.recording_url,
                                 recording_transcript=transcript or t.recording_transcript)
        await self._upsert(call_ticket_id(c.call_sid), self._call_ticket(c.call_sid, c.received_at, None), attach)

    async def _apply_sms(self, c: SmsReceived) -> None:
        if self.check_in_reply is not None and await self.check_in_reply(c.sender, c.body, c.received_at):
            return  # an answer to a home-isolation check-in: recorded on the case, not a new report

        def add(t: Ticket) -> Ticket | None:
            if c.message_sid in t.message_sids:
                return None
            return replace(t, messages=(*t.messages, c.body), message_sids=(*t.message_sids, c.message_sid))
        await self._upsert(c.ticket_id, lambda: self._new_ticket(c.ticket_id, Channel.SMS, c.received_at, c.sender),
                           add)

    async def _apply_manual(self, c: ManualReported) -> None:
        def make() -> Ticket:
            t = self._new_ticket(c.ticket_id, Channel.MANUAL, c.received_at, c.caller, c.actor)
            return replace(t, messages=(c.text,), district=c.district, ward=c.ward)
        await self._upsert(c.ticket_id, make, lambda t: None)

    async def _upsert(self, ticket_id: str, make: Callable[[], Ticket],
                      change: Callable[[Ticket], Ticket | None]) -> Ticket:
        """Create or change a ticket under optimistic concurrency, re-reading on conflict."""
        for _ in range(CONFLICT_RETRIES):
            try:
                ticket, version = await self.store.get(ticket_id)
            except TicketNotFound:
                fresh = make()
                fresh = await self._enrich(change(fresh) or fresh)
                if await self.store.create(fresh):
                    log.info("ticket %s created (%s, urgency %s)", fresh.id, fresh.channel, fresh.urgency)
                    return fresh
                continue
            updated = change(ticket)
            if updated is None:
                return ticket
            updated = await self._enrich(updated)
            try:
                await self.store.save(updated, version)
                return updated
            except TicketConflict:
                continue
        raise TicketConflict(f"ticket {ticket_id} kept changing; will retry")

    async def _enrich(self, ticket: Ticket) -> Ticket:
        """Re-classify, re-locate and re-link a ticket whose text changed."""
        ticket, text = self._composed(ticket)
        if text is None:
            return ticket
        result = await asyncio.to_thread(classify, text, category=self.category, urgency=self.urgency)
        ticket, related_body = self._classified(ticket, result)
        return replace(ticket, related=tuple(await self.store.ids(related_body)))

    @staticmethod
    def _composed(ticket: Ticket) -> tuple[Ticket, str | None]:
        """The ticket with its composed text, and that text when it must be classified (None: nothing more)."""
        text = ticket.composed_text()
        if text == ticket.text and ticket.urgency is not None:
            return ticket, None
        ticket = replace(ticket, text=text)
        return ticket, text if text.strip() else None

    def _classified(self, ticket: Ticket, result: Classification) -> tuple[Ticket, dict[str, Any]]:
        """Apply the models' answer (and the place) to a ticket; returns it and its related-tickets query."""
        text = ticket.text
        changes: dict[str, Any] = {}
        if not ticket.category_corrected and result.category != ticket.category:
            changes.update(category=result.category, category_score=result.category_score)
        if result.urgency != ticket.urgency:
            changes.update(urgency=result.urgency, sla_due_at=self.sla.due(ticket.created_at, result.urgency))
        if self.locate is not None and ticket.district is None:
            place = self.locate(text)
            if place is not None:
                changes.update(district=place.district, ward=place.ward)
        ticket = replace(ticket, reasons=result.reasons)
        if changes:
            ticket = ticket.with_change(SYSTEM, "classified", self.clock(), **changes)
        folded = forms_of(text).folded
        return ticket, queries.build_related(ticket.id, ticket.caller, folded, ticket.created_at - RELATED_WINDOW)

    # --- SMS entries in batches (issue 16) -------------------------------------------------------
    async def apply_sms_batch(self, entries: Sequence[JournalEntry]) -> BatchOutcome:
        """Apply SMS entries as `apply` would one at a time, with one classification batch, one `mget`,
        one multi-search and one bulk write per round (a round again for the tickets that conflicted).

        Entries for the same ticket are folded in journal order, each step classified as `_upsert` would,
        so the tickets and their histories are the same as one at a time. Idempotent like `_apply_sms`: a
        message already on its ticket (a replay after a crash mid-batch) changes nothing. Entries whose
        ticket could not be written here (a refused document, an error, conflicts past the retries) are
        returned as `fallback`, to be applied one at a time, where a bad entry is parked on its own.
        """
        done: list[int] = []
        fallback_tickets: set[str] = set()
        groups: dict[str, list[JournalEntry]] = {}
        for entry in entries:
            p = entry.payload
            tid = p.get("ticket_id") if isinstance(p.get("ticket_id"), str) else None
            if tid is None or tid in fallback_tickets:
                fallback_tickets.add(tid or f"#{entry.id}")
                continue
            if self.check_in_reply is not None:
                try:
                    sms = SmsReceived.from_json(p)
                    if await self.check_in_reply(sms.sender, sms.body, sms.received_at):
                        done.append(entry.id)
                        continue
                except (StoreUnavailable, TicketConflict):
                    raise
                except Exception:  # one at a time, this entry fails (and is parked) on its own
                    fallback_tickets.add(tid)
                    continue
            groups.setdefault(tid, []).append(entry)

        # Chunks of tickets in flight together: one chunk's classification runs while another's requests wait on
        # Elasticsearch (a ticket's entries are all in one chunk, so each ticket's order holds; issue 16).
        tids = list(groups)
        size = self.sms_chunk
        chunks = [{tid: groups[tid] for tid in tids[i:i + size]} for i in range(0, len(tids), size)]
        outcomes = await asyncio.gather(*(self._write_sms(chunk) for chunk in chunks), return_exceptions=True)
        for outcome in outcomes:  # every chunk has finished: an outage or a lost race is raised after all of them
            if isinstance(outcome, BaseException):
                raise outcome
            chunk_done, chunk_fallback = outcome
            done.extend(chunk_done)
            fallback_tickets.update(chunk_fallback)
        applied = set(done)
        return BatchOutcome(done=done, fallback=[e for e in entries if e.id not in applied
                                                 and (e.payload.get("ticket_id") in fallback_tickets
                                                      or f"#{e.id}" in fallback_tickets)])

    async def _write_sms(self, groups: dict[str, list[JournalEntry]]) -> tuple[list[int], set[str]]:
        """Rounds of mget, classification, multi-search and conditional bulk for some tickets' entries: the
        entries applied, and the tickets to apply one entry at a time."""
        done: list[int] = []
        fallback_tickets: set[str] = set()
        for _ in range(CONFLICT_RETRIES):
            if not groups:
                break
            current = await self.store.mget(list(groups))
            bad: set[str] = set()
            try:
                plans = await self._plan_sms(groups, current, bad)
                results = await self.store.write_many([(t, current[tid][1] if tid in current else None)
                                                       for tid, t in plans.items() if t is not None])
            except (StoreUnavailable, TicketConflict):
                raise
            except Exception as err:
                log.warning("SMS batch of %d tickets falls back to one at a time: %s", len(groups),
                            type(err).__name__)
                break
            retry: dict[str, list[JournalEntry]] = {}
            for tid, group in groups.items():
                ticket = plans.get(tid)
                outcome = "malformed entry" if tid in bad else None if ticket is None else results.get(tid, "missing")
                if outcome is None:
                    done.extend(e.id for e in group)
                    if ticket is not None and tid not in current:
                        log.info("ticket %s created (%s, urgency %s)", tid, ticket.channel, ticket.urgency)
                elif outcome == "conflict":
                    retry[tid] = group
                else:
                    log.warning("ticket %s not written in the batch (%s); one entry at a time", tid, outcome)
                    fallback_tickets.add(tid)
            groups = retry
        fallback_tickets.update(groups)
        return done, fallback_tickets

    async def _plan_sms(self, groups: Mapping[str, Sequence[JournalEntry]], current: Mapping[str, tuple[Ticket, Any]],
                        bad: set[str]) -> dict[str, Ticket | None]:
        """Each ticket after its entries (None: nothing to write; a ticket whose entries fail is added to `bad`
        and left out); the models run on all new texts at once."""
        cache: dict[str, Classification] = {}
        plans: dict[str, tuple[Ticket | None, dict[str, Any] | None]] = {}
        todo = list(groups)
        while todo:  # a ticket is folded again once the texts it stopped at are classified
            missing: dict[str, None] = {}
            incomplete = []
            for tid in todo:
                try:
                    plan = self._fold_sms(tid, groups[tid], current.get(tid, (None, None))[0], cache, missing)
                except Exception:  # a malformed entry: its ticket is applied one entry at a time
                    bad.add(tid)
                    continue
                if plan is None:
                    incomplete.append(tid)
                else:
                    plans[tid] = plan
            todo = incomplete
            if not missing:
                break
            texts = list(missing)
            results = await asyncio.to_thread(classify_many, texts, category=self.category, urgency=self.urgency)
            cache.update(zip(texts, results))
        linked = [(tid, body) for tid, (t, body) in plans.items() if t is not None and body is not None]
        related = await self.store.ids_many([body for _, body in linked])
        out = {tid: t for tid, (t, _) in plans.items()}
        for (tid, _), ids in zip(linked, related):
            ticket = out[tid]
            assert ticket is not None
            out[tid] = replace(ticket, related=tuple(ids))
        return out

    def _fold_sms(self, tid: str, group: Sequence[JournalEntry], stored: Ticket | None,
                  cache: Mapping[str, Classification], missing: dict[str, None]
                  ) -> tuple[Ticket | None, dict[str, Any] | None] | None:
        """`_upsert` of each entry in turn, in memory: the ticket to write (None: no change) and its related-
        tickets query; None when it stopped at a text not yet classified (added to `missing`)."""
        ticket, changed, body = stored, False, None
        for entry in group:
            sms = SmsReceived.from_json(entry.payload)
            base = ticket if ticket is not None else self._new_ticket(tid, Channel.SMS, sms.received_at, sms.sender)
            if sms.message_sid in base.message_sids:  # already applied (a replay): nothing to change
                continue
            step, text = self._composed(replace(base, messages=(*base.messages, sms.body),
                                                message_sids=(*base.message_sids, sms.message_sid)))
            if text is not None:
                if text not in cache:
                    missing[text] = None
                    return None
                step, body = self._classified(step, cache[text])
            ticket, changed = step, True
        return (ticket, body) if changed else (None, None)

    # --- which ticket a message joins (issue 7) --------------------------------------------------
    async def ticket_to_join(self, party: str, new_ticket_id: str, received_at: datetime, *, journal: Journal,
                             timeout_s: float) -> tuple[str, str]:
        """(id, number) of the ticket a message from `party` belongs to: their open ticket of the last 24 h,
        else the new one. Elasticsearch not answering within `timeout_s` means a new ticket now rather than a
        late answer to the webhook; nothing is lost, the message is just not joined."""
        try:
            joined = await open_ticket_of_sender(party, received_at - SMS_JOIN_WINDOW, journal=journal,
                                                 store=self.store, timeout_s=timeout_s)
        except StoreUnavailable:
            joined = None
        return joined or (new_ticket_id, ticket_number(new_ticket_id, received_at))

    async def is_check_in(self, sender: str, body: str, *, timeout_s: float) -> bool:
        """`looks_like_check_in` within `timeout_s`; an unanswered lookup counts as no (the usual reply)."""
        if self.looks_like_check_in is None:
            return False
        try:
            return await asyncio.wait_for(self.looks_like_check_in(sender, body), timeout_s)
        except Exception as err:  # only the reply's wording depends on it: never fail the webhook over a guess
            log.warning("check-in lookup for an SMS failed (%s); usual reply", type(err).__name__)
            return False

    async def sms_received(self, message: InboundMessage, *, journal: Journal, timeout_s: float) -> SmsReceived:
        """The command for an SMS, with the ticket it joins decided (its number goes into the answer)."""
        ticket_id, number = await self.ticket_to_join(message.sender, sms_ticket_id(message.message_sid),
                                                      message.received_at, journal=journal, timeout_s=timeout_s)
        return SmsReceived(message.message_sid, message.sender, message.body, ticket_id, number, message.received_at)

    # --- operators ---------------------------------------------------------------------------
    async def update(self, ticket_id: str, patch: TicketPatch, *, actor: str) -> Ticket:
        """Apply an operator's change; TicketConflict if the ticket changed since `patch.version`.

        Taking a ticket someone else holds needs the version read: without it, a page older than a
        colleague's take would silently steal the ticket (issue 13).
        """
        ticket, version = await self.store.get(ticket_id)
        if patch.version is not None and patch.version != str(version):
            raise TicketConflict(_conflict_message(ticket))
        if (patch.version is None and patch.assignee is not None and ticket.assignee
                and patch.assignee != ticket.assignee):
            raise TicketConflict(f"Phiếu {ticket.number} đang do {ticket.assignee} xử lý; gửi kèm phiên bản "
                                 "(version) đã đọc để chuyển người xử lý.")
        now = self.clock()
        changes: dict[str, Any] = {}
        if patch.status is not None and patch.status != ticket.status:
            if patch.status not in TRANSITIONS[ticket.status]:
                raise InvalidTicket(f"cannot go from {ticket.status} to {patch.status}")
            changes["status"] = patch.status
        if patch.assignee is not None and patch.assignee != ticket.assignee:
            if patch.assignee and self.assignees is not None and not await self.assignees(patch.assignee):
                raise InvalidTicket(f"'{patch.assignee}' không phải điện thoại viên đang hoạt động")
            changes["assignee"] = patch.assignee or None
            if patch.assignee and ticket.status is Status.NEW and "status" not in changes:
                changes["status"] = Status.ASSIGNED
        # An operator's category, even one confirming the model's, is a verified label for retraining; the
        # model's confidence no longer describes it (the history keeps it).
        if patch.category is not None and (patch.category != ticket.category or not ticket.category_corrected):
            changes.update(category=patch.category, category_corrected=True)
            if patch.category != ticket.category:
                changes["category_score"] = None
        if patch.follow_up_at is not None:
            changes["follow_up_at"] = patch.follow_up_at
        if patch.merged_into is not None:
            target = await self._merge_target(patch.merged_into)
            if target.id == ticket.id:
                raise InvalidTicket("a ticket cannot be merged into itself")
            if target.id != ticket.merged_into:
                changes.update(merged_into=target.id, status=Status.CLOSED)
        updated = ticket.with_change(actor, "updated", now, **changes) if changes else ticket
        if patch.note:
            updated = replace(updated, notes=(*updated.notes, Note(now, actor, patch.note)), updated_at=now)
            updated = updated.with_change(actor, "note", now)
        if updated is ticket:
            return ticket
        try:
            await self.store.save(updated, version, visible=True)
        except TicketConflict as err:  # a colleague's change landed between our read and our write
            current, _ = await self.store.get(ticket_id)
            raise TicketConflict(_conflict_message(current)) from err
        await self._audit(updated.id, updated.history[len(ticket.history):])
        if changes.get("status") is Status.RESOLVED:
            updated = await self._send_outcome(updated)
        return updated

    async def _merge_target(self, ref: str) -> Ticket:
        """The ticket `ref` names: its visible number (what operators read) or its id."""
        number = parse_ticket_number(ref)
        if number is None:
            return (await self.store.get(ref))[0]
        page = await self.store.search(queries.build_ticket_search(queries.TicketSearch(number=number, size=2)))
        if not page.tickets:
            raise TicketNotFound(f"Không có phiếu số {number}")
        return page.tickets[0]

    # --- replies to the caller ------------------------------------------------------------------
    async def _apply_reply(self, c: ReplyRequested) -> None:
        """Send an operator's SMS once: claim the key on the ticket, send (retrying), record the outcome.

        The key is claimed in the ticket's history before sending, so a replayed entry (a crash, an outage
        of Elasticsearch after the send) finds it and never sends again; an outcome that could not be
        recorded stays "sending", which the page shows as unconfirmed rather than risking a second SMS.
        """
        key, actor = c.key, c.actor
        claimed = False

        def claim(t: Ticket) -> Ticket | None:
            nonlocal claimed
            claimed = False
            if any(c.action.startswith("sms_reply") and c.after.get("key") == key for c in t.history):
                return None
            claimed = True
            return with_event(t, actor, "sms_reply_sending", self.clock(), {"key": key, "body": c.body})

        ticket = await self._upsert(c.ticket_id, _missing(c.ticket_id), claim)
        if not claimed:
            return
        await self._audit(ticket.id, [ticket.history[-1]])
        outcome: dict[str, Any] = {"key": key}
        if self.messaging is None or not ticket.caller:
            action, outcome["error"] = "sms_reply_failed", "no_messaging" if self.messaging is None else "no_caller"
        else:
            action = "sms_reply_failed"
            for attempt in range(REPLY_ATTEMPTS):
                if attempt:
                    await asyncio.sleep(self.reply_backoff_s * 2 ** (attempt - 1))
                try:
                    outcome = {"key": key, "sid": await self.messaging.send_sms(ticket.caller, c.body)}
                    action = "sms_reply_sent"
                    break
                except Exception as err:  # Twilio down or refusing: retried, then recorded for the operator
                    outcome["error"] = type(err).__name__
                    log.warning("reply SMS for ticket %s failed (attempt %d): %s", ticket.id, attempt + 1,
                                type(err).__name__)
        done = await self._upsert(ticket.id, _missing(ticket.id),
                                  lambda t: with_event(t, SYSTEM, action, self.clock(), outcome))
        await self._audit(done.id, [done.history[-1]])

    async def _audit(self, ticket_id: str, changes: Sequence[Change]) -> None:
        if self.audit is None:
            return
        for change in changes:
            try:
                await self.audit(at=change.at, actor=change.actor, action=f"ticket_{change.action}",
                                 target_type="ticket", target_id=ticket_id, before=change.before, after=change.after)
            except Exception:  # the change itself is saved, with its own history; do not fail the operator
                log.exception("audit entry for ticket %s not recorded", ticket_id)

    async def create_manual(self, report: ManualReport, *, actor: str, ticket_id: str) -> Ticket:
        """Record a report that came another way (Zalo, walk-in); classified like the rest."""
        await self.handle(ManualReported(ticket_id, report.text, report.caller, report.district, report.ward, actor,
                                         self.clock()))
        ticket, _ = await self.store.get(ticket_id)
        await self._audit(ticket.id, [Change(ticket.created_at, actor, "created", {},
                                             {"channel": ticket.channel.value, "category": ticket.category})])
        return ticket

    async def _send_outcome(self, ticket: Ticket) -> Ticket:
        if not (self.outcome_sms and self.messaging and ticket.caller and ticket.channel is not Channel.MANUAL):
            return ticket
        body = (f"Đường dây nóng 1022: phản ánh số {ticket.number} của quý vị đã được xử lý. "
                "Cảm ơn quý vị đã liên hệ.")
        try:
            await self.messaging.send_sms(ticket.caller, body)
            action = "outcome_sms_sent"
        except Exception:  # the resolution stands even if the courtesy SMS fails; it is recorded
            log.exception("outcome SMS for ticket %s failed", ticket.id)
            action = "outcome_sms_failed"
        return await self._upsert(ticket.id, lambda: ticket,
                                  lambda t: t.with_change(SYSTEM, action, self.clock()))

    # --- Zalo (issue 17) ----------------------------------------------------------------------
    async def _apply_zalo(self, c: ZaloMessage) -> None:
        party, text = party_of(c.user_id), c.text
        if c.event == "user_send_text" and self.check_in_reply is not None and await self.check_in_reply(
                party, text, c.received_at):
            return
        line = await self._zalo_line(c)
        place = self.locate(text) if c.event == "user_send_location" and text and self.locate else None

        def add(t: Ticket) -> Ticket | None:
            if c.msg_id in t.message_sids:
                return None
            t = replace(t, messages=(*t.messages, line), message_sids=(*t.message_sids, c.msg_id))
            if place is not None and t.district is None:  # a shared location beats a guess from the text
                t = t.with_change(SYSTEM, "located", self.clock(), district=place.district, ward=place.ward)
            return t
        ticket = await self._upsert(c.ticket_id, lambda: self._new_ticket(
            c.ticket_id, Channel.ZALO, c.received_at, party, actor="zalo"), add)
        if ticket.message_sids[:1] == (c.msg_id,):
            await self._zalo_ack(ticket, c.user_id)

    async def _zalo_line(self, c: ZaloMessage) -> str:
        """One message as the ticket shows it; a voice message is transcribed when a speech engine is set."""
        text = c.text
        if c.event == "user_send_image":
            return f"[Ảnh] {c.image_url or ''} {text}".strip()
        if c.event == "user_send_location":
            return f"[Vị trí] {text} ({c.latitude}, {c.longitude})".replace("  ", " ")
        if c.event == "user_send_audio":
            heard = None
            if self.speech is not None and self.zalo is not None and c.audio_url:
                try:
                    audio = await self.zalo.download_media(c.audio_url)
                    heard = (await asyncio.to_thread(self.speech.transcribe, audio)).text.strip() or None
                except (ValueError, IntakeError) as err:  # AAC voice notes do not decode: keep the link
                    log.warning("Zalo voice message %s not transcribed: %s", c.msg_id, type(err).__name__)
            return f"[Ghi âm] {heard or c.audio_url or ''}".strip()
        return text

    async def _zalo_ack(self, ticket: Ticket, user_id: str) -> None:
        if self.zalo is None or any(c.action.startswith("zalo_ack") for c in ticket.history):
            return
        try:
            await self.zalo.send_text(user_id, f"Đường dây nóng 1022 đã nhận phản ánh của quý vị. Mã phiếu: "
                                               f"{ticket.number}. Nếu nguy hiểm đến tính mạng, xin gọi 115.")
            action = "zalo_ack_sent"
        except IntakeError as err:  # the ticket stands without the courtesy message; the failure is recorded
            log.warning("Zalo acknowledgement for ticket %s failed: %s", ticket.id, type(err).__name__)
            action = "zalo_ack_failed"
        await self._upsert(ticket.id, _constant(ticket), lambda t: None if any(
            c.action.startswith("zalo_ack") for c in t.history) else t.with_change(SYSTEM, action, self.clock()))

    async def _apply_zalo_follow(self, c: ZaloFollow) -> None:
        log.info("Zalo %s event applied", c.event)
        if c.event == "follow" and self.zalo is not None:
            try:
                await self.zalo.send_text(c.user_id, "Cảm ơn quý vị đã quan tâm Đường dây nóng 1022 Bình Dương. "
                                                        "Quý vị có thể nhắn phản ánh tại đây; nếu nguy hiểm đến "
                                                        "tính mạng, xin gọi 115.")
            except IntakeError as err:
                log.warning("Zalo welcome message failed: %s", type(err).__name__)

    async def reply_zalo(self, ticket_id: str, text: str, *, actor: str) -> Ticket:
        """Send an operator's reply to the citizen of a Zalo ticket and record it as a note."""
        ticket, _ = await self.store.get(ticket_id)
        user = zalo_user_of(ticket.caller)
        if user is None:
            raise InvalidTicket("phiếu này không đến từ Zalo")
        if self.zalo is None:
            raise InvalidTicket("Zalo OA chưa được cấu hình (ZALO_APP_ID, token)")
        message_id = await self.zalo.send_text(user, text)
        now = self.clock()
        updated = await self._upsert(ticket.id, _constant(ticket), lambda t: replace(
            t, notes=(*t.notes, Note(now, actor, f"[Trả lời qua Zalo] {text}"))).with_change(actor, "zalo_reply", now))
        await self._audit(ticket.id, [Change(now, actor, "zalo_reply", {}, {"message_id": message_id})])
        return updated

    # --- escalation ----------------------------------------------------------------------------
    def _mark_escalated(self, ticket: Ticket) -> Ticket | None:
        if ticket.escalated_at is not None:
            return None
        now = self.clock()
        return ticket.with_change(SYSTEM, "escalated", now, escalated_at=now)

    async def escalate_overdue(self) -> list[str]:
        """SMS the on-call numbers about untaken emergencies past their SLA; record it on each ticket."""
        if not (self.on_call and self.messaging):
            return []
        page = await self.store.search(queries.build_overdue_emergencies(self.clock()))
        done = []
        for ticket in page.tickets:
            if self.claim_escalation is not None and not await self.claim_escalation(ticket.id):
                continue  # another replica is sending this one
            late = int((self.clock() - (ticket.sla_due_at or ticket.created_at)).total_seconds() // 60)
            body = (f"[1022] KHẨN CẤP chưa có người nhận: phiếu {ticket.number}"
                    f"{', ' + ticket.district if ticket.district else ''}, quá hạn {late} phút. "
                    f"{redact(ticket.text)[:80]}")
            sent = []
            for number in self.on_call:
                try:
                    await self.messaging.send_sms(number, body)
                    sent.append(mask_phone(number))
                except Exception:  # one failing number must not stop the others
                    log.exception("escalation SMS for ticket %s to %s failed", ticket.id, mask_phone(number))
            if sent:
                await self._upsert(ticket.id, _constant(ticket), self._mark_escalated)
                done.append(ticket.id)
                log.warning("ticket %s escalated to %d on-call numbers", ticket.id, len(sent))
        return done


def _conflict_message(ticket: Ticket) -> str:
    """The 409 people read: who holds the ticket now (issue 13)."""
    holder = f" Người xử lý hiện tại: {ticket.assignee}." if ticket.assignee else ""
    return f"Phiếu {ticket.number} vừa được cập nhật bởi người khác.{holder} Tải lại trang để xem thay đổi."


def _missing(ticket_id: str) -> Callable[[], Ticket]:
    def fail() -> Ticket:
        raise TicketNotFound(f"no ticket {ticket_id}")
    return fail


def _constant(ticket: Ticket) -> Callable[[], Ticket]:
    return lambda: ticket


async def open_ticket_of_sender(sender: str, since: datetime, *, journal: Journal, store: TicketStore,
                                timeout_s: float) -> tuple[str, str] | None:
    """The sender's newest open ticket since `since` as (id, number): the journal first, Elasticsearch if needed.

    The journal holds every call and SMS this process accepted, including those the worker has not stored
    yet (which the Elasticsearch search cannot see), and answers in microseconds. A journaled ticket still
    pending is open; one already stored is checked with a real-time get, because an operator may have closed
    it. Only when the journal knows nothing, or its ticket was closed, does the search run: it also finds
    tickets that did not come through this journal (manual reports, another process).
    Raises StoreUnavailable when Elasticsearch must be asked and does not answer within `timeout_s`.
    (issue 7)
    """
    recent = journal.recent_ticket_of(sender, since)
    if recent is not None and (
            recent.pending or await store.status_of(recent.ticket_id, timeout_s=timeout_s) in OPEN_STATUSES):
        return recent.ticket_id, recent.number
    ticket = await store.open_ticket_of(sender, since, timeout_s=timeout_s)
    return (ticket.id, ticket.number) if ticket is not None else None


def call_ticket_id(call_sid: str) -> str:
    """Calls map to tickets deterministically, so replays and retries land on the same ticket."""
    return f"call-{call_sid}"


def zalo_ticket_id(msg_id: str) -> str:
    """A new Zalo ticket is named after its first message."""
    return f"zalo-{msg_id}"


def sms_ticket_id(message_sid: str) -> str:
    """A new SMS ticket is named after its first message."""
    return f"sms-{message_sid}"
