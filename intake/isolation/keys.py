"""Typed application keys of home-isolation monitoring; set by the composition root."""
from __future__ import annotations

from typing import Final

from aiohttp import web

from intake.isolation.service import IsolationService

ISOLATION: Final = web.AppKey("isolation_service", IsolationService)
