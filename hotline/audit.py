"""The one audit trail: people's changes to tickets and claims go where the admins' user changes go."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from elasticsearch import AsyncElasticsearch

from dashboards.store import AuditEntry, AuditStore
from hotline.settings import Settings


class AuditLog:
    """Satisfies intake.service.AuditLog and social_monitor.service.AuditLog over the dashboards' AuditStore."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    @classmethod
    def for_settings(cls, settings: Settings, es: AsyncElasticsearch) -> AuditLog:
        """The trail in the `audit` alias of these settings."""
        return cls(AuditStore(es, settings.alias("audit")))

    async def __call__(self, *, at: datetime, actor: str, action: str, target_type: str, target_id: str,
                       before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        await self._store.record(AuditEntry(at, actor, action, target_type, target_id, dict(before), dict(after)))
