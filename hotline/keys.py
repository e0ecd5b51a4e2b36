"""Typed application keys: the only way request handlers reach long-lived resources."""
from __future__ import annotations

from typing import Final

from aiohttp import web
from elasticsearch import AsyncElasticsearch

from hotline.indices import IndexSpec
from hotline.loaded_models import Models
from hotline.settings import Settings

SETTINGS: Final = web.AppKey("settings", Settings)
ES: Final = web.AppKey("es", AsyncElasticsearch)
INDICES: Final = web.AppKey[tuple[IndexSpec, ...]]("indices")
"""The indices this app's domains use: created at start-up, checked by /readyz."""
MODELS: Final = web.AppKey("models", Models)
"""Models loaded before the app was built (tests share one copy); when absent, each domain loads its own."""
