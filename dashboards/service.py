"""Accounts: sign-in, and admin changes to users, each one written to the audit log."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from dashboards.accounts import ROLES, USERNAME, PasswordChecker, User, parse_wards
from dashboards.errors import InvalidUser, UserNotFound
from dashboards.store import AuditEntry, AuditStore, SessionStore, UserStore

log = logging.getLogger(__name__)


class CheckerBusy(Exception):
    """Too many password checks are queued; the caller answers "try again shortly"."""


async def authenticate(username: str, password: str, *, users: UserStore, checker: PasswordChecker) -> User | None:
    """The active user with this password, or None (same answer and similar time for every failure).

    Raises CheckerBusy when the password could not be checked now.
    """
    user: User | None = None
    if USERNAME.match(username.strip().lower()):  # other names are no user's and must not reach a URL path
        try:
            user = await users.get(username)
        except UserNotFound:
            user = None
    matches = await checker.verify(user.password_hash if user else None, password)
    if matches is None:
        raise CheckerBusy("password checks are queued to their limit")
    if user is None or not matches or not user.active:
        return None
    return user


async def add_user(username: str, role: str, password: str, display_name: str, *, actor: str, now: datetime,
                   users: UserStore, audit: AuditStore, wards: tuple[str, ...] | str = ()) -> User:
    """Create a user and record who did it."""
    user = User.new(username, role, password, now, display_name, parse_wards(wards))
    await users.create(user)
    await audit.record(AuditEntry(now, actor, "user_created", "user", user.username, {}, user.as_public()))
    log.info("user %s created by %s with role %s", user.username, actor, role)
    return user


async def reset_password(username: str, password: str, *, actor: str, now: datetime, users: UserStore,
                         sessions: SessionStore, audit: AuditStore) -> User:
    """Set a new password and end the user's sessions."""
    user = (await users.get(username)).with_password(password, now)
    await users.save(user)
    await sessions.delete_user_sessions(user.username)
    await audit.record(AuditEntry(now, actor, "password_reset", "user", user.username, {}, {}))
    return user


async def update_user(username: str, *, role: str | None, active: bool | None, display_name: str | None,
                      actor: str, now: datetime, users: UserStore, sessions: SessionStore,
                      audit: AuditStore, wards: str | None = None) -> User:
    """Change role, name or active flag; a change of role or deactivation ends the user's sessions."""
    before = await users.get(username)
    if role is not None and role not in ROLES:
        raise InvalidUser(f"vai trò phải là một trong: {', '.join(ROLES)}")
    if actor == before.username and (active is False or (role is not None and role != "admin")):
        raise InvalidUser("không thể tự khóa hoặc tự bỏ quyền quản trị của chính mình")
    after = replace(before, role=role or before.role, active=before.active if active is None else active,
                    display_name=(display_name or before.display_name).strip(), updated_at=now,
                    wards=before.wards if wards is None else parse_wards(wards))
    if after == before:
        return before
    await users.save(after)
    if after.role != before.role or not after.active:
        await sessions.delete_user_sessions(after.username)
    await audit.record(AuditEntry(now, actor, "user_updated", "user", after.username, before.as_public(),
                                  after.as_public()))
    return after
