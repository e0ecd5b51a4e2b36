"""The labelled claim-matching splits (social_monitor/data/claims/, format: that folder's CARD.md) and the
figures measured on them: pairwise precision/recall/F1, close pairs merged, known-claim match rate."""
from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

DATA_DIR: Final = Path(__file__).resolve().parent / "data" / "claims"
SPLITS: Final = ("dev", "dev2", "dev3", "dev4", "test", "test2", "test3", "test4")
TRAINING_SPLITS: Final = ("dev", "dev2", "dev3", "dev4")
"""Splits the matcher may be trained and tuned on; the others are held out for reporting."""
FLAGGING: Final = frozenset({"false", "misleading"})


@dataclass(frozen=True, slots=True)
class LabelledClaim:
    """One claim of a split."""

    claim: str
    family: str
    verdict: str
    summary: str
    registry_text: str
    close_to: tuple[str, ...]
    differs_by: str | None
    split: str = ""
    """The split it was read from: texts of different splits were written apart and are never paired."""


@dataclass(frozen=True, slots=True)
class LabelledPost:
    """One post of a split; `claim` None for a distractor."""

    id: str
    claim: str | None
    text: str
    register: str
    diacritics: bool
    source: str
    author: str | None
    posted_at: datetime
    split: str = ""


def load_split(split: str, root: Path = DATA_DIR) -> tuple[list[LabelledClaim], list[LabelledPost]]:
    """The claims and posts of one split."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    claims = [LabelledClaim(d["claim"], d["family"], d["verdict"], d.get("summary") or "", d["registry_text"],
                            tuple(d.get("close_to") or ()), d.get("differs_by"), split)
              for d in _lines(root / f"{split}_claims.jsonl")]
    posts = [LabelledPost(d["id"], d.get("claim"), d["text"], d.get("register") or "", bool(d.get("diacritics", True)),
                          d.get("source") or "facebook", d.get("author"), datetime.fromisoformat(d["posted_at"]), split)
             for d in _lines(root / f"{split}_posts.jsonl")]
    return claims, posts


def load_splits(splits: Sequence[str], root: Path = DATA_DIR) -> tuple[list[LabelledClaim], list[LabelledPost]]:
    """Several splits as one (their claim and post ids are distinct)."""
    claims: list[LabelledClaim] = []
    posts: list[LabelledPost] = []
    for split in splits:
        c, p = load_split(split, root)
        claims += c
        posts += p
    return claims, posts


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pairwise(truth: Sequence[str | None], predicted: Sequence[str], ids: Sequence[str]) -> dict[str, float]:
    """Pairwise precision, recall, F1 of a grouping; a distractor (truth None) is a group of its own."""
    labels = [t if t is not None else f"distractor:{i}" for t, i in zip(truth, ids)]
    tp = fp = fn = 0
    for (t1, p1), (t2, p2) in itertools.combinations(zip(labels, predicted), 2):
        same_truth, same_pred = t1 == t2, p1 == p2
        tp += same_truth and same_pred
        fp += same_pred and not same_truth
        fn += same_truth and not same_pred
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4), "true_pairs": tp + fn,
            "predicted_pairs": tp + fp}


def close_pairs_merged(claims: Sequence[LabelledClaim], truth: Sequence[str | None],
                       predicted: Sequence[str]) -> list[tuple[str, str]]:
    """Close pairs (claim, sibling) with at least one post of each in one predicted group."""
    groups: dict[str, set[str]] = defaultdict(set)
    for t, p in zip(truth, predicted):
        if t is not None:
            groups[p].add(t)
    merged = set()
    for claim in claims:
        for sibling in claim.close_to:
            if any(claim.claim in g and sibling in g for g in groups.values()):
                merged.add(tuple(sorted((claim.claim, sibling))))
    return sorted(merged)  # type: ignore[arg-type]


def known_claim_rates(claims: Sequence[LabelledClaim], truth: Sequence[str | None],
                      matched: Sequence[str | None]) -> dict[str, Any]:
    """Per registry entry (named by its claim id): share of its claim's posts it matched, and posts it matched
    that belong to its close siblings or to no claim of it."""
    own: Counter[str] = Counter(t for t in truth if t is not None)
    hits: Counter[str] = Counter()
    close_hits: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    siblings: Mapping[str, tuple[str, ...]] = {c.claim: c.close_to for c in claims}
    for t, m in zip(truth, matched):
        if m is None:
            continue
        if m == t:
            hits[m] += 1
        elif t in siblings.get(m, ()):
            close_hits[m] += 1
        else:
            wrong[m] += 1
    rates = {c.claim: round(hits[c.claim] / own[c.claim], 3) for c in claims if own[c.claim]}
    good = sum(1 for c in claims if own[c.claim] and rates[c.claim] >= 0.8 and not close_hits[c.claim])
    return {"claims": len(rates), "claims_at_80pct_and_no_close_match": good,
            "mean_match_rate": round(sum(rates.values()) / max(len(rates), 1), 3),
            "posts_matched_of_own_claim": sum(hits.values()), "posts_of_own_claims": sum(own.values()),
            "close_pair_posts_matched": sum(close_hits.values()), "other_posts_matched": sum(wrong.values()),
            "per_claim": rates}
