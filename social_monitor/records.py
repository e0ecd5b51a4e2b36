"""Typed records of collected posts: what a source hands over (RawPost) and what is indexed (Post)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Final

from hotline.kernel.records import LOCAL_TZ
from social_monitor.errors import InvalidPost

MAX_TEXT: Final = 20_000
MEDIA_KINDS: Final = frozenset({"audio", "video"})
TICKET_SOURCE: Final = "hotline-tickets"
"""The source name of hotline tickets reporting misinformation (they count on claims as tickets, not posts)."""


def parse_time(value: Any, name: str) -> datetime | None:
    """ISO 8601 (or a Unix timestamp) -> aware datetime; a time without offset is Vietnam time."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            parsed = datetime.fromtimestamp(value, timezone.utc)
        except (ValueError, OverflowError, OSError) as err:
            raise InvalidPost(f"'{name}' is not a usable Unix time") from err
    elif not isinstance(value, str) or not value.isascii():
        raise InvalidPost(f"'{name}' must be an ISO 8601 date-time")
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as err:
            raise InvalidPost(f"'{name}' must be an ISO 8601 date-time, got {value[:40]!r}") from err
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidPost(f"'{name}' must be between the years {MIN_YEAR} and {MAX_YEAR}")
    # Exports from Zalo and partner tools often carry local times without an offset: they mean Vietnam time.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


MAX_COUNT: Final = 10**12
"""Likes, comments or shares above this are refused: no post has them, and their sum (a claim's reach) must
stay within Elasticsearch's long (`likes: 1e30` stopped all social ingest, issue 14, #4)."""
MAX_ATTACHMENTS: Final = 10
"""Attachments per post at most: each may be fetched and transcribed, which delays the posts behind it."""
MIN_YEAR, MAX_YEAR = 2000, 2100
"""Dates outside these years are typing errors or attacks (year 9999 overflowed date arithmetic)."""


def clamp_count(value: Any) -> int | None:
    """A count as a source reported it, forced into 0..MAX_COUNT; None if it is not a number."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return max(0, min(number, MAX_COUNT))


def _count(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())  # ASCII digits only: "１２" and "١٢" are not counts
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        raise InvalidPost(f"'{name}' must be a whole number from 0 to {MAX_COUNT:,}")
    return value


def _encodable(data: Mapping[str, Any]) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
        return False
    return True


def _text(data: Mapping[str, Any], name: str, *, max_len: int = 500) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or len(str(value)) > max_len:
        raise InvalidPost(f"'{name}' must be a string of at most {max_len} characters")
    return str(value).strip() or None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A media file attached to a post; audio and video are transcribed when a speech engine is configured."""

    kind: str
    url: str

    @property
    def is_media(self) -> bool:
        """Whether the attachment has speech in it worth transcribing."""
        return self.kind in MEDIA_KINDS


RAW_FIELDS: Final = frozenset({"id", "source", "text", "url", "author", "published_at", "likes", "comments",
                               "shares", "attachments"})


@dataclass(frozen=True, slots=True)
class RawPost:
    """A post as a source hands it over, validated; `(source, source_id)` identifies it for ever."""

    source: str
    source_id: str
    text: str
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def key(self) -> str:
        """The post's identity across restarts and re-deliveries (the journal's unique key)."""
        return post_id(self.source, self.source_id)

    @classmethod
    def from_json(cls, data: Any, *, default_source: str) -> RawPost:
        """Validate one pushed or imported post (see README, "Social monitor", for the shape)."""
        if not isinstance(data, dict):
            raise InvalidPost("each post must be a JSON object")
        unknown = set(data) - RAW_FIELDS
        if unknown:
            raise InvalidPost(f"unknown fields: {', '.join(sorted(unknown))}")
        source_id = _text(data, "id", max_len=200)
        if not source_id:
            raise InvalidPost("'id' (the post's id at its origin) is required")
        text = data.get("text") or ""
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise InvalidPost(f"'text' must be a string of at most {MAX_TEXT} characters")
        if not _encodable(data):  # "\ud800" cannot be written to the journal or Elasticsearch (issue 14, #9)
            raise InvalidPost("the post holds an unpaired surrogate (\\ud800-\\udfff)")
        attachments = data.get("attachments") or []
        if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
            raise InvalidPost(f"'attachments' may list at most {MAX_ATTACHMENTS}")
        if not isinstance(attachments, list) or not all(
                isinstance(a, dict) and isinstance(a.get("type"), str) and isinstance(a.get("url"), str)
                for a in attachments):
            raise InvalidPost("'attachments' must be a list of {\"type\", \"url\"} objects")
        parsed = tuple(Attachment(a["type"].lower(), a["url"]) for a in attachments)
        if not text.strip() and not any(a.is_media for a in parsed):
            raise InvalidPost("a post needs 'text' or an audio/video attachment")
        return cls(source=_text(data, "source", max_len=100) or default_source, source_id=source_id,
                   text=text.strip(), url=_text(data, "url", max_len=2000), author=_text(data, "author"),
                   published_at=parse_time(data.get("published_at"), "published_at"),
                   likes=_count(data, "likes"), comments=_count(data, "comments"), shares=_count(data, "shares"),
                   attachments=parsed)

    def as_json(self) -> dict[str, Any]:
        """The journal's form; `from_json` reads it back."""
        return {"id": self.source_id, "source": self.source, "text": self.text, "url": self.url,
                "author": self.author, "published_at": _iso(self.published_at), "likes": self.likes,
                "comments": self.comments, "shares": self.shares,
                "attachments": [{"type": a.kind, "url": a.url} for a in self.attachments]}


def post_id(source: str, source_id: str) -> str:
    """A fixed-length document id (origin ids can be URLs far longer than a comfortable key)."""
    return hashlib.sha1(f"{source}\x00{source_id}".encode()).hexdigest()[:24]


def content_hash(folded: str) -> str:
    """The same words in the same order, whatever the accents, case, spacing or punctuation."""
    return hashlib.sha1(" ".join(folded.split()).encode()).hexdigest()


class FlagKind(StrEnum):
    """Why something was put in the review queue."""

    MODEL = "model"
    KNOWN_CLAIM = "known_claim"
    GROWTH = "growth"


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason for review; `message` is Vietnamese, for the comms team."""

    kind: FlagKind
    message: str
    score: float | None = None
    reasons: tuple[str, ...] = ()
    known_claim_id: str | None = None
    verdict: str | None = None
    correction_url: str | None = None
    growth: float | None = None

    def as_json(self) -> dict[str, Any]:
        """JSON form (stored and served)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Flag:
        """Read a stored flag back."""
        return cls(FlagKind(data["kind"]), data["message"], data.get("score"), tuple(data.get("reasons") or ()),
                   data.get("known_claim_id"), data.get("verdict"), data.get("correction_url"), data.get("growth"))


@dataclass(frozen=True, slots=True)
class Post:
    """A post as stored in the `posts` index."""

    id: str
    source: str
    source_id: str
    text: str
    collected_at: datetime
    content_hash: str
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    transcript: str | None = None
    misinformation_score: float | None = None
    score_reasons: tuple[str, ...] = ()
    claim_id: str | None = None
    known_claim_id: str | None = None
    verdict: str | None = None
    correction_url: str | None = None
    flags: tuple[Flag, ...] = ()
    duplicate_of: str | None = None
    """The post with the same content hash that was indexed first (a copy is not scored or grouped again)."""
    media: tuple[Attachment, ...] = ()
    """The post's attachments as the source gave them (links shown on the claim page; issue 11, item 5)."""
    text_segmented: str | None = field(default=None, compare=False, repr=False)
    text_folded: str | None = field(default=None, compare=False, repr=False)
    """The analysed forms of `text` (classifier.text.normalise) when already known; the store computes them
    otherwise. Carried so that indexing does not segment the text a second time."""

    @property
    def seen_at(self) -> datetime:
        """When the post appeared: its publication time when the source gives one."""
        return self.published_at or self.collected_at

    @property
    def reach(self) -> int:
        """Likes + comments + shares, counting only what the source reported."""
        return sum(n for n in (self.likes, self.comments, self.shares) if n)

    def as_doc(self, *, segmented: str, folded: str) -> dict[str, Any]:
        """The Elasticsearch document; the analysed forms come from classifier.text.normalise."""
        doc = self.as_json()
        doc["text_segmented"], doc["text_folded"] = segmented, folded
        return doc

    def as_json(self) -> dict[str, Any]:
        """The API representation (the analysed forms are for the index only)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name not in _ANALYSED}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Post:
        """Rebuild a post from its stored document."""
        return cls(
            id=doc["id"], source=doc["source"], source_id=doc["source_id"], text=doc.get("text") or "",
            collected_at=datetime.fromisoformat(doc["collected_at"]), content_hash=doc["content_hash"],
            url=doc.get("url"), author=doc.get("author"), published_at=_time(doc.get("published_at")),
            likes=doc.get("likes"), comments=doc.get("comments"), shares=doc.get("shares"),
            transcript=doc.get("transcript"), misinformation_score=doc.get("misinformation_score"),
            score_reasons=tuple(doc.get("score_reasons") or ()), claim_id=doc.get("claim_id"),
            known_claim_id=doc.get("known_claim_id"), verdict=doc.get("verdict"),
            correction_url=doc.get("correction_url"),
            flags=tuple(Flag.from_json(f) for f in doc.get("flags") or ()), duplicate_of=doc.get("duplicate_of"),
            media=tuple(Attachment(str(m["type"]), str(m["url"])) for m in doc.get("media") or ()),
            text_segmented=doc.get("text_segmented"), text_folded=doc.get("text_folded"))


_ANALYSED: Final = ("text_segmented", "text_folded")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Flag):
        return value.as_json()
    if isinstance(value, Attachment):
        return {"type": value.kind, "url": value.url}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
