"""Users, their password hashes (argon2id), and their store."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from dashboards.errors import InvalidUser

ROLES: Final = ("operator", "comms", "leader", "admin", "medical")
USERNAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD: Final = 10
_HASHER: Final = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this keeps the time of a login for an unknown user equal to a known one's.
_DUMMY_HASH: Final = _HASHER.hash("not-a-real-password")


def parse_wards(entries: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    """ "Dĩ An/Đông Hòa; Dĩ An/Tân Bình" (or a list) -> ("Dĩ An/Đông Hòa", "Dĩ An/Tân Bình")."""
    items = entries.replace("\n", ";").split(";") if isinstance(entries, str) else list(entries)
    wards = []
    for item in (" ".join(i.split()) for i in items):
        if not item:
            continue
        district, _, ward = (part.strip() for part in item.partition("/"))
        if not district or not ward:
            raise InvalidUser(f"phường phải viết dạng huyện/phường, ví dụ Dĩ An/Đông Hòa (không phải {item!r})")
        wards.append(f"{district}/{ward}")
    return tuple(dict.fromkeys(wards))


def hash_password(password: str) -> str:
    """An argon2id hash of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"mật khẩu cần ít nhất {MIN_PASSWORD} ký tự")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; constant work whether or not the user exists."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class PasswordChecker:
    """Verifies passwords in a small thread pool of its own (issue 14, #2).

    argon2id costs tens of milliseconds of CPU per check. On the event loop a burst of sign-ins stalled every
    other request (/healthz, Twilio's webhooks) for seconds; argon2-cffi releases the GIL, so in threads the
    loop keeps answering. At most `max_concurrent` checks run at once and at most `max_waiting` wait: past
    that `verify` answers None (busy) at once instead of queueing without bound.
    """

    def __init__(self, max_concurrent: int = 2, max_waiting: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="argon2")
        self._max_waiting = max_concurrent + max_waiting
        self._in_flight = 0

    async def verify(self, password_hash: str | None, password: str) -> bool | None:
        """True if `password` matches (constant work for an unknown user); None when too busy to check."""
        if self._in_flight >= self._max_waiting:
            return None
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, verify_password, password_hash,
                                                                    password)
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        """Stop the threads (queued checks are dropped)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class User:
    """Someone who signs in."""

    username: str
    display_name: str
    role: str
    password_hash: str
    active: bool
    created_at: datetime
    updated_at: datetime
    wards: tuple[str, ...] = ()
    """"district/ward" entries; a `medical` user sees home-isolation cases of these wards only (issue 17)."""

    @classmethod
    def new(cls, username: str, role: str, password: str, now: datetime, display_name: str = "",
            wards: tuple[str, ...] = ()) -> User:
        """Validate and build a new user."""
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidUser("tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch (2–40 ký tự)")
        if role not in ROLES:
            raise InvalidUser(f"vai trò phải là một trong: {', '.join(ROLES)}")
        return cls(username, display_name.strip() or username, role, hash_password(password), True, now, now,
                   parse_wards(wards))

    def as_doc(self) -> dict[str, Any]:
        """The stored document."""
        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "password_hash": self.password_hash, "active": self.active,
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
                "wards": list(self.wards)}

    def as_public(self) -> dict[str, Any]:
        """What the audit log and the admin page may show (never the hash)."""
        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "active": self.active, "wards": list(self.wards)}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> User:
        """Rebuild from the stored document."""
        return cls(doc["username"], doc["display_name"], doc["role"], doc["password_hash"], doc["active"],
                   datetime.fromisoformat(doc["created_at"]), datetime.fromisoformat(doc["updated_at"]),
                   tuple(doc.get("wards") or ()))

    def with_password(self, password: str, now: datetime) -> User:
        """A copy with a new password."""
        return replace(self, password_hash=hash_password(password), updated_at=now)
