"""The one guarded fetcher for URLs that came from outside: post attachments, RSS enclosures, feeds, recordings.

Issue 14, #5 and #12: any scheme-valid URL was fetched, redirects followed, including 127.0.0.1 (the
Elasticsearch node), for up to 120 s and 50 MB. Here:
- https only; plain http only for hosts listed in FETCH_HTTP_HOSTS;
- no private, loopback, link-local (cloud metadata 169.254.169.254), shared, reserved or multicast
  address, checked on the addresses the connection actually uses: the connector's resolver refuses them
  after DNS resolution, so a name that resolves (or re-resolves) to one is refused too. Hosts or networks in
  FETCH_PRIVATE_HOSTS are exempt (a local test server, an intranet feed);
- redirects are followed by hand, at most 5, each re-checked; credentials never follow a redirect to
  another host;
- one time limit for the whole fetch (redirects included) and a size limit on the body as read.

Why here: the domains (social_monitor, intake) may not import hotline/, so each declares the small
protocol it needs (`social_monitor.collectors.Fetch`, `intake.twilio_api.Fetch`) and the composition root
passes this implementation in. The errors are a ValueError (refused by policy) and an OSError (failed),
which the domains catch without knowing this module.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
CHUNK: Final = 64 * 1024


class FetchRefused(ValueError):
    """The URL (or a redirect, or the body's size) is not allowed by the fetch policy."""


class FetchFailed(OSError):
    """The fetch did not complete: unreachable, timed out, too many redirects."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What outside URLs may be fetched, and how much of them."""

    http_hosts: frozenset[str] = frozenset()
    private_hosts: tuple[str, ...] = ()
    """Host names (as URLs write them) and addresses or networks (10.1.0.0/16, for URLs written with a literal
    address) exempt from the public-address rule."""
    max_bytes: int = 50 * 1024 * 1024
    timeout_s: float = 60.0
    max_redirects: int = 5
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        networks = []
        for item in self.private_hosts:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue  # a host name: matched by name
        object.__setattr__(self, "_networks", tuple(networks))

    def check_url(self, url: URL) -> None:
        """Refuse a URL by scheme, host or a literal address; names are checked when they resolve."""
        host = (url.host or "").lower()
        if not host:
            raise FetchRefused("URL without a host")
        if url.scheme != "https" and not (url.scheme == "http" and host in self.http_hosts):
            raise FetchRefused(f"only https URLs are fetched, not {url.scheme or 'no scheme'}://{host}")
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self.check_address(host, str(literal))

    def check_address(self, host: str, address: str) -> None:
        """Refuse an address that is not public, unless the host or the address is exempt."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_global and not ip.is_multicast:
            return
        # Exempt by the host as the URL writes it: a listed name, or a literal address in a listed network.
        # A name that merely resolves into a listed network is not exempt (DNS can be made to say anything).
        if host.lower() in self.private_hosts or (_is_literal(host) and any(ip in net for net in self._networks)):
            return
        raise FetchRefused(f"{host} resolves to a non-public address")


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class GuardedResolver(AbstractResolver):
    """DNS resolution that refuses non-public addresses: the check holds for the address actually used."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        """Resolve `host`; raise FetchRefused if any of its addresses is not allowed."""
        found = await self._inner.resolve(host, port, family)
        for item in found:
            self._policy.check_address(host, item["host"])
        return found

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched response: status, body (within the size limit), content type, final URL without its query."""

    status: int
    body: bytes
    content_type: str
    url: str


def safe_url(url: URL | str) -> str:
    """A URL for messages and logs: no user info, no query (tokens such as access_token live there)."""
    parsed = URL(str(url))
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


class GuardedFetcher:
    """Fetches outside URLs under a FetchPolicy, with a session of its own (its resolver does the checks)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # created on first use, inside the running loop
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.policy), limit=20)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self._session

    async def __call__(self, url: str, *, params: Mapping[str, str] | None = None,
                       headers: Mapping[str, str] | None = None, max_bytes: int | None = None) -> Fetched:
        """GET `url` (with `params` added to its query); raises FetchRefused or FetchFailed."""
        limit = min(max_bytes or self.policy.max_bytes, self.policy.max_bytes)
        try:
            current = URL(url)
        except (ValueError, TypeError) as err:
            raise FetchRefused("not a URL") from err
        if params:
            current = current.update_query(dict(params))
        sent = dict(headers or {})
        try:
            async with asyncio.timeout(self.policy.timeout_s):
                for _ in range(self.policy.max_redirects + 1):
                    self.policy.check_url(current)
                    async with self._client().get(current, headers=sent, allow_redirects=False) as resp:
                        location = resp.headers.get("Location")
                        if resp.status in REDIRECTS and location:
                            following = current.join(URL(location))
                            if following.host != current.host:  # credentials stay with the host they are for
                                sent = {k: v for k, v in sent.items() if k.lower() not in ("authorization", "cookie")}
                            current = following
                            continue
                        return Fetched(resp.status, await _read(resp, limit, current), resp.content_type,
                                       safe_url(current))
                raise FetchFailed(f"more than {self.policy.max_redirects} redirects from {safe_url(url)}")
        except TimeoutError as err:
            raise FetchFailed(f"{safe_url(current)} took longer than {self.policy.timeout_s:.0f}s") from err
        except aiohttp.ClientError as err:
            cause = err.__cause__ or err.__context__
            if isinstance(cause, FetchRefused):
                raise cause from err
            raise FetchFailed(f"cannot fetch {safe_url(current)}: {type(err).__name__}") from err
        except (aiohttp.InvalidURL, ValueError) as err:
            if isinstance(err, FetchRefused):
                raise
            raise FetchRefused(f"not a usable URL: {type(err).__name__}") from err

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()


async def _read(resp: aiohttp.ClientResponse, limit: int, url: URL) -> bytes:
    if (resp.content_length or 0) > limit:
        raise FetchRefused(f"{safe_url(url)} is larger than {limit} bytes")
    body = bytearray()
    async for chunk in resp.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            raise FetchRefused(f"{safe_url(url)} is larger than {limit} bytes")
    return bytes(body)


def policy_from(settings: Any) -> FetchPolicy:
    """The policy of hotline.settings.Settings."""
    return FetchPolicy(http_hosts=frozenset(settings.fetch_http_hosts), private_hosts=tuple(settings.fetch_private_hosts),
                       max_bytes=settings.fetch_max_bytes, timeout_s=settings.fetch_timeout_s)
