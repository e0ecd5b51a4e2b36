"""Candidate pairs -> claims, and posts -> known claims: pure functions over scored pairs (no I/O).

A new post is compared with candidate *member posts* (the most similar indexed posts, found by Elasticsearch,
and the most similar posts of its own batch), not with one claim text: a claim's members are many wordings
of it, and a new wording usually resembles some of them. Each candidate claim gets the mean of the post's
TOP_K best probabilities against its members; the post joins the best claim at or above the threshold,
unless one of that claim's scored members conflicts with it (another district, date, amount, named place or
polarity: a cannot-link), else it opens a claim of its own.

Order: posts are assigned in a canonical order (their time, then their id) and every score depends only on
the two texts, so a batch and the same posts sent one by one in that order give the same claims; sent in
another order, they give the same claims whenever no post sits between two claims (measured on the dev set
by tests/social_monitor/test_grouping.py; a post linking two compatible claims does not merge them).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import numpy as np

from social_monitor import slots
from social_monitor.pairs import PairScorer, Views
from social_monitor.slots import Slots

TOP_K: Final = 2
"""Best member probabilities averaged per candidate claim (one lucky pair must not decide a merge)."""
BATCH_NEIGHBOURS: Final = 15
"""Most similar posts of the same batch scored against each post (both ways: the lists are symmetrised)."""
MIN_SIMILARITY: Final = 0.05
"""Char/word cosine under which a pair is not worth scoring (unrelated texts)."""
REGISTRY_CANDIDATES: Final = 5

K = TypeVar("K")


def neighbours(a: Views, b: Views, k: int, *, same: bool = False) -> list[list[int]]:
    """For each row of `a`, up to `k` rows of `b` most similar by mean char and word cosine (at least
    MIN_SIMILARITY); with `same` (a is b) a row is not its own neighbour and the lists are symmetric."""
    if not len(a) or not len(b):
        return [[] for _ in range(len(a))]
    sim = ((a.chars @ b.chars.T).toarray() + (a.words @ b.words.T).toarray()) / 2
    if same:
        np.fill_diagonal(sim, -1.0)
    k = min(k, sim.shape[1])
    top = np.argpartition(-sim, k - 1, axis=1)[:, :k] if k < sim.shape[1] else np.tile(np.arange(sim.shape[1]),
                                                                                         (len(a), 1))
    found: list[set[int]] = [set() for _ in range(len(a))]
    for i, row in enumerate(top):
        for j in row:
            if sim[i, j] >= MIN_SIMILARITY:
                found[i].add(int(j))
                if same:
                    found[int(j)].add(i)
    return [sorted(s) for s in found]


@dataclass(frozen=True, slots=True)
class Link:
    """A scored pair between a new post and a member (indexed post, or another post of the batch)."""

    member: int
    probability: float
    veto: bool


def assign(order: Sequence[int], links: Mapping[int, Sequence[Link]], member_claim: Mapping[int, K],
           threshold: float, slots_of: Mapping[int, Slots] | None = None) -> dict[int, K | int]:
    """Each new post's claim: an existing claim key (from `member_claim`, the claims of indexed members), or
    the new post that opened its claim (an int: the first post of it in `order`).

    `order`: new posts in canonical order; `links[i]`: post i's scored pairs, whose `member` is either an
    indexed member (a key of `member_claim`) or another new post (an int in `order`; only those assigned
    before i count). New posts and members share one index space (the caller numbers them).
    `slots_of`: the slots of members and new posts; a post does not join a claim whose known members, pooled
    (slots.merge), conflict with it: the first post of a close sibling must not open the door to the others.
    """
    claim_of: dict[int, K | int] = {}
    members: dict[K | int, list[int]] = defaultdict(list)
    if slots_of is not None:
        for m, c in member_claim.items():
            members[c].append(m)
    for i in order:
        scores: dict[K | int, list[float]] = defaultdict(list)
        blocked: set[K | int] = set()
        for link in links.get(i, ()):
            claim: K | int | None = member_claim.get(link.member) if link.member in member_claim \
                else claim_of.get(link.member)
            if claim is None:
                continue  # a post of the batch that comes later: it will compare itself with this one
            if link.veto:
                blocked.add(claim)
            else:
                scores[claim].append(link.probability)
        best: tuple[float, str] | None = None
        chosen: K | int = i
        for claim, ps in scores.items():
            if claim in blocked or (slots_of is not None and _clashes(slots_of, i, members[claim])):
                continue
            value = float(np.mean(sorted(ps, reverse=True)[:TOP_K]))
            key = (value, str(claim))
            if value >= threshold and (best is None or key[0] > best[0] or (key[0] == best[0] and key[1] < best[1])):
                best, chosen = key, claim
        claim_of[i] = chosen
        members[chosen].append(i)
    return claim_of


def _clashes(slots_of: Mapping[int, Slots], post: int, members: Sequence[int]) -> bool:
    known = [slots_of[m] for m in members if m in slots_of]
    return bool(known) and post in slots_of and bool(slots.conflicts(slots.compare(slots_of[post],
                                                                                  slots.merge(known))))


class RegistryMatcher(Generic[K]):
    """Known claims (the registry's texts, analysed once) matched against posts with the pair scorer."""

    def __init__(self, scorer: PairScorer, entries: Sequence[K], views: Views | None) -> None:
        self._scorer, self._entries, self._views = scorer, list(entries), views

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, posts: Views) -> list[tuple[K, float] | None]:
        """For each post, the known claim it repeats (probability >= registry_threshold, no conflict), if any."""
        if self._views is None or not len(posts):
            return [None] * len(posts)
        near = neighbours(posts, self._views, REGISTRY_CANDIDATES)
        pairs = [(i, j) for i, js in enumerate(near) for j in js]
        p, veto = self._scorer.score_pairs(posts, self._views, pairs, registry=True)
        best: list[tuple[K, float] | None] = [None] * len(posts)
        for (i, j), prob, vetoed in zip(pairs, p, veto):
            if vetoed or prob < self._scorer.registry_threshold:
                continue
            current = best[i]
            if current is None or prob > current[1]:
                best[i] = (self._entries[j], float(prob))
        return best
