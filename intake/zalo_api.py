"""The Zalo OA API calls intake makes: send a consultation ("tư vấn") text, refresh the token pair, fetch media.

Tokens (docs/zalo-oa.md §3): an access token lives 25 h, a refresh token 3 months, and a refresh token is
single-use: every refresh returns a new pair and kills the old refresh token. So the pair is refreshed
before the access token expires, under a lock (in this process) and an flock on the token file (against
`hotline worker` in another process), and written atomically (temp file, fsync, rename) before it is used:
a crash between refresh and write would otherwise strand the hotline with a dead refresh token.
Errors come back as HTTP 200 with a negative `error`; -216/-220 (bad or expired token) refresh once and retry.
Tokens and the App secret never appear in logs or in exceptions. (issue 17)
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp

from hotline.kernel.errors import Upstream
from intake.errors import IntakeError
from intake.twilio_api import Fetch

log = logging.getLogger(__name__)

TIMEOUT: Final = aiohttp.ClientTimeout(total=20)
REFRESH_MARGIN: Final = timedelta(hours=1)
"""Refresh this long before the access token expires, so a slow Zalo never leaves us with a dead one."""
TOKEN_ERRORS: Final = frozenset({-216, -220})
MAX_TEXT: Final = 2000
MAX_MEDIA_BYTES: Final = 20 * 1024 * 1024
# What people are told when Zalo refuses; the English message from Zalo goes to the log only.
REFUSALS: Final = {
    -230: "Người dân đã quá 7 ngày không nhắn cho OA, Zalo không cho gửi tin tư vấn. Hãy gọi điện.",
    -232: "Người dân chưa tương tác với OA hoặc đã quá hạn, Zalo không cho gửi tin tư vấn. Hãy gọi điện.",
    -227: "Tài khoản Zalo của người dân bị khóa hoặc không hoạt động.",
    -213: "Người dân chưa quan tâm OA.",
    -32: "Đã vượt giới hạn gọi API của Zalo, thử lại sau ít phút.",
}


class ZaloApiError(IntakeError, Upstream):
    """Zalo refused a request or could not be reached (502)."""

    def __init__(self, message: str, zalo_code: int | None = None) -> None:
        super().__init__(message)
        self.zalo_code = zalo_code


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token, the refresh token that replaces it, and when the access token expires."""

    access_token: str
    refresh_token: str
    expires_at: datetime

    def __repr__(self) -> str:  # never print the tokens
        return f"TokenPair(expires_at={self.expires_at.isoformat()})"


class TokenFile:
    """The current pair on disk (0600), replaced atomically; an flock serialises refreshes across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> TokenPair | None:
        """The stored pair, or None if there is none yet."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return TokenPair(data["access_token"], data["refresh_token"], datetime.fromisoformat(data["expires_at"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as err:
            raise ZaloApiError(f"the Zalo token file {self.path} is unreadable: {type(err).__name__}") from err

    def save(self, pair: TokenPair) -> None:
        """Write the pair durably before anyone uses it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"access_token": pair.access_token, "refresh_token": pair.refresh_token,
                       "expires_at": pair.expires_at.isoformat()}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold an exclusive lock on a sibling lock file; waiting for it happens in a thread, not on the loop."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class ZaloApi:
    """Authenticated calls to the OA API at `api_base` and the OAuth server at `oauth_base`."""

    def __init__(self, session: aiohttp.ClientSession, *, api_base: str, oauth_base: str, app_id: str,
                 app_secret: str, tokens: TokenFile, initial: TokenPair | None = None,
                 fetch: Fetch, media_hosts: tuple[str, ...] = (),
                 clock: Callable[[], datetime] | None = None) -> None:
        self._session = session
        self._fetch = fetch
        self._api = api_base.rstrip("/")
        self._oauth = oauth_base.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._tokens = tokens
        self._initial = initial
        self._media_hosts = media_hosts
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = asyncio.Lock()
        self._pair: TokenPair | None = None

    async def _current(self) -> TokenPair:
        if self._pair is None:
            self._pair = await asyncio.to_thread(self._tokens.load)
            if self._pair is None and self._initial is not None:
                await asyncio.to_thread(self._tokens.save, self._initial)
                self._pair = self._initial
            if self._pair is None:
                raise ZaloApiError("no Zalo tokens: set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN")
        return self._pair

    async def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed first if it expires within the margin (or if forced)."""
        async with self._lock:
            pair = await self._current()
            if force_refresh or pair.expires_at - REFRESH_MARGIN <= self._clock():
                pair = await self._refresh(pair)
            return pair.access_token

    async def _refresh(self, seen: TokenPair) -> TokenPair:
        async with self._tokens.locked():
            stored = await asyncio.to_thread(self._tokens.load)
            if stored is not None and stored.refresh_token != seen.refresh_token:
                self._pair = stored  # another process refreshed meanwhile; its pair is the live one
                return stored
            pair = await self._post_refresh(seen.refresh_token)
            await asyncio.to_thread(self._tokens.save, pair)
        self._pair = pair
        log.info("Zalo access token refreshed; expires %s", pair.expires_at.isoformat())
        return pair

    async def _post_refresh(self, refresh_token: str) -> TokenPair:
        url = f"{self._oauth}/v4/oa/access_token"
        form = {"refresh_token": refresh_token, "app_id": self._app_id, "grant_type": "refresh_token"}
        try:
            async with self._session.post(url, data=form, headers={"secret_key": self._app_secret},
                                          timeout=TIMEOUT) as resp:
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            raise ZaloApiError(f"Zalo token refresh failed: {type(err).__name__}") from err
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            code = body.get("error") if isinstance(body, dict) else None
            raise ZaloApiError(f"Zalo refused the token refresh (error {code})", code if isinstance(code, int) else None)
        try:
            lifetime = int(str(body.get("expires_in", "90000")))  # a string in Zalo's own example
        except ValueError:
            lifetime = 90000
        return TokenPair(str(body["access_token"]), str(body["refresh_token"]),
                         self._clock() + timedelta(seconds=lifetime))

    async def send_text(self, user_id: str, text: str) -> str:
        """Send a consultation text to an OA-scoped user id; returns Zalo's message_id."""
        if not text.strip():
            raise ZaloApiError("empty message")
        body = {"recipient": {"user_id": user_id}, "message": {"text": text[:MAX_TEXT]}}
        for attempt in (1, 2):
            token = await self.access_token(force_refresh=attempt == 2)
            answer = await self._post_json(f"{self._api}/v3.0/oa/message/cs", body, token)
            code = answer.get("error", 0)
            if code == 0 and isinstance(answer.get("data"), dict):
                return str(answer["data"].get("message_id", ""))
            if code in TOKEN_ERRORS and attempt == 1:
                log.warning("Zalo said the access token is invalid (%s); refreshing once", code)
                continue
            log.warning("Zalo refused a message: error %s %s", code, str(answer.get("message", ""))[:200])
            raise ZaloApiError(REFUSALS.get(code, f"Zalo từ chối gửi tin (mã lỗi {code})."),
                               code if isinstance(code, int) else None)
        raise AssertionError("unreachable")

    async def _post_json(self, url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            async with self._session.post(url, json=body, headers={"access_token": token},
                                          timeout=TIMEOUT) as resp:
                if resp.status == 401:  # some report HTTP 401 for an expired token: treat it like -216
                    return {"error": -216, "message": "HTTP 401"}
                if resp.status >= 300:
                    raise ZaloApiError(f"Zalo answered HTTP {resp.status}")
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            raise ZaloApiError(f"Zalo could not be reached: {type(err).__name__}") from err
        if not isinstance(answer, dict):
            raise ZaloApiError("Zalo answered something that is not a JSON object")
        return answer

    async def download_media(self, url: str) -> bytes:
        """A voice message or image from Zalo's CDN: only from ZALO_MEDIA_HOSTS, and like every URL that came
        from outside, through the guarded fetcher (public addresses, size and time limits, redirects checked)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("https", "http") or not any(host == h or host.endswith("." + h)
                                                             for h in self._media_hosts):
            raise ZaloApiError("refusing to fetch media from outside ZALO_MEDIA_HOSTS")
        try:
            fetched = await self._fetch(url, max_bytes=MAX_MEDIA_BYTES)
        except ValueError as err:  # refused by the fetch policy
            raise ZaloApiError(f"media download refused: {err}") from err
        except OSError as err:
            raise ZaloApiError(f"media download failed: {type(err).__name__}") from err
        if fetched.status != 200:
            raise ZaloApiError(f"media download answered {fetched.status}")
        return fetched.body
