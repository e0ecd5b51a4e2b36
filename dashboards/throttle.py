"""Sign-in throttling: too many wrong passwords for one user name, or from one address, lock sign-in a while.

Counts live in this process's memory: a restart forgets them, and behind several app processes each counts
on its own (the effective limit is multiplied by the process count). That is enough against password guessing
at the speed of argon2id; the lock is short so that it cannot be used to keep an operator out for long.
"""
from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

MAX_KEYS: Final = 10_000
"""Names and addresses remembered at most (the oldest are forgotten): random user names cannot fill memory."""


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failures within `window` lock sign-in for that user name or that address."""

    per_user: int = 5
    per_address: int = 30
    window: timedelta = timedelta(minutes=15)


class SignInThrottle:
    """Counts failed sign-ins per user name and per client address over a sliding window."""

    def __init__(self, policy: ThrottlePolicy = ThrottlePolicy(),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.policy = policy
        self._clock = clock
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def retry_after(self, username: str, address: str | None) -> timedelta | None:
        """How long this user name or address must wait before trying again; None when it may try now."""
        now = self._clock()
        waits = [self._wait(key, limit, now) for key, limit in self._keys(username, address)]
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def failed(self, username: str, address: str | None) -> None:
        """Count one wrong password (or unknown user name)."""
        now = self._clock()
        for key, _ in self._keys(username, address):
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            self._failures[key] = times  # most recent last, so the oldest are forgotten first
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        """A correct password clears the user name's count (not the address's: one good account proves little)."""
        self._failures.pop(_user_key(username), None)

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(_user_key(username), self.policy.per_user)]
        if address:
            keys.append((f"address:{address}", self.policy.per_address))
        return keys

    def _wait(self, key: str, limit: int, now: datetime) -> timedelta | None:
        times = self._failures.get(key)
        if not times:
            return None
        while times and now - times[0] >= self.policy.window:
            times.popleft()
        if len(times) < limit:
            return None
        return times[-limit] + self.policy.window - now


def _user_key(username: str) -> str:
    return f"user:{username.strip().casefold()}"
