"""Typed application keys: the only way request handlers reach long-lived resources."""
from __future__ import annotations

from typing import Final

from aiohttp import web
from elasticsearch import AsyncElasticsearch

from hotline.settings import Settings

SETTINGS: Final = web.AppKey("settings", Settings)
ES: Final = web.AppKey("es", AsyncElasticsearch)
