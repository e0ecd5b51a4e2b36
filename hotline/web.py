"""The aiohttp application factory: resources, error translation and the routes of every domain."""
from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Iterable
from http import HTTPStatus
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import web
from elastic_transport import ApiError, TransportError

import dashboards.comms
import dashboards.isolation
import dashboards.operator
import dashboards.trends
import dashboards.views
import social_monitor.views
import intake.views
import intake.zalo_views
import intake.isolation.views
from hotline import indices, keys
from hotline.access import access_middleware
from hotline.es import es_ctx
from hotline.dashboards_ctx import STATIC_DIR, dashboards_ctx, setup_templates
from hotline.intake_ctx import intake_ctx
from hotline.kernel.errors import HotlineError, http_status
from hotline.loaded_models import Models
from hotline.social_ctx import social_ctx
from hotline.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(code: str, message: str) -> dict[str, str]:
    """The one JSON shape for every API error."""
    return {"error": code, "message": message}


ERROR_PAGES: Final[dict[int, str]] = {
    400: "Yêu cầu không hợp lệ.", 401: "Vui lòng đăng nhập.", 403: "Bạn không có quyền xem trang này.",
    404: "Không tìm thấy trang hoặc phiếu này.", 405: "Thao tác này không được hỗ trợ ở đây.",
    409: "Dữ liệu vừa được người khác thay đổi. Tải lại trang để xem.",
    413: "Nội dung gửi lên quá lớn.", 429: "Bạn thao tác quá nhiều lần. Vui lòng thử lại sau.",
    500: "Hệ thống gặp lỗi. Vui lòng thử lại; nếu vẫn lỗi, báo cho quản trị.",
    502: "Hệ thống tìm kiếm từ chối yêu cầu. Vui lòng thử lại sau.",
    503: "Hệ thống tìm kiếm đang tạm thời không truy cập được. Vui lòng thử lại sau ít phút.",
}


def _wants_html(request: web.Request) -> bool:
    """Browsers get error pages; API clients (and anything not asking for HTML) keep the JSON (issue 13)."""
    if request.path.startswith(("/api/", "/twilio/")):
        return False
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def _error(request: web.Request, status: int, code: str, message: str,
           headers: dict[str, str] | None = None) -> web.Response:
    """The JSON error, or for a browser a Vietnamese page (an English technical message is not shown there)."""
    if not _wants_html(request):
        return web.json_response(error_body(code, message), status=status, headers=headers)
    # Messages written for people are Vietnamese (they have letters outside ASCII); others stay in the logs.
    detail = message if not message.isascii() else None
    context = dashboards.views.page_context(request, status=status, title=ERROR_PAGES.get(
        status, ERROR_PAGES[500] if status >= 500 else ERROR_PAGES[400]), detail=detail)
    response = aiohttp_jinja2.render_template("error.html", request, context, status=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map exceptions to errors; nothing below the handlers knows about HTTP status codes."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return _error(request, exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason,
                      {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")})
    except UnicodeDecodeError:
        # A body that is not valid UTF-8 (forms and JSON are decoded lazily, wherever they are read).
        return _error(request, HTTPStatus.BAD_REQUEST, "bad_request", "the request body is not valid UTF-8")
    except HotlineError as exc:
        # Every domain error derives from a kernel base (Invalid, NotFound, Conflict, Unavailable...), which
        # gives its status; its own `code` is what clients read.
        status = http_status(exc)
        if status >= 500:
            log.warning("%s on %s %s: %s", exc.code, request.method, request.path, type(exc).__name__)
        return _error(request, status, exc.code, str(exc))
    except TransportError as exc:
        log.warning("search unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        return _error(request, HTTPStatus.SERVICE_UNAVAILABLE, "search_unavailable", "Elasticsearch is not reachable")
    except ApiError as exc:
        # Not log.exception: an Elasticsearch refusal quotes the document it refused (issue 14, #10).
        log.error("Elasticsearch error on %s %s: %s(%s, %s)", request.method, request.path, type(exc).__name__,
                  exc.meta.status, exc.message)
        return _error(request, HTTPStatus.BAD_GATEWAY, "search_error", "Elasticsearch rejected the request")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Internal error")


MAX_TARGET_BYTES: Final = 8190
"""Longest request target (path and query) answered; aiohttp's own limit is raised above it (see create_app)
so that a longer one gets this JSON 414 instead of the server's plain-text 400 and a logged traceback."""
MAX_JSON_DEPTH: Final = 32
"""Deepest nesting of a JSON body: no record of ours nests more than a few levels; deep nesting only costs
recursion (RecursionError was a 500 on /api/posts and /api/tickets, issue 14, #9)."""
CONTENT_SECURITY_POLICY: Final = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                  "object-src 'none'")
SECURITY_HEADERS: Final = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY",
                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
PUBLIC_PREFIXES: Final = ("/static/", "/healthz", "/readyz")
"""Responses that may be cached; every other one can carry personal data and gets no-store."""


def _trusted(address: str, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(remote: str | None, forwarded_for: str, trusted: tuple[str, ...]) -> str | None:
    """The client's address: X-Forwarded-For is believed only from TRUSTED_PROXIES, read right to left.

    The rightmost address that is not a trusted proxy is the one the last trusted proxy saw; anything to
    its left was written by the client and proves nothing (issue 14, #13).
    """
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]
    if not remote or not networks or not _trusted(remote, networks) or not forwarded_for:
        return remote
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a garbled header: count the proxy, not a made-up client
    return hops[0] if hops else remote


@web.middleware
async def forwarded_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Replace `request.remote` by the client's address when a trusted reverse proxy forwarded the request."""
    trusted = request.app[keys.SETTINGS].trusted_proxies
    if trusted and request.remote:
        client = client_address(request.remote, request.headers.get("X-Forwarded-For", ""), trusted)
        if client is not None and client != request.remote:
            request = request.clone(remote=client)
    return await handler(request)


_JSON_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET: Final = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit` (a scan, no recursion)."""
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a string with an unpaired surrogate ("\\ud800"): such text cannot be
    encoded as UTF-8 for the journal or Elasticsearch."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


@web.middleware
async def target_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a target longer than MAX_TARGET_BYTES with JSON (it was a 502 or a plain-text 400, issue 14, #9)."""
    if len(request.raw_path.encode("utf-8", "surrogateescape")) > MAX_TARGET_BYTES:
        return web.json_response(error_body("uri_too_long", f"the URL is longer than {MAX_TARGET_BYTES} bytes"),
                                 status=HTTPStatus.REQUEST_URI_TOO_LONG)
    return await handler(request)


@web.middleware
async def body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse JSON bodies no handler can use, before any handler parses them: nested too deep, or holding lone
    surrogates (each a 5xx somewhere below, issue 14, #9). Runs after admission: strangers' bodies are not read."""
    if request.can_read_body and request.content_type not in FORM_TYPES:
        try:
            text = await request.text()
        except UnicodeDecodeError:
            return web.json_response(error_body("bad_request", "the request body is not valid UTF-8"),
                                     status=HTTPStatus.BAD_REQUEST)
        if json_depth_exceeds(text, MAX_JSON_DEPTH):
            return web.json_response(error_body("bad_request", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"),
                                     status=HTTPStatus.BAD_REQUEST)
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None  # not JSON: the handler says what it expected
        if has_lone_surrogate(parsed):
            return web.json_response(error_body("bad_request", "the JSON holds an unpaired surrogate (\\ud800-\\udfff)"),
                                     status=HTTPStatus.BAD_REQUEST)
    return await handler(request)


async def set_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """CSP, framing, sniffing, referrer and caching headers on every answer; no server version (issue 14, #11)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(PUBLIC_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    response.headers["Server"] = "hotline"


routes = web.RouteTableDef()


@routes.get("/healthz")
async def get_healthz(request: web.Request) -> web.Response:
    """Roles: public (load balancers). The process is up and serving."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def get_readyz(request: web.Request) -> web.Response:
    """Roles: public (load balancers). Elasticsearch answers and every index alias points where the code expects."""
    es = request.app[keys.ES]
    prefix = request.app[keys.SETTINGS].index_prefix
    try:
        health = await es.options(request_timeout=3).cluster.health()
        states = [await indices.state(es, spec, prefix) for spec in request.app[keys.INDICES]]
    except (TransportError, ApiError) as err:
        return web.json_response({"status": "unavailable", "elasticsearch": type(err).__name__},
                                 status=HTTPStatus.SERVICE_UNAVAILABLE)
    ready = health.body.get("status") in ("green", "yellow") and all(s.ok for s in states)
    body = {"status": "ok" if ready else "unavailable",
            "elasticsearch": {"cluster": health.body.get("cluster_name"), "status": health.body.get("status")},
            "indices": [s.as_json() for s in states]}
    return web.json_response(body, status=HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE)


DOMAINS: Final = frozenset({"intake", "social"})
"""The domains an app can run; the dashboards' sign-in, users and audit always run (every route needs them)."""
CORE_INDICES: Final = ("users", "sessions", "audit", "sign_in_failures")
DOMAIN_INDICES: Final = {"intake": ("tickets", "isolation_cases", "leases"),
                         "social": ("posts", "claims", "known_claims", "claim_pairs", "tickets", "leases")}
"""The aliases each domain uses; the social monitor reads tickets too (the hotline's misinformation reports);
both hold leases (sources and isolation rounds; escalation SMS), shared by the replicas of the fleet."""


def index_specs(domains: Collection[str], *, core: bool = True) -> tuple[indices.IndexSpec, ...]:
    """The indices of `domains` (and, with `core`, the dashboards' users, sessions and audit), in SPECS order."""
    names = {*(CORE_INDICES if core else ()), *(name for domain in domains for name in DOMAIN_INDICES[domain])}
    return tuple(spec for spec in indices.SPECS if spec.name in names)


def create_app(settings: Settings, *, models: Models | None = None,
               domains: Collection[str] = DOMAINS) -> web.Application:
    """Build the application; resources open in cleanup contexts when it starts.

    `models`: loaded already (tests load them once a session); otherwise each domain loads its own at start-up.
    `domains`: which of DOMAINS start, with their indices and routes; a test of one domain starts only that one.
    """
    unknown = set(domains) - DOMAINS
    if unknown:
        raise ValueError(f"unknown domains {sorted(unknown)}; known: {sorted(DOMAINS)}")
    # Request lines and header fields up to 64 KiB are read, so that targets past MAX_TARGET_BYTES get a JSON
    # 414 from input_middleware instead of aiohttp's plain-text 400.
    app = web.Application(middlewares=[forwarded_middleware, error_middleware, target_middleware, access_middleware,
                                       body_middleware],
                          client_max_size=2 * 1024 * 1024,
                          handler_args={"max_line_size": 65536, "max_field_size": 16384})
    app.on_response_prepare.append(set_security_headers)
    app[keys.SETTINGS] = settings
    app[keys.INDICES] = index_specs(domains)
    if models is not None:
        app[keys.MODELS] = models
    app.cleanup_ctx.append(es_ctx)
    app.cleanup_ctx.append(dashboards_ctx)
    setup_templates(app)
    app.add_routes(routes)
    app.add_routes(dashboards.views.routes)
    if "intake" in domains:
        app.cleanup_ctx.append(intake_ctx)
        app.add_routes(intake.views.routes)
        app.add_routes(intake.zalo_views.routes)
        app.add_routes(intake.isolation.views.routes)
        app.add_routes(dashboards.operator.routes)
        app.add_routes(dashboards.isolation.routes)
    if "social" in domains:
        app.cleanup_ctx.append(social_ctx)
        app.add_routes(social_monitor.views.routes)
        app.add_routes(dashboards.comms.routes)
    if DOMAINS <= set(domains):
        app.add_routes(dashboards.trends.routes)  # tickets and posts side by side
    app.router.add_static("/static", STATIC_DIR, name="static")
    return app
