"""Every labelled claim split loads, keeps its ids to itself, and training never pairs texts of two splits."""
from __future__ import annotations

from collections import Counter

import pytest

from social_monitor import pairs as pairs_mod
from social_monitor import training
from social_monitor.claim_data import SPLITS, TRAINING_SPLITS, load_split, load_splits


@pytest.mark.parametrize("split", SPLITS)
def test_each_split_is_consistent(split: str) -> None:
    claims, posts = load_split(split)
    ids = {c.claim for c in claims}
    assert claims and posts and all(c.split == split for c in claims) and all(p.split == split for p in posts)
    assert all(p.claim is None or p.claim in ids for p in posts)
    for claim in claims:
        for sibling in claim.close_to:
            other = next(c for c in claims if c.claim == sibling)
            assert claim.claim in other.close_to and other.family == claim.family


def test_no_claim_or_post_id_is_shared_by_two_splits() -> None:
    # dev4 and test4 were first written with the ids of dev and test; pooled training would have mixed them
    claims, posts = load_splits(SPLITS)
    assert not [i for i, n in Counter(c.claim for c in claims).items() if n > 1]
    assert not [i for i, n in Counter(p.id for p in posts).items() if n > 1]
    assert not set(TRAINING_SPLITS) & {"test", "test2", "test3", "test4"}


def test_training_pairs_stay_inside_one_split() -> None:
    # a distractor of one split may say what a claim of another says: that pair has no label
    claims, posts = load_splits(("dev2", "dev3"))
    infos, folded = training.analyse_posts(posts)
    words, chars = pairs_mod.make_vectorizers()
    words.fit([i.canon for i in infos])
    chars.fit(folded)
    views = pairs_mod.build_views(words, chars, infos, folded)
    family = {c.claim: c.family for c in claims}
    close = {c.claim: set(c.close_to) for c in claims}
    pairs = training._post_pairs(views, posts, family, close).pairs
    assert pairs and all(posts[a].split == posts[b].split for a, b in pairs)
    assert {posts[a].split for a, _ in pairs} == {"dev2", "dev3"}
    order, candidates = training._candidates(views, posts)
    assert candidates and all(posts[a].split == posts[b].split for a, b in candidates)
