"""HTTP handlers of home-isolation monitoring (JSON); the medical team's page is in dashboards/isolation.py."""
from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

from hotline.kernel.request import ACTOR, json_body
from intake.errors import InvalidTicket
from intake.isolation.keys import ISOLATION
from intake.isolation.records import CaseRegistration

routes = web.RouteTableDef()


@routes.post("/api/isolation/cases")
async def post_isolation_case(request: web.Request) -> web.Response:
    """Roles: operator, medical, admin. Register a home-isolation case (optionally from `ticket_id`)."""
    body = await json_body(request, InvalidTicket)
    service = request.app[ISOLATION]
    registration = CaseRegistration.from_json(body, service.latest_today())
    case = await service.register(registration, actor=request[ACTOR])
    return web.json_response(case.as_json(personal=True), status=HTTPStatus.CREATED)
