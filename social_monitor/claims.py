"""Typed records of claims (groups of near-duplicate mentions), their review, and the known-claims registry."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Final

import numpy as np

from hotline.kernel.records import Change, with_change, with_event
from social_monitor.errors import InvalidClaim
from social_monitor.records import MAX_YEAR, MIN_YEAR, Flag
from social_monitor.similarity import Signature

MAX_TEXT: Final = 10_000
HOURS_KEPT: Final = 48
"""Hourly mention counts kept on a claim: enough for "last 24 h" against "the 24 h before"."""


CLAIM_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""What a claim id can look like; anything else is no claim's, and never reaches an Elasticsearch URL path."""


def is_claim_id(value: str) -> bool:
    """Whether `value` can be a claim id ("..", "." or 8,000 characters cannot: issue 14, #9)."""
    return CLAIM_ID.fullmatch(value) is not None


class ReviewState(StrEnum):
    """Where a claim is in the comms team's review (issue 5, item 4)."""

    WATCHING = "watching"
    FLAGGED = "flagged"
    IN_REVIEW = "in_review"
    VERDICT_GIVEN = "verdict_given"
    CORRECTION_PUBLISHED = "correction_published"
    DISMISSED = "dismissed"


TRANSITIONS: Final[Mapping[ReviewState, frozenset[ReviewState]]] = {
    ReviewState.WATCHING: frozenset({ReviewState.FLAGGED, ReviewState.IN_REVIEW, ReviewState.DISMISSED}),
    ReviewState.FLAGGED: frozenset({ReviewState.IN_REVIEW, ReviewState.DISMISSED}),
    ReviewState.IN_REVIEW: frozenset({ReviewState.VERDICT_GIVEN, ReviewState.DISMISSED, ReviewState.FLAGGED}),
    ReviewState.VERDICT_GIVEN: frozenset({ReviewState.CORRECTION_PUBLISHED, ReviewState.DISMISSED,
                                          ReviewState.IN_REVIEW}),
    ReviewState.CORRECTION_PUBLISHED: frozenset({ReviewState.IN_REVIEW}),
    ReviewState.DISMISSED: frozenset({ReviewState.FLAGGED, ReviewState.IN_REVIEW}),
}


class Verdict(StrEnum):
    """The comms team's conclusion about a claim."""

    FALSE = "false"
    MISLEADING = "misleading"
    TRUE = "true"
    UNVERIFIED = "unverified"


VERDICT_LABELS: Final[Mapping[Verdict, str]] = {
    Verdict.FALSE: "Sai sự thật", Verdict.MISLEADING: "Gây hiểu lầm", Verdict.TRUE: "Đúng sự thật",
    Verdict.UNVERIFIED: "Chưa kiểm chứng"}
# ClaimReview ratings on a 1-5 scale, worst first, as fact-checkers publishing to search engines use them.
VERDICT_RATINGS: Final[Mapping[Verdict, int]] = {Verdict.FALSE: 1, Verdict.MISLEADING: 2, Verdict.UNVERIFIED: 3,
                                                 Verdict.TRUE: 5}
FLAGGING_VERDICTS: Final = frozenset({Verdict.FALSE, Verdict.MISLEADING})


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim with all its mentions, as stored in the `claims` index."""

    id: str
    text: str
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime
    mention_count: int = 0
    reach: int = 0
    hourly: Mapping[str, int] = field(default_factory=dict)
    mentions_24h: int = 0
    mentions_prev_24h: int = 0
    growth_24h: float = 0.0
    max_score: float | None = None
    post_ids: tuple[str, ...] = ()
    ticket_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    signatures: tuple[Signature, ...] = ()
    known_claim_id: str | None = None
    verdict: Verdict | None = None
    correction_text: str | None = None
    correction_url: str | None = None
    flags: tuple[Flag, ...] = ()
    state: ReviewState = ReviewState.WATCHING
    history: tuple[Change, ...] = ()
    text_segmented: str | None = field(default=None, compare=False, repr=False)
    text_folded: str | None = field(default=None, compare=False, repr=False)
    """The analysed forms of `text`, when known (see Post): a claim's text never changes, so neither do they."""
    stored_bands: tuple[str, ...] = field(default=(), compare=False, repr=False)
    banded: int = field(default=0, compare=False, repr=False)
    """`stored_bands` are the band keys of the first `banded` signatures, as read from the index: signatures
    are only ever appended, so the keys of the others are the only ones left to compute."""

    @property
    def bands(self) -> tuple[str, ...]:
        """LSH band keys of every kept signature: a post sharing one is a candidate mention."""
        return tuple(dict.fromkeys((*self.stored_bands, *(b for s in self.signatures[self.banded:] for b in s.bands))))

    def with_change(self, actor: str, action: str, at: datetime, **changes: Any) -> Claim:
        """A copy with `changes` applied and recorded in the history."""
        return with_change(self, actor, action, at, **changes)

    def with_note(self, actor: str, note: str, at: datetime) -> Claim:
        """A copy with a reviewer's note in the history."""
        return with_event(self, actor, "note", at, {"note": note})

    def as_json(self) -> dict[str, Any]:
        """The API representation (signatures are internal)."""
        body = {name: _jsonable(getattr(self, name)) for name in _PUBLIC}
        body["flags"] = [f.as_json() for f in self.flags]
        return body

    def as_doc(self, *, segmented: str, folded: str) -> dict[str, Any]:
        """The Elasticsearch document, with the analysed text forms and the LSH data."""
        doc = self.as_json()
        doc["hourly"] = dict(self.hourly)
        doc["signatures"] = [v for s in self.signatures for v in s.array.tolist()]
        doc["lsh_bands"] = list(self.bands)
        doc["text_segmented"], doc["text_folded"] = segmented, folded
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], *, num_perm: int) -> Claim:
        """Rebuild a claim from its stored document."""
        flat = list(doc.get("signatures") or ())
        sigs = tuple(Signature(row) for row in np.asarray(flat, dtype=np.uint64).reshape(-1, num_perm)) if flat else ()
        return cls(
            id=doc["id"], text=doc["text"], first_seen=datetime.fromisoformat(doc["first_seen"]),
            last_seen=datetime.fromisoformat(doc["last_seen"]), updated_at=datetime.fromisoformat(doc["updated_at"]),
            mention_count=doc.get("mention_count") or 0, reach=doc.get("reach") or 0,
            hourly=dict(doc.get("hourly") or {}), mentions_24h=doc.get("mentions_24h") or 0,
            mentions_prev_24h=doc.get("mentions_prev_24h") or 0, growth_24h=doc.get("growth_24h") or 0.0,
            max_score=doc.get("max_score"), post_ids=tuple(doc.get("post_ids") or ()),
            ticket_ids=tuple(doc.get("ticket_ids") or ()), sources=tuple(doc.get("sources") or ()),
            signatures=sigs, known_claim_id=doc.get("known_claim_id"),
            verdict=Verdict(doc["verdict"]) if doc.get("verdict") else None,
            correction_text=doc.get("correction_text"), correction_url=doc.get("correction_url"),
            flags=tuple(Flag.from_json(f) for f in doc.get("flags") or ()), state=ReviewState(doc["state"]),
            history=tuple(Change.from_json(h) for h in doc.get("history") or ()),
            text_segmented=doc.get("text_segmented"), text_folded=doc.get("text_folded"),
            stored_bands=tuple(doc.get("lsh_bands") or ()), banded=len(sigs) if doc.get("lsh_bands") else 0)


_PUBLIC: Final = ("id", "text", "first_seen", "last_seen", "updated_at", "mention_count", "reach", "mentions_24h",
                  "mentions_prev_24h", "growth_24h", "max_score", "post_ids", "ticket_ids", "sources",
                  "known_claim_id", "verdict", "correction_text", "correction_url", "state", "history")


def hour_key(at: datetime) -> str:
    """The bucket of `at` in a claim's hourly counts (UTC hour)."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")


def window_counts(hourly: Mapping[str, int], now: datetime) -> tuple[int, int]:
    """Mentions in the last 24 h and in the 24 h before, from hourly buckets."""
    # Keys sort as the hours do, so each window is a range of keys (a later key is a clock-skewed future).
    newest, split, oldest = (hour_key(now - timedelta(hours=h)) for h in (0, 23, HOURS_KEPT - 1))
    return (sum(n for k, n in hourly.items() if split <= k <= newest),
            sum(n for k, n in hourly.items() if oldest <= k < split))


def prune_hours(hourly: Mapping[str, int], now: datetime) -> dict[str, int]:
    """Drop buckets older than HOURS_KEPT (they no longer affect growth)."""
    oldest = hour_key(now - timedelta(hours=HOURS_KEPT - 1))
    return {k: n for k, n in hourly.items() if k >= oldest}


def _optional_str(data: Mapping[str, Any], name: str, *, max_len: int = 500) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidClaim(f"'{name}' must be a string of at most {max_len} characters")
    return value.strip() or None


def _url(data: Mapping[str, Any], name: str) -> str | None:
    value = _optional_str(data, name, max_len=2000)
    if value is not None and not value.startswith(("https://", "http://")):
        raise InvalidClaim(f"'{name}' must be an http(s) URL")
    return value


def _verdict(data: Mapping[str, Any]) -> Verdict | None:
    value = _optional_str(data, "verdict")
    if value is not None and value not in Verdict.__members__.values():
        raise InvalidClaim(f"unknown verdict {value!r}; one of {', '.join(v.value for v in Verdict)}")
    return Verdict(value) if value else None


@dataclass(frozen=True, slots=True)
class ClaimPatch:
    """A validated PATCH /api/claims/{id} body."""

    version: str
    state: ReviewState | None = None
    verdict: Verdict | None = None
    correction_text: str | None = None
    correction_url: str | None = None
    note: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> ClaimPatch:
        """Validate the body; `version` (from GET) is required, so a stale review cannot overwrite another."""
        if not isinstance(data, dict):
            raise InvalidClaim("expected a JSON object")
        unknown = set(data) - {"version", "state", "verdict", "correction_text", "correction_url", "note"}
        if unknown:
            raise InvalidClaim(f"unknown fields: {', '.join(sorted(unknown))}")
        version = _optional_str(data, "version", max_len=40)
        if not version:
            raise InvalidClaim("'version' is required: send the version you read with GET")
        state = _optional_str(data, "state")
        if state is not None and state not in ReviewState.__members__.values():
            raise InvalidClaim(f"unknown state {state!r}")
        return cls(version, ReviewState(state) if state else None, _verdict(data),
                   _optional_str(data, "correction_text", max_len=MAX_TEXT), _url(data, "correction_url"),
                   _optional_str(data, "note", max_len=MAX_TEXT))


@dataclass(frozen=True, slots=True)
class KnownClaim:
    """A claim the comms team has checked: its verdict and the official correction."""

    id: str
    text: str
    verdict: Verdict
    reviewed_on: date
    recorded_by: str
    recorded_at: datetime
    correction_text: str | None = None
    correction_url: str | None = None

    @classmethod
    def from_json(cls, data: Any, *, id: str, actor: str, now: datetime) -> KnownClaim:
        """Validate a POST /api/known-claims body."""
        if not isinstance(data, dict):
            raise InvalidClaim("expected a JSON object")
        unknown = set(data) - {"text", "verdict", "correction_text", "correction_url", "date"}
        if unknown:
            raise InvalidClaim(f"unknown fields: {', '.join(sorted(unknown))}")
        text = _optional_str(data, "text", max_len=MAX_TEXT)
        verdict = _verdict(data)
        if not text or verdict is None:
            raise InvalidClaim("'text' and 'verdict' are required")
        raw_date = _optional_str(data, "date", max_len=10)
        try:
            if raw_date and not raw_date.isascii():
                raise ValueError("non-ASCII digits")
            reviewed_on = date.fromisoformat(raw_date) if raw_date else now.date()
        except ValueError as err:
            raise InvalidClaim("'date' must be YYYY-MM-DD") from err
        if not MIN_YEAR <= reviewed_on.year <= MAX_YEAR:
            raise InvalidClaim(f"'date' must be between the years {MIN_YEAR} and {MAX_YEAR}")
        correction_url = _url(data, "correction_url")
        if verdict in FLAGGING_VERDICTS and not correction_url:
            raise InvalidClaim("a false or misleading claim needs 'correction_url' (the official correction)")
        return cls(id, text, verdict, reviewed_on, actor, now, _optional_str(data, "correction_text", max_len=MAX_TEXT),
                   correction_url)

    def as_json(self) -> dict[str, Any]:
        """The API and stored representation."""
        return {"id": self.id, "text": self.text, "verdict": self.verdict.value, "date": self.reviewed_on.isoformat(),
                "recorded_by": self.recorded_by, "recorded_at": self.recorded_at.isoformat(),
                "correction_text": self.correction_text, "correction_url": self.correction_url}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> KnownClaim:
        """Rebuild from the stored document."""
        return cls(doc["id"], doc["text"], Verdict(doc["verdict"]), date.fromisoformat(doc["date"]),
                   doc["recorded_by"], datetime.fromisoformat(doc["recorded_at"]), doc.get("correction_text"),
                   doc.get("correction_url"))

    def as_claimreview(self, publisher: str) -> dict[str, Any]:
        """schema.org ClaimReview (https://schema.org/ClaimReview), as fact-checkers publish to search engines."""
        review: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "ClaimReview", "inLanguage": "vi",
            "claimReviewed": self.text, "datePublished": self.reviewed_on.isoformat(),
            "author": {"@type": "Organization", "name": publisher},
            "reviewRating": {"@type": "Rating", "ratingValue": VERDICT_RATINGS[self.verdict], "bestRating": 5,
                             "worstRating": 1, "alternateName": VERDICT_LABELS[self.verdict]},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Organization", "name": "Mạng xã hội"}},
        }
        if self.correction_url:
            review["url"] = self.correction_url
        return review


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Change):
        return value.as_json()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
