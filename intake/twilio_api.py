"""The two calls intake makes to Twilio's REST API: fetch a recording, send an SMS.

Kept to plain HTTP (aiohttp) rather than the twilio REST client so the API base is one setting that tests
point at a local server with recorded responses, and so the recording download can be restricted to it.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final, Protocol
from urllib.parse import urlsplit

import aiohttp

from hotline.kernel.errors import Upstream
from intake.errors import IntakeError

log = logging.getLogger(__name__)

TIMEOUT: Final = aiohttp.ClientTimeout(total=30)


class TwilioApiError(IntakeError, Upstream):
    """Twilio's API refused a request or could not be reached."""


class Fetched(Protocol):
    """A fetched response (hotline.fetch.Fetched)."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> bytes: ...


class Fetch(Protocol):
    """The guarded fetcher for URLs that came from outside (hotline.fetch.GuardedFetcher, passed in by the
    composition root). Raises ValueError when the URL is refused, OSError when the fetch fails."""

    async def __call__(self, url: str, *, params: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None, max_bytes: int | None = None) -> Fetched: ...


class TwilioApi:
    """Authenticated calls to Twilio's REST API at `api_base`."""

    def __init__(self, session: aiohttp.ClientSession, *, api_base: str, account_sid: str, auth_token: str,
                 from_number: str, fetch: Fetch) -> None:
        self._session = session
        self._fetch = fetch
        self._base = api_base.rstrip("/")
        self._account_sid = account_sid
        self._auth = {"Authorization": aiohttp.encode_basic_auth(account_sid, auth_token)}
        self._from = from_number

    async def download_recording(self, url: str) -> bytes:
        """The recording as WAV; only from the configured API host with its scheme, never from an arbitrary URL.

        The URL comes in a webhook; the credentials go with the request, so plain http (or another host)
        would hand them out (issue 14, #12). The guarded fetcher also refuses http unless the host is listed
        in FETCH_HTTP_HOSTS, and drops the credentials on a redirect to another host.
        """
        wanted, given = urlsplit(self._base), urlsplit(url)
        if (given.scheme, given.netloc) != (wanted.scheme, wanted.netloc) or given.scheme not in ("https", "http"):
            raise TwilioApiError(f"refusing to download a recording from outside {self._base}")
        wav = url if url.endswith(".wav") else f"{url}.wav"
        try:
            fetched = await self._fetch(wav, headers=self._auth)
        except ValueError as err:
            raise TwilioApiError(f"refusing to download the recording: {err}") from err
        except OSError as err:
            raise TwilioApiError(f"recording download failed: {err}") from err
        if fetched.status != 200:
            raise TwilioApiError(f"recording download answered {fetched.status}")
        return fetched.body

    async def send_sms(self, to: str, body: str) -> str:
        """Send an SMS from the hotline's number; returns the message SID."""
        url = f"{self._base}/2010-04-01/Accounts/{self._account_sid}/Messages.json"
        try:
            async with self._session.post(url, data={"To": to, "From": self._from, "Body": body},
                                          headers=self._auth, timeout=TIMEOUT) as resp:
                payload = await resp.json(content_type=None)
                if resp.status >= 300:
                    raise TwilioApiError(f"SMS refused ({resp.status}): {payload.get('message', '')}")
                return str(payload["sid"])
        except aiohttp.ClientError as err:
            raise TwilioApiError(f"SMS failed: {type(err).__name__}") from err
