"""Collectors: one small class per kind of source, all with one interface (`collect(cursor) -> Batch`).

A collector only reads; the scheduler (social_monitor/scheduler.py) decides when, journals the batch with
its cursor, and records failures. Every failure a collector knows about is a `SourceFailed` with a one-line
message an operator can act on ("token expired", "HTTP 500", "not a feed").
"""
from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, Protocol

import feedparser

from classifier.text import mask_pii
from social_monitor.errors import SourceFailed
from social_monitor.records import TICKET_SOURCE, Attachment, RawPost, clamp_count, parse_time
from social_monitor.store import SocialStore

MAX_PAGES: Final = 10
"""Graph API pages read per run: a page that has been quiet for a week must not be read to its beginning."""
GRAPH_FIELDS: Final = ("id,message,created_time,permalink_url,from,shares,"
                       "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),"
                       "attachments{media_type,media,url}")
_TAG: Final = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class Batch:
    """What one run of a collector found, and the cursor to start from next time."""

    posts: tuple[RawPost, ...]
    cursor: str | None


class Collector(Protocol):
    """A source of posts, read on a schedule."""

    name: str
    kind: str
    interval_s: float

    async def collect(self, cursor: str | None) -> Batch:
        """Posts newer than `cursor` (all of them if None); raises SourceFailed."""
        ...


class Fetched(Protocol):
    """A fetched response (hotline.fetch.Fetched)."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> bytes: ...

    @property
    def content_type(self) -> str: ...


class Fetch(Protocol):
    """The guarded fetcher every outside URL goes through (hotline.fetch.GuardedFetcher, passed in by the
    composition root): https only, no private addresses, time and size limits. Raises ValueError when the
    URL is refused, OSError when the fetch fails; messages never carry the URL's query (tokens)."""

    async def __call__(self, url: str, *, params: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None, max_bytes: int | None = None) -> Fetched: ...


_SECRET_PARAM: Final = re.compile(r"((?:access_)?token|api_key|key|secret|password|sig(?:nature)?)=[^&\s'\"]+",
                                  re.IGNORECASE)


def scrub_secrets(text: str) -> str:
    """Blank the values of token-like URL parameters in a message (access_token=... reached GET /api/sources
    and the log, issue 14, #6)."""
    return _SECRET_PARAM.sub(r"\1=***", text)


async def _get(fetch: Fetch, url: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        fetched = await fetch(url, params=params)
    except (OSError, ValueError) as err:
        raise SourceFailed(scrub_secrets(f"cannot read {url}: {err}")) from err
    return fetched.status, fetched.body


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)


class RssCollector:
    """An RSS or Atom feed (news sites, official pages); the cursor is the newest publication time seen."""

    kind = "rss"

    def __init__(self, name: str, url: str, fetch: Fetch, *, interval_s: float) -> None:
        self.name, self.url, self.interval_s = name, url, interval_s
        self._fetch = fetch

    async def collect(self, cursor: str | None) -> Batch:
        """Read the feed; entries published before the cursor are skipped (ties are dropped by the journal)."""
        status, body = await _get(self._fetch, self.url)
        if status >= 400:
            raise SourceFailed(f"HTTP {status} from {self.url}")
        feed = await asyncio.to_thread(feedparser.parse, body)
        if feed.bozo and not feed.entries:
            raise SourceFailed(f"malformed feed at {self.url}: {feed.get('bozo_exception', 'not RSS or Atom')}")
        since = datetime.fromisoformat(cursor) if cursor else None
        newest, posts = since, []
        for entry in feed.entries:
            post = self._post(entry)
            if post is None or (since and post.published_at and post.published_at < since):
                continue
            posts.append(post)
            newest = _later(newest, post.published_at)
        return Batch(tuple(posts), newest.isoformat() if newest else cursor)

    def _post(self, entry: Any) -> RawPost | None:
        source_id = entry.get("id") or entry.get("link")
        text = ". ".join(p for p in (_plain(entry.get("title", "")), _plain(entry.get("summary", ""))) if p)
        if not source_id or not text:
            return None
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime(*parsed[:6]).replace(tzinfo=timezone.utc) if parsed else None
        media = tuple(Attachment(str(e.get("type", "")).split("/")[0], str(e["href"]))
                      for e in entry.get("enclosures", []) if e.get("href"))
        return RawPost(self.name, str(source_id), text, url=entry.get("link"), author=entry.get("author"),
                       published_at=published, attachments=media)


class FacebookCollector:
    """A Facebook page or group feed through the Graph API; the cursor is the newest `created_time` (Unix)."""

    kind = "facebook"

    def __init__(self, name: str, node_id: str, fetch: Fetch, *, access_token: str,
                 graph_base: str, interval_s: float) -> None:
        self.name, self.node_id, self.interval_s = name, node_id, interval_s
        self._fetch, self._token, self._base = fetch, access_token, graph_base.rstrip("/")

    async def collect(self, cursor: str | None) -> Batch:
        """Read the feed newest first, following `paging.cursors.after`, down to the cursor."""
        if not self._token:
            raise SourceFailed("FACEBOOK_ACCESS_TOKEN is not set")
        params = {"fields": GRAPH_FIELDS, "limit": "100", "access_token": self._token}
        if cursor:
            params["since"] = cursor
        posts: list[RawPost] = []
        newest = int(cursor) if cursor else None
        for _ in range(MAX_PAGES):
            page = await self._page(params)
            for item in page.get("data", []):
                post = self._post(item)
                if post is not None:
                    posts.append(post)
                    stamp = int(post.published_at.timestamp()) if post.published_at else None
                    newest = max((t for t in (newest, stamp) if t is not None), default=None)
            after = (page.get("paging") or {}).get("cursors", {}).get("after")
            if not after or not (page.get("paging") or {}).get("next"):
                break
            params = {**params, "after": after}
        return Batch(tuple(posts), str(newest) if newest is not None else cursor)

    async def _page(self, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self._base}/{self.node_id}/feed"
        status, body = await _get(self._fetch, url, params)
        try:
            data = json.loads(body)
        except ValueError as err:
            raise SourceFailed(f"HTTP {status} from the Graph API, not JSON") from err
        if not isinstance(data, dict):
            raise SourceFailed(f"HTTP {status} from the Graph API, unexpected JSON")
        if "error" in data:
            error = data["error"] if isinstance(data["error"], dict) else {}
            if error.get("code") == 190:
                raise SourceFailed(scrub_secrets(f"Facebook access token expired or invalid (OAuthException 190): "
                                                 f"{error.get('message', '')}".strip()))
            raise SourceFailed(scrub_secrets(f"Graph API error {error.get('code')} ({error.get('type')}): "
                                             f"{error.get('message')}"))
        if status >= 400:
            raise SourceFailed(f"HTTP {status} from the Graph API")
        return data

    def _post(self, item: dict[str, Any]) -> RawPost | None:
        attachments = [a for a in (item.get("attachments") or {}).get("data", []) if isinstance(a, dict)]
        media = tuple(Attachment(str(a.get("media_type", "")), str((a.get("media") or {}).get("source") or a["url"]))
                      for a in attachments if a.get("media_type") in ("video", "audio") and
                      ((a.get("media") or {}).get("source") or a.get("url")))
        text = (item.get("message") or "").strip()
        if not item.get("id") or (not text and not media):
            return None
        return RawPost(self.name, str(item["id"]), text, url=item.get("permalink_url"),
                       author=(item.get("from") or {}).get("name"),
                       published_at=parse_time(item.get("created_time", "").replace("+0000", "+00:00"), "created_time"),
                       likes=_total(item.get("reactions")), comments=_total(item.get("comments")),
                       shares=clamp_count((item.get("shares") or {}).get("count")), attachments=media)


def _total(edge: Any) -> int | None:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return clamp_count(summary["total_count"]) if isinstance(summary, dict) and "total_count" in summary else None


class TicketCollector:
    """Hotline tickets of category misinformation_report: citizens reporting a rumour are mentions of it."""

    kind = "hotline"

    def __init__(self, store: SocialStore, *, name: str = TICKET_SOURCE, interval_s: float = 60.0) -> None:
        self.name, self.interval_s = name, interval_s
        self._store = store

    async def collect(self, cursor: str | None) -> Batch:
        """Tickets created after the cursor (their creation time), oldest first."""
        tickets = await self._store.misinformation_tickets(datetime.fromisoformat(cursor) if cursor else None)
        # Comms and leaders read these copies: callers' phone and ID numbers are masked (issue 14, #7).
        posts = tuple(RawPost(self.name, t.id, mask_pii(t.text), published_at=t.created_at) for t in tickets if t.text)
        return Batch(posts, tickets[-1].created_at.isoformat() if tickets else cursor)


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One configured source: `name=target[@seconds]` in SOCIAL_FEEDS or FACEBOOK_FEEDS."""

    name: str
    target: str
    interval_s: float


def parse_sources(raw: str, *, default_interval_s: float) -> list[SourceSpec]:
    """'baobd=https://x/rss@600,ubnd=https://y/atom' -> specs; raises ValueError on a bad entry."""
    specs: list[SourceSpec] = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, target = item.partition("=")
        interval = default_interval_s
        head, at, tail = target.rpartition("@")
        if at and tail.isdigit():
            target, interval = head, float(tail)
        if not sep or not name.strip() or not target.strip() or interval <= 0:
            raise ValueError(f"bad source {item!r}: expected name=target or name=target@seconds")
        specs.append(SourceSpec(name.strip(), target.strip(), interval))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("source names must be unique")
    return specs


def describe(collectors: Sequence[Collector]) -> list[tuple[str, str]]:
    """(name, kind) of each collector, to register them in the journal."""
    return [(c.name, c.kind) for c in collectors]
