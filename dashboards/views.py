"""Sign-in, sign-out, the landing page and user administration (server-rendered, Vietnamese)."""
from __future__ import annotations

import hmac
import logging
import math
import secrets
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web

from hotline.kernel.errors import http_status
from hotline.kernel.request import ACTOR, ROLE
from dashboards import history, keys, service
from intake import keys as intake_keys
from intake.store import TicketStore
from dashboards.accounts import ROLES
from dashboards.errors import DashboardError, ThrottleContended

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

HOME_OF_ROLE: Final = {"operator": "/operator", "comms": "/comms", "leader": "/trends", "admin": "/admin/users",
                        "medical": "/medical"}
AUDIT_TARGETS: Final = {"user": "Người dùng", "ticket": "Phiếu phản ánh", "claim": "Tin đồn",
                        "known_claim": "Tin đã kiểm chứng", "isolation_case": "Ca F0 tại nhà"}
AUDIT_PAGE: Final = 200
BUSY_RETRY: Final = timedelta(seconds=5)
ROLE_NAMES: Final = {"operator": "Điện thoại viên", "comms": "Truyền thông", "leader": "Lãnh đạo",
                     "admin": "Quản trị", "medical": "Y tế phường"}


WRONG_PASSWORD: Final = "Tên đăng nhập hoặc mật khẩu không đúng."


def _now() -> datetime:
    return datetime.now(timezone.utc)


def page_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    """What every template needs: who is signed in and the CSRF token for its forms."""
    return {"actor": request.get(ACTOR), "role": request.get(ROLE), "csrf": request.get(keys.CSRF, ""),
            "role_names": ROLE_NAMES, **extra}


async def people_names(request: web.Request) -> dict[str, str]:
    """User name -> display name, for history sentences and pickers."""
    return {u.username: u.display_name for u in await request.app[keys.USERS].all()}


async def ticket_numbers(store: TicketStore, ids: Iterable[str]) -> dict[str, str]:
    """Visible numbers of tickets named by id (history and audit show numbers, not ids)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    page = await store.search({"query": {"ids": {"values": wanted}}, "size": len(wanted)})
    return {t.id: t.number for t in page.tickets}


def _safe_next(raw: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in would be a phishing aid.
    if not raw or not raw.startswith("/") or raw.startswith("//") or urlsplit(raw).netloc:
        return "/"
    return raw


@routes.get("/login")
async def get_login(request: web.Request) -> web.Response:
    """Roles: public. The sign-in form, with a double-submit CSRF token."""
    token = secrets.token_urlsafe(24)
    response = aiohttp_jinja2.render_template("login.html", request, page_context(
        request, login_csrf=token, next=_safe_next(request.query.get("next")), error=None))
    response.set_cookie(keys.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/login",
                        secure=request.app[keys.SESSION_CONFIG].secure_cookie)
    return response


@routes.post("/login")
async def post_login(request: web.Request) -> web.StreamResponse:
    """Roles: public. Check the password; on success open a session and go to the user's page."""
    form = await request.post()
    cookie_token = request.cookies.get(keys.LOGIN_CSRF_COOKIE, "")
    form_token = str(form.get("login_csrf", ""))
    if not cookie_token or not hmac.compare_digest(cookie_token, form_token):
        raise web.HTTPForbidden(text="invalid CSRF token")
    username, throttle = str(form.get("username", "")), request.app[keys.SIGN_IN_THROTTLE]
    address = request.remote  # the client's, when a trusted proxy forwarded it (hotline/web.py)
    # Reserved before the password is checked and counted at once: parallel guesses cannot all be checked.
    try:
        wait = await throttle.reserve(username, address)
    except ThrottleContended:  # a flood of parallel guesses for one name: refuse unchecked, like a busy checker
        wait = BUSY_RETRY
    if wait is not None:  # refused before the password is checked: guessing costs the server nothing
        log.warning("sign-in throttled for %s", address)
        return _too_many(request, cookie_token, form, wait)
    try:
        user = await service.authenticate(username, str(form.get("password", "")), users=request.app[keys.USERS],
                                          checker=request.app[keys.PASSWORD_CHECKER])
    except service.CheckerBusy:
        await throttle.release(username, address)  # not checked: give the attempt back
        log.warning("sign-in refused unchecked: password checks queued to their limit")
        return _too_many(request, cookie_token, form, BUSY_RETRY)
    if user is None:
        log.info("failed sign-in from %s", address)
        if not _wants_page(request):
            return web.json_response({"error": "invalid_credentials", "message": WRONG_PASSWORD},
                                     status=HTTPStatus.UNAUTHORIZED)
        response = aiohttp_jinja2.render_template("login.html", request, page_context(
            request, login_csrf=cookie_token, next=_safe_next(str(form.get("next", ""))),
            error=WRONG_PASSWORD), status=HTTPStatus.UNAUTHORIZED)
        return response
    await throttle.succeeded(username, address)
    config = request.app[keys.SESSION_CONFIG]
    token, _ = await request.app[keys.SESSIONS].create(user, _now(), config.ttl)
    target = _safe_next(str(form.get("next", ""))) or "/"
    response = web.HTTPSeeOther(target if target != "/" else HOME_OF_ROLE[user.role])
    response.set_cookie(keys.SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=config.secure_cookie,
                        max_age=int(config.ttl.total_seconds()), path="/")
    response.del_cookie(keys.LOGIN_CSRF_COOKIE, path="/login")
    log.info("user %s signed in", user.username)
    raise response


def _wants_page(request: web.Request) -> bool:
    """A browser's form post asks for HTML; a script (curl, an integration) gets the JSON error shape instead."""
    return "text/html" in request.headers.get("Accept", "")


def _too_many(request: web.Request, cookie_token: str, form: Any, wait: timedelta) -> web.Response:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    message = f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."
    if not _wants_page(request):
        response = web.json_response({"error": "too_many_attempts", "message": message},
                                     status=HTTPStatus.TOO_MANY_REQUESTS)
    else:
        response = aiohttp_jinja2.render_template("login.html", request, page_context(
            request, login_csrf=cookie_token, next=_safe_next(str(form.get("next", ""))), error=message),
            status=HTTPStatus.TOO_MANY_REQUESTS)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
    return response


@routes.post("/logout")
async def post_logout(request: web.Request) -> web.StreamResponse:
    """Roles: operator, comms, leader, admin. End this session."""
    token = request.cookies.get(keys.SESSION_COOKIE)
    if token:
        await request.app[keys.SESSIONS].delete(token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(keys.SESSION_COOKIE, path="/")
    raise response


@routes.get("/")
async def get_home(request: web.Request) -> web.StreamResponse:
    """Roles: operator, comms, leader, admin. Send each role to its own page."""
    raise web.HTTPSeeOther(HOME_OF_ROLE[request[ROLE]])


@routes.get("/admin/users")
async def get_admin_users(request: web.Request) -> web.Response:
    """Roles: admin. The list of users and the form to add one."""
    return await _users_page(request, message=_message(request.query.get("message"), request.query.get("user")))


ADMIN_MESSAGES: Final = {"added": "Đã thêm người dùng {user}.", "updated": "Đã cập nhật {user}."}
"""The only confirmations the users page shows: `?message=` names one of these keys, never the text itself
(any text in the URL was shown as a system message, a phishing aid: issue 14, #14)."""


def _message(key: str | None, user: str | None) -> tuple[str, str] | None:
    return (key, user) if key in ADMIN_MESSAGES and user else None


async def _users_page(request: web.Request, *, message: tuple[str, str] | None = None, error: str | None = None,
                      status: int = HTTPStatus.OK) -> web.Response:
    users = await request.app[keys.USERS].all()
    text = None
    if message is not None and message[1] in {u.username for u in users}:  # only a real user's name is shown
        text = ADMIN_MESSAGES[message[0]].format(user=message[1])
    return aiohttp_jinja2.render_template("admin_users.html", request, page_context(
        request, users=users, roles=ROLES, message=text, error=error), status=status)


def _back(key: str, username: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/admin/users?" + urlencode({"message": key, "user": username}))


@routes.post("/admin/users")
async def post_admin_users(request: web.Request) -> web.StreamResponse:
    """Roles: admin. Add a user."""
    form = await request.post()
    try:
        user = await service.add_user(str(form.get("username", "")), str(form.get("role", "")),
                                      str(form.get("password", "")), str(form.get("display_name", "")),
                                      actor=request[ACTOR], now=_now(), users=request.app[keys.USERS],
                                      audit=request.app[keys.AUDIT], wards=str(form.get("wards", "")))
    except DashboardError as err:  # shown on the page it answers, not carried in a URL
        return await _users_page(request, error=str(err), status=http_status(err))
    raise _back("added", user.username)


@routes.post("/admin/users/{username}")
async def post_admin_user(request: web.Request) -> web.StreamResponse:
    """Roles: admin. Change a user's role, activity or password."""
    form = await request.post()
    username = request.match_info["username"]
    app = request.app
    try:
        if form.get("password"):
            await service.reset_password(username, str(form["password"]), actor=request[ACTOR], now=_now(),
                                         users=app[keys.USERS], sessions=app[keys.SESSIONS], audit=app[keys.AUDIT])
        active = {"yes": True, "no": False}.get(str(form.get("active", "")))
        await service.update_user(username, role=str(form.get("role") or "") or None, active=active,
                                  display_name=str(form.get("display_name") or "") or None, actor=request[ACTOR],
                                  now=_now(), users=app[keys.USERS], sessions=app[keys.SESSIONS],
                                  audit=app[keys.AUDIT],
                                  wards=str(form["wards"]) if "wards" in form else None)
    except DashboardError as err:
        return await _users_page(request, error=str(err), status=http_status(err))
    raise _back("updated", username)


@routes.get("/admin/audit")
@aiohttp_jinja2.template("audit.html")
async def get_admin_audit(request: web.Request) -> dict[str, Any]:
    """Roles: admin. The audit trail (users, tickets, claims, known claims), newest first."""
    kind = request.query.get("type") or None
    if kind is not None and kind not in AUDIT_TARGETS:
        raise web.HTTPBadRequest(text=f"type must be one of {', '.join(AUDIT_TARGETS)}")
    actor = request.query.get("actor", "").strip()[:100] or None
    entries = await request.app[keys.AUDIT].recent(AUDIT_PAGE, kind, actor)
    numbers = await ticket_numbers(request.app[intake_keys.STORE],
                                   [e.target_id for e in entries if e.target_type == "ticket"])
    merged = [str(e.after["merged_into"]) for e in entries if e.after.get("merged_into")]
    names = history.Names(await people_names(request), {**numbers, **await ticket_numbers(
        request.app[intake_keys.STORE], merged)})
    rows = [(e, history.describe(e.actor, e.action, e.before, e.after, names), names) for e in entries]
    return page_context(request, rows=rows, names=names, kind=kind, actor_filter=actor or "",
                        targets=AUDIT_TARGETS, page_size=AUDIT_PAGE)
