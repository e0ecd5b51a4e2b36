"""Training the claim matcher on the dev split (`hotline claims train-matcher`), and grouping in memory.

Pairs: every same-claim pair of posts, every pair across a close pair, and each post's most similar posts
(hard negatives); plus each registry text against its claim's posts, its siblings' posts and its most similar
posts. Probabilities for choosing the thresholds are out-of-fold, with folds grouped by template family (a
claim, its close siblings and its registry entry), so a threshold is never chosen on pairs the model saw.
The test split is not read here.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sklearn.model_selection import GroupKFold

from classifier.text import normalise
from social_monitor import pairs as pairs_mod
from social_monitor.claim_data import FLAGGING, LabelledClaim, LabelledPost, pairwise
from social_monitor.grouping import BATCH_NEIGHBOURS, Link, RegistryMatcher, assign, neighbours
from social_monitor.pairs import PairScorer, Views, build_views, info, make_classifier, make_vectorizers

HARD_NEGATIVES: Final = 15
TARGET_PRECISION: Final = 0.95
FOLDS: Final = 5
CANDIDATES: Final = 20
"""Indexed posts a new post is compared with (the service asks Elasticsearch for as many)."""


@dataclass
class PairSet:
    """Labelled pairs of rows of two Views (post-post: a is b)."""

    pairs: list[tuple[int, int]]
    labels: np.ndarray
    groups: np.ndarray


def analyse_posts(posts: Sequence[LabelledPost]) -> tuple[list[Any], list[str]]:
    """TextInfo and folded form of each post."""
    forms = [normalise(p.text) for p in posts]
    return [info(f, p.posted_at) for f, p in zip(forms, posts)], [f.folded for f in forms]


def analyse_registry(claims: Sequence[LabelledClaim]) -> tuple[list[Any], list[str]]:
    """TextInfo and folded form of each claim's registry text (a false claim's verdict words are a frame)."""
    forms = [normalise(c.registry_text) for c in claims]
    return ([info(f, None, verdict_frame=c.verdict in FLAGGING) for f, c in zip(forms, claims)],
            [f.folded for f in forms])


def _post_pairs(views: Views, posts: Sequence[LabelledPost], family: dict[str, str],
                close: dict[str, set[str]]) -> PairSet:
    chosen: set[tuple[int, int]] = set()
    by_claim: dict[str, list[int]] = {}
    for i, p in enumerate(posts):
        if p.claim:
            by_claim.setdefault(p.claim, []).append(i)
    for members in by_claim.values():
        chosen.update((a, b) for a in members for b in members if a < b)
    for claim, members in by_claim.items():
        for sibling in close.get(claim, ()):
            chosen.update((min(a, b), max(a, b)) for a in members for b in by_claim.get(sibling, ()))
    for i, near in enumerate(neighbours(views, views, HARD_NEGATIVES, same=True)):
        chosen.update((min(i, j), max(i, j)) for j in near)
    ordered = sorted(chosen)
    labels = np.array([posts[a].claim is not None and posts[a].claim == posts[b].claim for a, b in ordered])
    groups = np.array([family.get(posts[a].claim or "", posts[a].id) for a, _ in ordered])
    return PairSet(ordered, labels, groups)


def _registry_pairs(reg: Views, posts_views: Views, claims: Sequence[LabelledClaim], posts: Sequence[LabelledPost],
                    close: dict[str, set[str]]) -> PairSet:
    chosen: set[tuple[int, int]] = set()
    for r, claim in enumerate(claims):
        related = {claim.claim, *close.get(claim.claim, ())}
        chosen.update((r, i) for i, p in enumerate(posts) if p.claim in related)
    for i, near in enumerate(neighbours(posts_views, reg, 5)):
        chosen.update((r, i) for r in near)
    ordered = sorted(chosen)
    labels = np.array([posts[i].claim == claims[r].claim for r, i in ordered])
    groups = np.array([claims[r].family for r, _ in ordered])
    return PairSet(ordered, labels, groups)


def _threshold(p: np.ndarray, labels: np.ndarray, target: float = TARGET_PRECISION) -> float:
    """The lowest threshold at which the pairs at or above it still have precision `target`."""
    order = np.argsort(-p, kind="stable")
    precision = np.cumsum(labels[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero((precision >= target) & (p[order] > 0))[0]
    return float(p[order[ok[-1]]]) if len(ok) else 1.0


def train(claims: Sequence[LabelledClaim], posts: Sequence[LabelledPost], *, version: int = 1
          ) -> tuple[PairScorer, dict[str, Any]]:
    """Fit the matcher on a split (the dev split); returns the scorer and the out-of-fold figures."""
    family = {c.claim: c.family for c in claims}
    close = {c.claim: set(c.close_to) for c in claims}
    post_infos, post_folded = analyse_posts(posts)
    reg_infos, reg_folded = analyse_registry(claims)
    words, chars = make_vectorizers()
    words.fit([i.canon for i in post_infos + reg_infos])
    chars.fit(post_folded + reg_folded)
    pv = build_views(words, chars, post_infos, post_folded)
    rv = build_views(words, chars, reg_infos, reg_folded)
    pp = _post_pairs(pv, posts, family, close)
    rp = _registry_pairs(rv, pv, claims, posts, close)
    Xp, vp = pairs_mod.pair_features(pv, pv, pp.pairs)
    Xr, vr = pairs_mod.pair_features(rv, pv, rp.pairs)
    X = np.vstack([Xp, Xr])
    y = np.concatenate([pp.labels, rp.labels]).astype(int)
    groups = np.concatenate([pp.groups, rp.groups])
    veto = np.concatenate([vp, vr])
    oof = np.zeros(len(y))
    for fit_idx, held in GroupKFold(n_splits=FOLDS).split(X, y, groups):
        model = make_classifier().fit(X[fit_idx], y[fit_idx])
        oof[held] = model.predict_proba(X[held])[:, 1]
    oof[veto] = pairs_mod.VETO_CAP
    n_post = len(pp.pairs)
    threshold = _threshold(oof[:n_post], y[:n_post].astype(bool))
    registry_threshold = _threshold(oof[n_post:], y[n_post:].astype(bool))
    model = make_classifier().fit(X, y)
    pair_threshold = threshold
    threshold = _grouping_threshold(PairScorer({"words": words, "chars": chars, "model": model, "threshold": threshold,
                                                "registry_threshold": 1.0}), posts, threshold)
    scorer = PairScorer({"words": words, "chars": chars, "model": model, "threshold": threshold,
                         "registry_threshold": registry_threshold, "features": list(pairs_mod.FEATURES),
                         "version": f"{pairs_mod.MODEL_NAME}.v{version}",
                         "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    vetoed_true = int((veto & (y == 1)).sum())
    figures = {"pairs": {"post_post": n_post, "registry_post": len(rp.pairs), "positive": int(y.sum()),
                         "vetoed": int(veto.sum()), "vetoed_positive": vetoed_true},
               "pair_threshold": round(pair_threshold, 4), "threshold": round(threshold, 4),
               "registry_threshold": round(registry_threshold, 4),
               "oof_pair_recall_at_threshold": round(float(((oof[:n_post] >= threshold) & y[:n_post].astype(bool)
                                                            ).sum() / max(y[:n_post].sum(), 1)), 4),
               "oof_registry_recall_at_threshold": round(float(((oof[n_post:] >= registry_threshold)
                                                                & y[n_post:].astype(bool)).sum()
                                                               / max(y[n_post:].sum(), 1)), 4)}
    return scorer, figures


GROUPING_PRECISION: Final = 0.97
"""Pairwise precision the grouping must reach on dev with the final model (in-sample, hence above 0.95)."""


def _grouping_threshold(scorer: PairScorer, posts: Sequence[LabelledPost], start: float) -> float:
    """The lowest threshold from `start` up at which grouping the dev posts reaches GROUPING_PRECISION: a pair
    threshold lets a post join a claim through one similar member, so the grouping needs a stricter one."""
    truth, ids = [p.claim for p in posts], [p.id for p in posts]
    for tau in np.arange(round(start, 2), 0.96, 0.02):
        scorer.threshold = float(tau)
        if pairwise(truth, group_in_memory(scorer, posts), ids)["precision"] >= GROUPING_PRECISION:
            return float(tau)
    return 0.96


def group_in_memory(scorer: PairScorer, posts: Sequence[LabelledPost]) -> list[str]:
    """Each post's claim key as the service would assign it with all posts in one batch and an empty index
    (canonical order; candidates: the most similar posts, as Elasticsearch and the batch would give)."""
    views = scorer.views([normalise(p.text) for p in posts], [p.posted_at for p in posts])
    near = neighbours(views, views, max(CANDIDATES, BATCH_NEIGHBOURS), same=True)
    order = sorted(range(len(posts)), key=lambda i: (posts[i].posted_at, posts[i].id))
    rank = {i: r for r, i in enumerate(order)}
    pairs = [(i, j) for i, js in enumerate(near) for j in js if rank[j] < rank[i]]
    p, veto = scorer.score_pairs(views, views, pairs)
    links: dict[int, list[Link]] = {}
    for (i, j), prob, v in zip(pairs, p, veto):
        links.setdefault(i, []).append(Link(j, float(prob), bool(v)))
    claim_of = assign(order, links, {}, scorer.threshold, {i: v.slots for i, v in enumerate(views.info)})
    return [posts[int(c)].id if isinstance(c, int) else str(c) for c in (claim_of[i] for i in range(len(posts)))]


def known_in_memory(scorer: PairScorer, claims: Sequence[LabelledClaim], posts: Sequence[LabelledPost]
                    ) -> list[str | None]:
    """Each post's matched registry entry (named by its claim id), every claim's registry text registered."""
    infos, folded = analyse_registry(claims)
    matcher = RegistryMatcher(scorer, [c.claim for c in claims], build_views(scorer.words, scorer.chars, infos,
                                                                             folded))
    views = scorer.views([normalise(p.text) for p in posts], [p.posted_at for p in posts])
    return [m[0] if m else None for m in matcher.match(views)]


def evaluate_in_memory(scorer: PairScorer, claims: Sequence[LabelledClaim], posts: Sequence[LabelledPost]
                       ) -> dict[str, Any]:
    """Pairwise figures of `group_in_memory` (a quick check; the CLI's `evaluate` goes through Elasticsearch)."""
    predicted = group_in_memory(scorer, posts)
    return pairwise([p.claim for p in posts], predicted, [p.id for p in posts])


def card(metrics: dict[str, Any]) -> str:
    """The model card written with a freshly trained matcher (held-out figures are added after evaluation)."""
    return f"""# claim_matcher.v{metrics.get('version', 1)}: same claim or not, for two Vietnamese texts (issue 11)

**What it does.** Scores a pair of texts (post↔post, or a known claim's registry text↔post) with the
probability that they assert the same claim, on a CPU, with no downloaded weights. Social ingest groups posts
into claims with it and matches known claims (social_monitor/matching.py, grouping.py).

**How.** Features (social_monitor/pairs.py): TF-IDF cosine of words and word pairs of the accent-folded text
with domain synonyms folded into concept tokens (social_monitor/lexicon.py), char 3-5-gram TF-IDF cosine,
IDF-weighted word overlap, concept and event overlap, lengths, diacritics; and slots (social_monitor/slots.py):
place (classifier.gazetteer), dates, hours, amounts, named places, polarity (rumour vs denial), each
none / one side / agree / conflict. HistGradientBoostingClassifier with monotonic constraints. A conflicting
place, date, amount, named place or polarity vetoes the pair (probability 0), whatever the model says.

**Data.** Trained on the dev split only: social_monitor/data/claims/dev_*.jsonl ({metrics['claims']} claims,
{metrics['posts']} posts). Pairs: all same-claim pairs, all pairs across close pairs, each post's 15 most
similar posts, and each registry text against its claim's posts, its siblings' posts and its most similar
posts: {json.dumps(metrics['pairs'])}. No synthetic slot swaps were added (the veto covers them).

**Thresholds.** Chosen on out-of-fold probabilities (5 folds grouped by template family) for pair precision
≥ {TARGET_PRECISION}: post↔post {metrics['pair_threshold']}, registry↔post τ_reg = {metrics['registry_threshold']}. The
grouping threshold τ = {metrics['threshold']} is the lowest from the pair threshold up at which grouping the dev
posts (final model, in-sample) reaches pairwise precision {GROUPING_PRECISION}.
Out-of-fold recall at τ: {metrics['oof_pair_recall_at_threshold']} (pairs), {metrics['oof_registry_recall_at_threshold']}
(registry).

**In-sample grouping on dev** (optimistic, the model saw these pairs): {json.dumps(metrics['in_sample_grouping'])}.

**Held-out figures:** see "Held-out evaluation" below (added after `hotline claims evaluate --split test`).
"""
