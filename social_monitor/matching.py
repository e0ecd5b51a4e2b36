"""Matching posts to claims and to known claims with the pair scorer (issue 11): candidates, scores, claims.

For a batch of new posts, Elasticsearch gives each post its most similar grouped posts (one msearch of
more_like_this queries over the folded text), the batch gives each post its most similar posts of the batch,
the pair scorer scores both kinds of pairs, and grouping.assign turns the scores into claims. Each post is
analysed once (`ClaimMatcher.views`, in the prepare half of ingest); the views of recent posts are kept, so a
candidate member seen lately is not analysed again.

Known claims go through the same scorer: their registry texts are analysed once per load of the registry,
and each post is scored against the registry texts most like it (`registry_threshold`).
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

import numpy as np

from classifier.text import NormalisedText, normalise
from social_monitor import lexicon
from social_monitor.claims import FLAGGING_VERDICTS, KnownClaim
from social_monitor.grouping import BATCH_NEIGHBOURS, TOP_K, Link, RegistryMatcher, assign, neighbours
from social_monitor.pairs import PairScorer, TextInfo, Views
from social_monitor.store import SimilarPost

CANDIDATES: Final = 12
"""Grouped posts Elasticsearch returns per new post."""
PER_CLAIM: Final = 3
"""Of those, the best-ranked posts of each claim that are scored (TOP_K of them count; a third for a veto)."""
VIEW_CACHE: Final = 20_000
"""Posts whose views are kept (a few KiB each)."""


class SimilarSource(Protocol):
    """Where candidate member posts come from (social_monitor.store.SocialStore)."""

    async def similar_posts(self, folded: Sequence[str], size: int) -> list[list[SimilarPost]]: ...


class ClaimMatcher:
    """The pair scorer, wired to candidate retrieval, with a cache of recent posts' views."""

    def __init__(self, scorer: PairScorer, cache_size: int = VIEW_CACHE) -> None:
        self.scorer = scorer
        self._cache: OrderedDict[str, tuple[Views, int]] = OrderedDict()
        self._cache_size = cache_size

    def views(self, forms: Sequence[NormalisedText], at: Sequence[datetime | None]) -> Views:
        """Analyse new posts (blocking; ~0.3 ms a post)."""
        return self.scorer.views(forms, at)

    def remember(self, ids: Sequence[str], views: Views) -> None:
        """Keep the views of posts just grouped: the next batches compare themselves with them."""
        for row, post_id in enumerate(ids):
            self._cache[post_id] = (views, row)
            self._cache.move_to_end(post_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _member_views(self, members: Sequence[SimilarPost]) -> Views | None:
        """Views of candidate members, from the cache or analysed now, in order."""
        if not members:
            return None
        missing = [m for m in members if m.id not in self._cache]
        if missing:
            fresh = self.scorer.views([normalise(m.text) for m in missing], [m.published_at for m in missing])
            self.remember([m.id for m in missing], fresh)
        by_batch: dict[int, tuple[Views, list[int], list[int]]] = {}
        for position, member in enumerate(members):
            views, row = self._cache[member.id]
            entry = by_batch.setdefault(id(views), (views, [], []))
            entry[1].append(row)
            entry[2].append(position)
        parts = [views.take(rows) for views, rows, _ in by_batch.values()]
        stacked = Views.stack(parts)
        positions = [p for _, _, ps in by_batch.values() for p in ps]
        inverse = np.empty(len(positions), dtype=np.int64)
        inverse[np.asarray(positions)] = np.arange(len(positions))
        return stacked.take(inverse.tolist())

    async def group(self, source: SimilarSource, ids: Sequence[str], views: Views, seen_at: Sequence[datetime]
                    ) -> dict[int, str | int]:
        """Each new post's claim: an existing claim id, or (an int) the new post that opens its claim."""
        if not ids:
            return {}
        hits = await source.similar_posts([_query(i) for i in views.info], CANDIDATES)
        new = set(ids)
        members: dict[str, SimilarPost] = {}
        kept: list[list[SimilarPost]] = []
        for found in hits:
            per_claim: dict[str, int] = defaultdict(int)
            mine = []
            for hit in found:
                if hit.id not in new and per_claim[hit.claim_id] < PER_CLAIM:
                    per_claim[hit.claim_id] += 1
                    mine.append(hit)
                    members.setdefault(hit.id, hit)
            kept.append(mine)
        hits = kept
        return await asyncio.to_thread(self._group, ids, views, seen_at, hits, members)

    def _group(self, ids: Sequence[str], views: Views, seen_at: Sequence[datetime],
               hits: Sequence[Sequence[SimilarPost]], members: dict[str, SimilarPost]) -> dict[int, str | int]:
        n = len(ids)
        member_ids = list(members)
        index = {m: k for k, m in enumerate(member_ids)}
        member_views = self._member_views([members[m] for m in member_ids])
        links: dict[int, list[Link]] = defaultdict(list)
        batch_pairs = sorted({(min(i, j), max(i, j)) for i, js in enumerate(neighbours(views, views, BATCH_NEIGHBOURS,
                                                                                       same=True)) for j in js})
        p, veto = self.scorer.score_pairs(views, views, batch_pairs)
        for (i, j), prob, vetoed in zip(batch_pairs, p, veto):
            links[i].append(Link(j, float(prob), bool(vetoed)))
            links[j].append(Link(i, float(prob), bool(vetoed)))
        slots_of = {i: views.info[i].slots for i in range(n)}
        member_claim: dict[int, str] = {}
        if member_views is not None:
            es_pairs = sorted({(i, index[h.id]) for i, found in enumerate(hits) for h in found if h.id in index})
            p, veto = self.scorer.score_pairs(views, member_views, es_pairs)
            for (i, k), prob, vetoed in zip(es_pairs, p, veto):
                links[i].append(Link(n + k, float(prob), bool(vetoed)))
            for k, m in enumerate(member_ids):
                member_claim[n + k] = members[m].claim_id
                slots_of[n + k] = member_views.info[k].slots
        order = sorted(range(n), key=lambda i: (seen_at[i], ids[i]))
        return assign(order, links, member_claim, self.scorer.threshold, slots_of)

    def registry(self, known: Sequence[KnownClaim]) -> RegistryMatcher[KnownClaim]:
        """The known claims, analysed once (a false claim's registry text is read as a verdict frame)."""
        if not known:
            return RegistryMatcher(self.scorer, [], None)
        flagging = [k for k in known if k.verdict in FLAGGING_VERDICTS]
        others = [k for k in known if k.verdict not in FLAGGING_VERDICTS]
        parts = []
        if flagging:
            parts.append(self.scorer.views([normalise(k.text) for k in flagging], [None] * len(flagging),
                                           verdict_frame=True))
        if others:
            parts.append(self.scorer.views([normalise(k.text) for k in others], [None] * len(others)))
        return RegistryMatcher(self.scorer, [*flagging, *others], Views.stack(parts))

    async def similar_claims(self, source: SimilarSource, text: str, *, size: int = 10,
                             at: datetime | None = None) -> list[tuple[str, float]]:
        """Claims whose posts say what `text` says, best first, as (claim id, score): the mean of the text's
        TOP_K best probabilities against each claim's most similar posts; conflicting claims are left out."""
        views = await asyncio.to_thread(self.scorer.views, [normalise(text)], [at])
        hits = (await source.similar_posts([_query(views.info[0])], CANDIDATES * 2))[0]
        if not hits:
            return []
        member_views = await asyncio.to_thread(self._member_views, hits)
        assert member_views is not None
        p, veto = await asyncio.to_thread(self.scorer.score_pairs, views, member_views,
                                          [(0, k) for k in range(len(hits))])
        scores: dict[str, list[float]] = defaultdict(list)
        blocked = {h.claim_id for h, v in zip(hits, veto) if v}
        for hit, prob in zip(hits, p):
            scores[hit.claim_id].append(float(prob))
        ranked = [(c, float(np.mean(sorted(ps, reverse=True)[:TOP_K]))) for c, ps in scores.items() if c not in blocked]
        return sorted(ranked, key=lambda cs: (-cs[1], cs[0]))[:size]


def _query(info: TextInfo) -> str:
    """The text more_like_this looks for: the folded words plus a few other names of each concept the text
    mentions ("khóa chặt" also looks for "phong tỏa", "lockdown"), so rewordings are found too."""
    synonyms = [p for c in sorted(info.concepts) if c in lexicon.EVENT_CONCEPTS for p in lexicon.CONCEPTS[c][:3]]
    return " ".join([info.folded, *synonyms])
