"""Claims this process read or wrote lately, each with the version it had: a read-through cache for ingest.

Every ingest batch needs the claims its posts may join. Most are the claims the previous batches just wrote,
so the store asks Elasticsearch only for the candidates' ids and versions and takes from here the claims
whose version is still the one it knows; a claim another process changed has a new version and is read again.
Elasticsearch stays the only truth: a stale entry is never used, only ignored.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Final, Generic, TypeVar

from social_monitor.claims import Claim

SIZE: Final = 4_000
"""Claims kept: about 30 KiB each with 8 signatures and their band keys, so ~120 MiB at most."""

V = TypeVar("V")


class ClaimCache(Generic[V]):
    """Least-recently-used claims by id, each valid only at the version it was stored with."""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[Claim, V]] = OrderedDict()

    def get(self, claim_id: str, version: V) -> Claim | None:
        """The claim if it is cached at exactly this version."""
        entry = self._entries.get(claim_id)
        if entry is None or entry[1] != version:
            return None
        self._entries.move_to_end(claim_id)
        return entry[0]

    def put(self, claim: Claim, version: V) -> None:
        """Remember the claim as it is at `version` (just read or just written)."""
        self._entries[claim.id] = (claim, version)
        self._entries.move_to_end(claim.id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, claim_id: str) -> None:
        """Drop the claim (a write of it failed or conflicted: its version is unknown)."""
        self._entries.pop(claim_id, None)

    def __len__(self) -> int:
        return len(self._entries)
