"""Matching texts against the known-claims registry by shingle containment (the near-copy matcher, used when
no claim matcher is configured).


A known claim is the comms team's one-sentence summary; a post repeating it usually says more around it.
So the test is containment (how much of the claim's shingles the post has), not symmetric similarity, and
an inverted index from shingle to claims keeps it to the shingles of the post.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from social_monitor.claims import KnownClaim
from social_monitor.similarity import KNOWN_CLAIM_CONTAINMENT, shingles


class KnownClaimMatcher:
    """Finds the known claim a folded text repeats, if any."""

    def __init__(self, known: Sequence[tuple[KnownClaim, str]], threshold: float = KNOWN_CLAIM_CONTAINMENT) -> None:
        """`known`: each known claim with its accent-folded text."""
        self._claims = [k for k, _ in known]
        self._sizes = []
        self._index: dict[str, list[int]] = defaultdict(list)
        for i, (_, folded) in enumerate(known):
            grams = shingles(folded)
            self._sizes.append(len(grams))
            for gram in grams:
                self._index[gram].append(i)
        self._threshold = threshold

    def __len__(self) -> int:
        return len(self._claims)

    def match(self, folded: str) -> tuple[KnownClaim, float] | None:
        """The known claim the text contains most of, if at least `threshold` of it; with that share."""
        hits: Counter[int] = Counter()
        for gram in shingles(folded):
            hits.update(self._index.get(gram, ()))
        best = max(((i, n / self._sizes[i]) for i, n in hits.items() if self._sizes[i]), key=lambda p: p[1],
                   default=None)
        if best is None or best[1] < self._threshold:
            return None
        return self._claims[best[0]], best[1]
