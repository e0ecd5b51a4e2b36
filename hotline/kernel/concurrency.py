"""Read, change, save under optimistic concurrency: the loop every domain ran by hand.

Each document carries the `Version` it was read at; a save conditional on it fails with the domain's conflict
error when someone saved in between. The answer is always the same: read again, apply the same change to what
is there now, try again, and give up after a few rounds (the caller's error then says "try again later").
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
V = TypeVar("V")
S = TypeVar("S")


async def change_saved(read: Callable[[], Awaitable[tuple[T, V]]],
                       change: Callable[[T], Awaitable[T]],
                       save: Callable[[T, V], Awaitable[S]], *, conflict: type[Exception], attempts: int,
                       gave_up: Callable[[], Exception]) -> tuple[T, T | None, S | None]:
    """(before, after, what `save` returned); `after` and the save's result are None when `change` had
    nothing to do (it returned the very record it was given: records are immutable, so an unchanged one is the
    same object). A `conflict` from `save` re-reads and changes again, `attempts` times at most; then
    `gave_up()` is raised."""
    for _ in range(attempts):
        current, version = await read()
        updated = await change(current)
        if updated is current:
            return current, None, None
        try:
            saved = await save(updated, version)
        except conflict:
            continue
        return current, updated, saved
    raise gave_up()
