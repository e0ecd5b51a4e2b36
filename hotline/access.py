"""Who may call what: one table for every route, enforced by one middleware.

Every route must appear in ACCESS (a test enumerates the router to prove it); a route that is missing is
refused, never open. Three kinds of admission:
- PUBLIC: health probes only;
- TWILIO: webhooks, admitted only with a valid X-Twilio-Signature computed over the public URL;
- a set of roles: a browser signs in and carries a session cookie (unsafe methods also need the session's
  CSRF token), or an integration sends `Authorization: Bearer <api key>` (keys from API_KEYS).
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from twilio.request_validator import RequestValidator

from dashboards import keys as dashboard_keys
from intake.errors import InvalidSignature
from intake.zalo import verify_webhook
from hotline import keys
from hotline.kernel.request import ACTOR, ROLE
from hotline.settings import Settings

log = logging.getLogger(__name__)

OPERATOR, COMMS, LEADER, ADMIN = "operator", "comms", "leader", "admin"
MEDICAL = "medical"
"""A ward's medical team: home-isolation cases of its own wards only (issue 17)."""
ROLES: Final = frozenset({OPERATOR, COMMS, LEADER, ADMIN, MEDICAL})
PUBLIC: Final = frozenset({"public"})
TWILIO: Final = frozenset({"twilio"})
ZALO: Final = frozenset({"zalo"})

ALL_ROLES: Final = frozenset({OPERATOR, COMMS, LEADER, ADMIN, MEDICAL})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

ACCESS: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ALL_ROLES,
    ("GET", "/"): ALL_ROLES,
    ("GET", "/admin/users"): frozenset({ADMIN}),
    ("POST", "/admin/users"): frozenset({ADMIN}),
    ("POST", "/admin/users/{username}"): frozenset({ADMIN}),
    ("GET", "/admin/audit"): frozenset({ADMIN}),
    ("POST", "/twilio/voice"): TWILIO,
    ("POST", "/twilio/voice/done"): TWILIO,
    ("POST", "/twilio/transcription"): TWILIO,
    ("POST", "/twilio/recording"): TWILIO,
    ("POST", "/twilio/sms"): TWILIO,
    ("POST", "/zalo/webhook"): ZALO,
    ("POST", "/api/tickets/{ticket_id}/zalo-reply"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/api/tickets"): frozenset({OPERATOR, LEADER, ADMIN}),
    ("POST", "/api/tickets"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/api/tickets/{ticket_id}"): frozenset({OPERATOR, LEADER, ADMIN}),
    ("PATCH", "/api/tickets/{ticket_id}"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/api/tickets/{ticket_id}/recording"): frozenset({OPERATOR, ADMIN}),
    ("POST", "/api/tickets/{ticket_id}/replies"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/api/posts"): frozenset({COMMS, LEADER, ADMIN}),
    ("POST", "/api/posts"): frozenset({COMMS, ADMIN}),  # integrations: an API key with role comms
    ("GET", "/api/claims"): frozenset({COMMS, LEADER, ADMIN}),
    ("GET", "/api/claims/{claim_id}"): frozenset({COMMS, LEADER, ADMIN}),
    ("PATCH", "/api/claims/{claim_id}"): frozenset({COMMS, ADMIN}),
    ("POST", "/api/claims/{claim_id}/merge"): frozenset({COMMS, ADMIN}),
    ("POST", "/api/claims/{claim_id}/split"): frozenset({COMMS, ADMIN}),
    ("GET", "/api/similar-claims"): frozenset({COMMS, LEADER, ADMIN}),
    ("POST", "/api/known-claims"): frozenset({COMMS, ADMIN}),
    ("GET", "/api/known-claims"): frozenset({COMMS, ADMIN}),
    ("GET", "/api/known-claims/claimreview.jsonld"): frozenset({COMMS, ADMIN}),
    ("GET", "/api/sources"): frozenset({COMMS, ADMIN}),
    ("GET", "/operator"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/operator/tickets/{ticket_id}"): frozenset({OPERATOR, ADMIN}),
    ("GET", "/comms"): frozenset({COMMS, ADMIN}),
    ("GET", "/comms/claims/{claim_id}"): frozenset({COMMS, ADMIN}),
    ("GET", "/trends"): frozenset({LEADER, ADMIN}),
    ("POST", "/api/isolation/cases"): frozenset({OPERATOR, MEDICAL, ADMIN}),
    ("GET", "/medical"): frozenset({MEDICAL, OPERATOR, ADMIN}),
    ("POST", "/medical/cases/{case_id}/contacted"): frozenset({MEDICAL, ADMIN}),
    ("POST", "/medical/cases/{case_id}/hospital"): frozenset({MEDICAL, ADMIN}),
    ("GET", "/trends/export.csv"): frozenset({LEADER, ADMIN}),
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


async def _session_principal(request: web.Request) -> Principal | None:
    token = request.cookies.get(dashboard_keys.SESSION_COOKIE)
    if not token:
        return None
    session = await request.app[dashboard_keys.SESSIONS].get(token, datetime.now(timezone.utc))
    if session is None:
        return None
    request[dashboard_keys.CSRF] = session.csrf
    return Principal(session.username, session.role)


async def _csrf_ok(request: web.Request) -> bool:
    expected = request.get(dashboard_keys.CSRF, "")
    offered = request.headers.get("X-CSRF-Token", "")
    if not offered and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        offered = str((await request.post()).get("csrf_token", ""))
    return bool(expected) and hmac.compare_digest(expected, offered)


def _bearer_principal(request: web.Request, settings: Settings) -> Principal | None:
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


async def _zalo_verified(request: web.Request, settings: Settings) -> None:
    """Raise InvalidSignature (403) unless the body is signed with the OA secret key and fresh (issue 17)."""
    try:
        verify_webhook(await request.read(), request.headers.get("X-ZEvent-Signature"),
                       app_id=settings.zalo_app_id, oa_id=settings.zalo_oa_id, secret=settings.zalo_oa_secret_key,
                       now=datetime.now(timezone.utc), window=timedelta(seconds=settings.zalo_replay_window_s))
    except InvalidSignature as err:
        log.warning("rejected Zalo webhook from %s: %s", request.remote, err.code)
        raise


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
    if admits is ZALO:
        await _zalo_verified(request, settings)
        return await handler(request)
    principal = _bearer_principal(request, settings)
    via_cookie = principal is None
    if principal is None:
        principal = await _session_principal(request)
    if principal is None:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(text="authentication required", headers={"WWW-Authenticate": "Bearer"})
        raise web.HTTPSeeOther(f"/login?{urlencode({'next': request.path_qs})}")
    if principal.role not in admits:
        raise web.HTTPForbidden(text=f"role {principal.role} may not use this route")
    # Cookies ride along on cross-site requests; API keys do not, so only cookie sessions need CSRF tokens.
    if via_cookie and request.method not in SAFE_METHODS and not await _csrf_ok(request):
        log.warning("refused %s %s by %s: missing or wrong CSRF token", request.method, request.path, principal.name)
        raise web.HTTPForbidden(text="invalid CSRF token")
    # The kernel's request keys: every domain's views read who is asking from the same two.
    request[ACTOR], request[ROLE] = principal.name, principal.role
    return await handler(request)

