"""The aiohttp application factory: resources, error translation and the routes of every domain."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Final

import aiohttp_jinja2
from aiohttp import web
from elastic_transport import ApiError, TransportError

import dashboards.comms
import dashboards.operator
import dashboards.trends
import dashboards.views
import social_monitor.views
import intake.views
from hotline import indices, keys
from hotline.access import access_middleware
from hotline.es import SearchUnavailable, es_ctx
from hotline.dashboards_ctx import STATIC_DIR, dashboards_ctx, setup_templates
from hotline.intake_ctx import intake_ctx
from hotline.social_ctx import social_ctx
from intake.errors import (IntakeError, InvalidSignature, InvalidTicket, InvalidWebhook, TicketConflict,
                           TicketNotFound)
from intake.store import StoreUnavailable
from dashboards.errors import DashboardError, InvalidUser, UserExists, UserNotFound
from social_monitor.errors import ClaimConflict, ClaimNotFound, InvalidClaim, InvalidPost, SocialError
from social_monitor.errors import StoreUnavailable as SocialStoreUnavailable
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
    except (IntakeError, DashboardError, SocialError) as exc:
        status = ERROR_STATUS.get(type(exc), HTTPStatus.BAD_REQUEST)
        if status >= 500:
            log.warning("%s on %s %s: %s", exc.code, request.method, request.path, type(exc).__name__)
        return _error(request, status, exc.code, str(exc))
    except (SearchUnavailable, TransportError) as exc:
        log.warning("search unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        return _error(request, HTTPStatus.SERVICE_UNAVAILABLE, "search_unavailable", "Elasticsearch is not reachable")
    except ApiError:
        log.exception("Elasticsearch error on %s %s", request.method, request.path)
        return _error(request, HTTPStatus.BAD_GATEWAY, "search_error", "Elasticsearch rejected the request")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Internal error")


ERROR_STATUS: dict[type[Exception], HTTPStatus] = {
    InvalidPost: HTTPStatus.BAD_REQUEST, InvalidClaim: HTTPStatus.BAD_REQUEST,
    ClaimNotFound: HTTPStatus.NOT_FOUND, ClaimConflict: HTTPStatus.CONFLICT,
    SocialStoreUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    InvalidUser: HTTPStatus.BAD_REQUEST, UserNotFound: HTTPStatus.NOT_FOUND, UserExists: HTTPStatus.CONFLICT,
    InvalidWebhook: HTTPStatus.BAD_REQUEST, InvalidTicket: HTTPStatus.BAD_REQUEST,
    InvalidSignature: HTTPStatus.FORBIDDEN, TicketNotFound: HTTPStatus.NOT_FOUND,
    TicketConflict: HTTPStatus.CONFLICT, StoreUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}

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
        states = [await indices.state(es, spec, prefix) for spec in indices.SPECS]
    except (TransportError, ApiError) as err:
        return web.json_response({"status": "unavailable", "elasticsearch": type(err).__name__},
                                 status=HTTPStatus.SERVICE_UNAVAILABLE)
    ready = health.body.get("status") in ("green", "yellow") and all(s.ok for s in states)
    body = {"status": "ok" if ready else "unavailable",
            "elasticsearch": {"cluster": health.body.get("cluster_name"), "status": health.body.get("status")},
            "indices": [s.as_json() for s in states]}
    return web.json_response(body, status=HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE)


def create_app(settings: Settings) -> web.Application:
    """Build the application; resources open in cleanup contexts when it starts."""
    app = web.Application(middlewares=[error_middleware, access_middleware], client_max_size=2 * 1024 * 1024)
    app[keys.SETTINGS] = settings
    app.cleanup_ctx.append(es_ctx)
    app.cleanup_ctx.append(dashboards_ctx)
    app.cleanup_ctx.append(intake_ctx)
    app.cleanup_ctx.append(social_ctx)
    setup_templates(app)
    app.add_routes(routes)
    app.add_routes(intake.views.routes)
    app.add_routes(social_monitor.views.routes)
    app.add_routes(dashboards.views.routes)
    app.add_routes(dashboards.operator.routes)
    app.add_routes(dashboards.trends.routes)
    app.add_routes(dashboards.comms.routes)
    app.router.add_static("/static", STATIC_DIR, name="static")
    return app
