"""Thin async I/O for users, sessions and the audit log (the only dashboards module importing elasticsearch)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError

from dashboards.accounts import USERNAME, User
from dashboards import queries
from dashboards.errors import ThrottleContended, UserExists, UserNotFound
from dashboards.throttle import Edit

MAX_CONFLICT_RETRIES = 50
"""Re-reads of one throttle key after conflicting writes: parallel guesses for one name all land on one document."""


class UserStore:
    """Users in the `users` alias, one document per username."""

    def __init__(self, es: AsyncElasticsearch, alias: str) -> None:
        self._es = es
        self._alias = alias

    async def get(self, username: str) -> User:
        """The user, or UserNotFound (also for a name no user can have: it never reaches a URL path)."""
        if not USERNAME.match(username.strip().lower()):
            raise UserNotFound(f"không có người dùng {username[:50]}")
        try:
            resp = await self._es.get(index=self._alias, id=username.strip().lower())
        except NotFoundError as err:
            raise UserNotFound(f"không có người dùng {username}") from err
        return User.from_doc(resp["_source"])

    async def create(self, user: User) -> None:
        """Add a user; UserExists if the name is taken."""
        try:
            await self._es.create(index=self._alias, id=user.username, document=user.as_doc(), refresh=True)
        except ConflictError as err:
            raise UserExists(f"người dùng {user.username} đã tồn tại") from err

    async def save(self, user: User) -> None:
        """Overwrite a user (admin actions are rare and audited; last write wins)."""
        await self._es.index(index=self._alias, id=user.username, document=user.as_doc(), refresh=True)

    async def all(self) -> list[User]:
        """Every user, by username."""
        resp = await self._es.search(index=self._alias, size=1000, sort=[{"username": "asc"}],
                                     query={"match_all": {}})
        return [User.from_doc(h["_source"]) for h in resp["hits"]["hits"]]


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser."""

    username: str
    role: str
    csrf: str
    created_at: datetime
    expires_at: datetime


def _token_id(token: str) -> str:
    # Only the hash is stored, so a copy of the index does not hand out working cookies.
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Server-side sessions: the cookie holds a random token, the index holds its hash and the CSRF secret."""

    def __init__(self, es: AsyncElasticsearch, alias: str) -> None:
        self._es = es
        self._alias = alias

    async def create(self, user: User, now: datetime, ttl: timedelta) -> tuple[str, Session]:
        """Open a session; returns the cookie token (shown once) and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(user.username, user.role, secrets.token_urlsafe(32), now, now + ttl)
        # Gets by id are real-time, so a new session works at once without a refresh.
        await self._es.index(index=self._alias, id=_token_id(token), document={
            "username": session.username, "role": session.role, "csrf": session.csrf,
            "created_at": now.isoformat(), "expires_at": session.expires_at.isoformat()})
        return token, session

    async def get(self, token: str, now: datetime) -> Session | None:
        """The live session of a cookie token; an expired one is deleted and None returned."""
        try:
            doc = (await self._es.get(index=self._alias, id=_token_id(token)))["_source"]
        except NotFoundError:
            return None
        session = Session(doc["username"], doc["role"], doc["csrf"], datetime.fromisoformat(doc["created_at"]),
                          datetime.fromisoformat(doc["expires_at"]))
        if session.expires_at <= now:
            await self.delete(token)
            return None
        return session

    async def delete(self, token: str) -> None:
        """Sign out."""
        try:
            await self._es.delete(index=self._alias, id=_token_id(token))
        except NotFoundError:
            pass

    async def delete_user_sessions(self, username: str) -> None:
        """End every session of a user (password reset, deactivation, role change).

        Without `_delete_by_query` on every cluster, this searches and deletes one by one.
        """
        await self._es.indices.refresh(index=self._alias)
        resp = await self._es.search(index=self._alias, size=1000, query={"term": {"username": username}},
                                     source=False)
        for hit in resp["hits"]["hits"]:
            try:
                await self._es.delete(index=self._alias, id=hit["_id"])
            except NotFoundError:
                pass


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change."""

    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any]
    after: dict[str, Any]


class AuditStore:
    """Append-only log of changes to users, settings, tickets and claims."""

    def __init__(self, es: AsyncElasticsearch, alias: str) -> None:
        self._es = es
        self._alias = alias

    async def record(self, entry: AuditEntry) -> None:
        """Append one entry."""
        # Refreshes at once: admins read the trail right after acting, and such changes are rare.
        await self._es.index(index=self._alias, refresh=True, document={
            "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
            "target_type": entry.target_type, "target_id": entry.target_id,
            "before": entry.before, "after": entry.after})

    async def recent(self, size: int = 200, target_type: str | None = None,
                     actor: str | None = None) -> list[AuditEntry]:
        """Newest entries first, of one kind of target and/or one actor when given."""
        resp = await self._es.search(index=self._alias, **queries.build_audit_search(size, target_type, actor))
        return [AuditEntry(datetime.fromisoformat(s["at"]), s["actor"], s["action"], s["target_type"],
                           s["target_id"], s.get("before") or {}, s.get("after") or {})
                for s in (h["_source"] for h in resp["hits"]["hits"])]


class ThrottleStore:
    """Sign-in failure times per key in the `sign_in_failures` alias (a dashboards.throttle.FailureLog)."""

    def __init__(self, es: AsyncElasticsearch, alias: str) -> None:
        self._es = es
        self._alias = alias

    async def read(self, key: str) -> list[datetime]:
        """The key's failure times, oldest first (a real-time get)."""
        try:
            doc = (await self._es.get(index=self._alias, id=_token_id(key)))["_source"]
        except NotFoundError:
            return []
        return [datetime.fromisoformat(t) for t in doc["times"]]

    async def change(self, key: str, edit: Edit) -> None:
        """Read, edit, write conditionally on the version read; a conflict re-reads and edits again."""
        doc_id = _token_id(key)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                resp = await self._es.get(index=self._alias, id=doc_id)
                times = [datetime.fromisoformat(t) for t in resp["_source"]["times"]]
                version: dict[str, Any] | None = {"if_seq_no": resp["_seq_no"],
                                                  "if_primary_term": resp["_primary_term"]}
            except NotFoundError:
                times, version = [], None
            changed = edit(times)
            if changed is None:
                return
            try:
                if version is not None and not changed:
                    await self._es.delete(index=self._alias, id=doc_id, **version)
                elif changed:
                    doc = {"times": [t.isoformat() for t in changed], "updated_at": changed[-1].isoformat()}
                    if version is None:
                        await self._es.create(index=self._alias, id=doc_id, document=doc)
                    else:
                        await self._es.index(index=self._alias, id=doc_id, document=doc, **version)
                return
            except (ConflictError, NotFoundError):
                continue  # another replica changed the key between our read and our write
        raise ThrottleContended(f"{MAX_CONFLICT_RETRIES} conflicting writes in a row to one sign-in throttle key")

    async def purge(self, before: datetime) -> int:
        """Delete keys whose last failure is older than `before` (they no longer count); returns how many."""
        await self._es.indices.refresh(index=self._alias)
        resp = await self._es.search(index=self._alias, size=1000, source=False, seq_no_primary_term=True,
                                     query={"range": {"updated_at": {"lt": before.isoformat()}}})
        deleted = 0
        for hit in resp["hits"]["hits"]:
            try:  # conditional: a failure counted since the search keeps its key
                await self._es.delete(index=self._alias, id=hit["_id"], if_seq_no=hit["_seq_no"],
                                      if_primary_term=hit["_primary_term"])
                deleted += 1
            except (ConflictError, NotFoundError):
                pass
        return deleted
