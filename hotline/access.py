"""Who may call what: one table for every route, enforced by one middleware.

Every route must appear in ACCESS (a test enumerates the router to prove it); a route that is missing is
refused, never open. Three kinds of admission:
- PUBLIC: health probes only;
- TWILIO: webhooks, admitted only with a valid X-Twilio-Signature computed over the public URL;
- a set of roles: the caller authenticates with `Authorization: Bearer <api key>` (keys from API_KEYS).
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from twilio.request_validator import RequestValidator

from hotline import keys
from hotline.settings import Settings

log = logging.getLogger(__name__)

OPERATOR, COMMS, LEADER, ADMIN = "operator", "comms", "leader", "admin"
ROLES: Final = frozenset({OPERATOR, COMMS, LEADER, ADMIN})
PUBLIC: Final = frozenset({"public"})
TWILIO: Final = frozenset({"twilio"})

ACCESS: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("POST", "/twilio/voice"): TWILIO,
    ("POST", "/twilio/voice/done"): TWILIO,
    ("POST", "/twilio/transcription"): TWILIO,
    ("POST", "/twilio/recording"): TWILIO,
    ("POST", "/twilio/sms"): TWILIO,
    ("GET", "/api/tickets"): frozenset({OPERATOR, LEADER, ADMIN}),
    ("POST", "/api/tickets"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/api/tickets/{ticket_id}"): frozenset({OPERATOR, LEADER, ADMIN}),
    ("PATCH", "/api/tickets/{ticket_id}"): frozenset({OPERATOR, ADMIN}),
}
CALLER_NUMBER_ROLES: Final = frozenset({OPERATOR, ADMIN})
"""Roles that see callers' phone numbers unmasked."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user or integration."""

    name: str
    role: str


def parse_api_keys(raw: str) -> dict[str, Principal]:
    """API_KEYS='name:role:key,name2:role2:key2' -> {key: Principal}; raises ValueError on a bad entry."""
    found: dict[str, Principal] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, role, key = (item.split(":", 2) + ["", ""])[:3]
        if role not in ROLES or len(key) < 16 or not name:
            raise ValueError("each API_KEYS entry is name:role:key with a known role and a key of 16+ characters")
        found[key] = Principal(name, role)
    return found


def _route_key(request: web.Request) -> tuple[str, str] | None:
    resource = request.match_info.route.resource
    return (request.method, resource.canonical) if resource is not None else None


def _authenticate(request: web.Request, settings: Settings) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    offered = header.removeprefix("Bearer ").strip()
    for key, principal in settings.api_keys.items():
        if hmac.compare_digest(key, offered) and isinstance(principal, Principal):
            return principal
    return None


async def _twilio_signature_ok(request: web.Request, settings: Settings) -> bool:
    if not settings.twilio_auth_token:
        log.error("TWILIO_AUTH_TOKEN is not set; refusing webhook %s", request.path)
        return False
    form = await request.post()
    url = settings.public_base_url.rstrip("/") + request.path_qs
    signature = request.headers.get("X-Twilio-Signature", "")
    params = {k: str(v) for k, v in form.items()}
    return bool(signature) and RequestValidator(settings.twilio_auth_token).validate(url, params, signature)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Admit or refuse a request according to ACCESS before its handler runs."""
    key = _route_key(request)
    if key is None or (request.method == "HEAD" and (("GET", key[1]) in ACCESS)):
        key = ("GET", key[1]) if key else None
    if key is None or request.match_info.http_exception is not None:
        return await handler(request)  # 404/405: nothing to protect
    admits = ACCESS.get(key)
    settings = request.app[keys.SETTINGS]
    if admits is None:
        log.error("route %s %s has no access rule; refusing", *key)
        raise web.HTTPForbidden(text="route has no access rule")
    if admits is PUBLIC:
        return await handler(request)
    if admits is TWILIO:
        if not await _twilio_signature_ok(request, settings):
            log.warning("rejected unsigned or wrongly signed webhook %s from %s", request.path, request.remote)
            raise web.HTTPForbidden(text="invalid Twilio signature")
        return await handler(request)
    principal = _authenticate(request, settings)
    if principal is None:
        raise web.HTTPUnauthorized(text="authentication required", headers={"WWW-Authenticate": "Bearer"})
    if principal.role not in admits:
        raise web.HTTPForbidden(text=f"role {principal.role} may not use this route")
    # Domain views read plain strings, so they need not import the composition root.
    request["actor"], request["role"] = principal.name, principal.role
    return await handler(request)

