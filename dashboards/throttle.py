"""Sign-in throttling: each attempt is reserved before its password is checked, per user name and per address.

An attempt counts as a failure from the moment it is admitted (`reserve`, synchronous, so no other request
runs between the check and the count) until a correct password withdraws it (`succeeded`). So 40 parallel
guesses for one name get at most `per_user` passwords checked; the rest are refused unchecked (issue 14, #1).

A user name is slowed down, not locked: past `per_user` failures in the window each further attempt waits a
delay that doubles per failure up to `max_delay`, counted from the last failure (issue 14, #13). Guessing
stays slow, and the name's owner only waits minutes, never the whole window. An address is refused after
`per_address` failures in the window; behind a reverse proxy the address is the client's (TRUSTED_PROXIES).

Counts live in this process's memory: a restart forgets them, and behind several app processes each counts
on its own (the effective limit is multiplied by the process count).
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
    """`per_user` free failures per name then a doubling delay; `per_address` failures lock an address."""

    per_user: int = 5
    per_address: int = 30
    window: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=5)


class SignInThrottle:
    """Counts sign-in attempts per user name and per client address over a sliding window."""

    def __init__(self, policy: ThrottlePolicy = ThrottlePolicy(),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.policy = policy
        self._clock = clock
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def reserve(self, username: str, address: str | None) -> timedelta | None:
        """Admit one attempt and count it as a failure until `succeeded`; or return how long to wait.

        Synchronous on purpose: in one event loop nothing can run between the check and the count.
        """
        now = self._clock()
        wait = self.retry_after(username, address, now=now)
        if wait is not None:
            return wait  # a refused attempt is not counted: it cannot lengthen the delay
        for key, _ in self._keys(username, address):
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            self._failures[key] = times  # most recent last, so the oldest are forgotten first
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)
        return None

    def retry_after(self, username: str, address: str | None, *, now: datetime | None = None) -> timedelta | None:
        """How long this user name or address must wait before trying again; None when it may try now."""
        now = now or self._clock()
        waits = [w for w in (self._user_wait(username, now), self._address_wait(address, now)) if w is not None]
        return max(waits) if waits else None

    def failed(self, username: str, address: str | None) -> None:
        """Count one wrong password outside `reserve` (tests and tools); the web flow counts in `reserve`."""
        now = self._clock()
        for key, _ in self._keys(username, address):
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            self._failures[key] = times

    def succeeded(self, username: str, address: str | None = None) -> None:
        """A correct password clears the user name's count and withdraws its attempt from the address's."""
        self._failures.pop(_user_key(username), None)
        self._withdraw(f"address:{address}" if address else None)

    def release(self, username: str, address: str | None) -> None:
        """Withdraw one reserved attempt whose password was never checked."""
        self._withdraw(_user_key(username))
        self._withdraw(f"address:{address}" if address else None)

    def _withdraw(self, key: str | None) -> None:
        times = self._failures.get(key) if key else None
        if times:
            times.pop()

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(_user_key(username), self.policy.per_user)]
        if address:
            keys.append((f"address:{address}", self.policy.per_address))
        return keys

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        times = self._failures.get(key)
        if not times:
            return None
        while times and now - times[0] >= self.policy.window:
            times.popleft()
        return times

    def _user_wait(self, username: str, now: datetime) -> timedelta | None:
        times = self._recent(_user_key(username), now)
        if not times or len(times) < self.policy.per_user:
            return None
        extra = len(times) - self.policy.per_user
        delay = min(self.policy.first_delay * (2 ** min(extra, 30)), self.policy.max_delay)
        wait = times[-1] + delay - now
        return wait if wait > timedelta(0) else None

    def _address_wait(self, address: str | None, now: datetime) -> timedelta | None:
        times = self._recent(f"address:{address}", now) if address else None
        limit = self.policy.per_address
        if not times or len(times) < limit:
            return None
        return times[-limit] + self.policy.window - now


def _user_key(username: str) -> str:
    return f"user:{username.strip().casefold()}"
