"""Sign-in throttling: each attempt is reserved before its password is checked, per user name and per address.

An attempt counts as a failure from the moment it is admitted (`reserve`) until a correct password withdraws
it (`succeeded`). So 40 parallel guesses for one name get at most `per_user` passwords checked; the rest are
refused unchecked (issue 14, #1).

A user name is slowed down, not locked: past `per_user` failures in the window each further attempt waits a
delay that doubles per failure up to `max_delay`, counted from the last failure (issue 14, #13). Guessing
stays slow, and the name's owner only waits minutes, never the whole window. An address is refused after
`per_address` failures in the window; behind a reverse proxy the address is the client's (TRUSTED_PROXIES).

Where the counts live is passed in (`FailureLog`): the app keeps them in Elasticsearch (`ThrottleStore` in
dashboards/store.py), so they add up across every replica and survive a restart (issue 16); the memory log
serves a single process and the unit tests. Each key's change is atomic (a conditional write, retried on a
conflict), so the limits hold for parallel guesses spread over replicas: one admission per key per write.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final, Protocol

MAX_KEYS: Final = 10_000
"""Names and addresses a memory log remembers at most (the oldest are forgotten): random names cannot fill it."""

Edit = Callable[[list[datetime]], list[datetime] | None]
"""A change to one key's failure times, oldest first; None leaves them as they are."""


class FailureLog(Protocol):
    """Failure times per key ("user:lan", "address:10.0.0.1")."""

    async def read(self, key: str) -> list[datetime]:
        """The key's failure times, oldest first."""
        ...

    async def change(self, key: str, edit: Edit) -> None:
        """Apply `edit` to the key's times atomically (re-run on a concurrent change); empty deletes the key."""
        ...


class MemoryFailures:
    """A FailureLog in this process's memory (one process; a restart forgets it)."""

    def __init__(self) -> None:
        self._times: OrderedDict[str, list[datetime]] = OrderedDict()

    async def read(self, key: str) -> list[datetime]:
        """The key's failure times."""
        return list(self._times.get(key, ()))

    async def change(self, key: str, edit: Edit) -> None:
        """No await between the read and the write: atomic in one event loop."""
        changed = edit(list(self._times.get(key, ())))
        if changed is None:
            return
        self._times.pop(key, None)
        if changed:
            self._times[key] = changed  # most recent last, so the oldest are forgotten first
        while len(self._times) > MAX_KEYS:
            self._times.popitem(last=False)


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

    def __init__(self, policy: ThrottlePolicy = ThrottlePolicy(), failures: FailureLog | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.policy = policy
        self._failures: FailureLog = failures if failures is not None else MemoryFailures()
        self._clock = clock

    async def reserve(self, username: str, address: str | None) -> timedelta | None:
        """Admit one attempt and count it as a failure until `succeeded`; or return how long to wait.

        The address is counted first, then the name; a name that refuses gives the address's count back.
        A refused attempt is not counted: it cannot lengthen the delay.
        """
        now = self._clock()
        refused: list[timedelta] = []

        def admit(wait_of: Callable[[list[datetime]], timedelta | None]) -> Edit:
            def edit(times: list[datetime]) -> list[datetime] | None:
                times = self._recent(times, now)
                wait = wait_of(times)
                refused[:] = [wait] if wait is not None else []
                return None if wait is not None else [*times, now]
            return edit

        if address:
            await self._failures.change(_address_key(address), admit(lambda t: self._address_wait(t, now)))
            if refused:
                user_wait = self._user_wait(self._recent(await self._failures.read(_user_key(username)), now), now)
                return max(refused[0], user_wait or timedelta(0))
        await self._failures.change(_user_key(username), admit(lambda t: self._user_wait(t, now)))
        if refused:
            if address:
                await self._failures.change(_address_key(address), _without(now))
            return refused[0]
        return None

    async def retry_after(self, username: str, address: str | None) -> timedelta | None:
        """How long this user name or address must wait before trying again; None when it may try now."""
        now = self._clock()
        user = self._user_wait(self._recent(await self._failures.read(_user_key(username)), now), now)
        place = self._address_wait(self._recent(await self._failures.read(_address_key(address)), now), now) \
            if address else None
        waits = [w for w in (user, place) if w is not None]
        return max(waits) if waits else None

    async def failed(self, username: str, address: str | None) -> None:
        """Count one wrong password outside `reserve` (tests and tools); the web flow counts in `reserve`."""
        now = self._clock()
        for key in [_user_key(username), *([_address_key(address)] if address else [])]:
            await self._failures.change(key, lambda times: [*times, now])

    async def succeeded(self, username: str, address: str | None = None) -> None:
        """A correct password clears the user name's count and withdraws its attempt from the address's."""
        await self._failures.change(_user_key(username), lambda times: [] if times else None)
        if address:
            await self._failures.change(_address_key(address), _without(None))

    async def release(self, username: str, address: str | None) -> None:
        """Withdraw one reserved attempt whose password was never checked."""
        await self._failures.change(_user_key(username), _without(None))
        if address:
            await self._failures.change(_address_key(address), _without(None))

    def _recent(self, times: list[datetime], now: datetime) -> list[datetime]:
        return [t for t in times if now - t < self.policy.window]

    def _user_wait(self, times: list[datetime], now: datetime) -> timedelta | None:
        if len(times) < self.policy.per_user:
            return None
        extra = len(times) - self.policy.per_user
        delay = min(self.policy.first_delay * (2 ** min(extra, 30)), self.policy.max_delay)
        wait = times[-1] + delay - now
        return wait if wait > timedelta(0) else None

    def _address_wait(self, times: list[datetime], now: datetime) -> timedelta | None:
        limit = self.policy.per_address
        if len(times) < limit:
            return None
        wait = times[-limit] + self.policy.window - now
        return wait if wait > timedelta(0) else None


def _without(at: datetime | None) -> Edit:
    """Withdraw one attempt: the one made at `at`, or the latest."""
    def edit(times: list[datetime]) -> list[datetime] | None:
        if not times:
            return None
        index = len(times) - 1 - times[::-1].index(at) if at is not None and at in times else len(times) - 1
        return times[:index] + times[index + 1:]
    return edit


def _user_key(username: str) -> str:
    return f"user:{username.strip().casefold()}"


def _address_key(address: str | None) -> str:
    return f"address:{address}"
