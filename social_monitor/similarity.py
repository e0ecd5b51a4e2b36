"""Near-duplicate detection for claims: MinHash over shingles of the accent-folded text, banded for lookup.

Why this shape (issue 5): at a million posts, comparing each new post with every claim is out of the
question. Each claim stores its MinHash signature and its LSH band keys (keywords in the `claims` index), so
the candidates of a whole batch are one `terms` query, and the estimated Jaccard similarity of the
signatures verifies them. Nothing lives only in memory: a restart or a second process sees the same claims.

Shingles are character 5-grams of the folded words (plus the words themselves): a rumour retyped with or
without diacritics folds to the same text, and a reworded copy still shares most 5-grams, which word
shingles of short posts do not. With 32 bands of 4 rows, pairs at similarity 0.3 become candidates with
probability 0.23, at 0.5 with 0.87 (1 - (1 - s^4)^32); a claim keeps the signatures of up to MEMBERS of its
mentions, so a new wording only needs to resemble one of them. On the labelled sample
(social_monitor/data/claims_sample.jsonl, measured by tests/social_monitor/test_similarity.py) this gives
pairwise precision 1.00 and recall 0.92.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
from datasketch import MinHash

NUM_PERM: Final = 128
BANDS: Final = 32
ROWS: Final = NUM_PERM // BANDS
CHAR_GRAM: Final = 5
SEED: Final = 1022
SAME_CLAIM: Final = 0.3
"""Estimated Jaccard at or above which two texts are mentions of one claim (tuned on the labelled sample)."""
MEMBERS: Final = 8
"""Signatures a claim keeps: its first mentions, which define what the claim says."""
KNOWN_CLAIM_CONTAINMENT: Final = 0.6
"""Share of a known claim's shingles a post must contain to repeat it (a post usually says more than the claim)."""

_WORD: Final = re.compile(r"[a-z0-9]+")
# One MinHash template: its permutations are derived from SEED, so every process computes equal signatures.
_TEMPLATE: Final = MinHash(num_perm=NUM_PERM, seed=SEED)


def shingles(folded: str) -> set[str]:
    """Words and character 5-grams (within the space-joined words) of an accent-folded text."""
    words = _WORD.findall(folded.lower())
    if not words:
        return set()
    joined = " ".join(words)
    grams = {joined[i:i + CHAR_GRAM] for i in range(max(1, len(joined) - CHAR_GRAM + 1))}
    return grams | {w for w in words if len(w) > 2}


def band_keys(values: np.ndarray) -> tuple[str, ...]:
    """One key per band: the band number and a short hash of its rows (equal keys = candidate pair)."""
    raw = values.astype(np.uint64, copy=False).tobytes()
    width = ROWS * 8
    return tuple(f"{band}:{hashlib.blake2b(raw[band * width:(band + 1) * width], digest_size=8).hexdigest()}"
                 for band in range(BANDS))


class Signature:
    """The MinHash of one text and the LSH band keys derived from it (computed once, when first needed).

    Immutable; the values live in one read-only uint64 array (1 KiB), not in a tuple of Python ints (~5 KiB),
    because claims read back with their signatures are kept in memory by the store's claim cache.
    """

    __slots__ = ("array", "_bands")

    def __init__(self, values: Iterable[int] | np.ndarray) -> None:
        array = np.array(values, dtype=np.uint64)
        if array.shape != (NUM_PERM,):
            raise ValueError(f"a signature has {NUM_PERM} values, not {array.shape}")
        array.flags.writeable = False
        self.array: np.ndarray = array
        self._bands: tuple[str, ...] | None = None

    @property
    def bands(self) -> tuple[str, ...]:
        """The LSH band keys, computed on first use: signatures read back with a claim rarely need them."""
        if self._bands is None:
            self._bands = band_keys(self.array)
        return self._bands

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signature) and bool(np.array_equal(self.array, other.array))

    def __hash__(self) -> int:
        return hash(self.array.tobytes())

    def __repr__(self) -> str:
        return f"Signature({self.array[:4].tolist()}...)"

    def similarity(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two shingle sets."""
        return float(np.count_nonzero(self.array == other.array)) / NUM_PERM


def signature(folded: str) -> Signature | None:
    """The signature of a folded text; None for a text with no words (nothing to compare)."""
    grams = shingles(folded)
    if not grams:
        return None
    minhash = _TEMPLATE.copy()
    minhash.update_batch([g.encode() for g in grams])
    return Signature(minhash.hashvalues)


def containment(claim: set[str], post: set[str]) -> float:
    """|claim ∩ post| / |claim|: how much of a (short) known claim a (longer) post repeats."""
    return len(claim & post) / len(claim) if claim else 0.0


def stack(signatures: Sequence[Signature]) -> np.ndarray:
    """Signatures as the rows of one matrix, for `best_group`."""
    return np.stack([s.array for s in signatures]) if signatures else np.empty((0, NUM_PERM), dtype=np.uint64)


def best_group(target: Signature, groups: Sequence[tuple[str, np.ndarray]],
               threshold: float = SAME_CLAIM) -> tuple[str, float] | None:
    """The group holding the signature most similar to `target`, at or above `threshold`, as (id, similarity);
    groups are signatures stacked as matrices, so all are compared in one numpy operation."""
    groups = [(gid, rows) for gid, rows in groups if len(rows)]
    if not groups:
        return None
    scores = (np.concatenate([rows for _, rows in groups]) == target.array).sum(axis=1)
    owners = np.repeat(np.arange(len(groups)), [len(rows) for _, rows in groups])
    best = int(scores.argmax())  # the first of equals
    similarity = float(scores[best]) / NUM_PERM
    return (groups[int(owners[best])][0], similarity) if similarity >= threshold else None
