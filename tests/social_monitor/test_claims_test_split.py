"""Invariants of the held-out claim-matching test split (issue 11): format, labels and honesty checks.

Run as a script to print the split's counts: `python tests/social_monitor/test_claims_test_split.py`.
"""
from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

DIR = Path(__file__).resolve().parents[2] / "social_monitor" / "data" / "claims"
REGISTERS = {"official", "news", "facebook", "zalo_forward", "question", "transcript", "teencode", "comment"}
SOURCES = {"facebook", "zalo", "rss", "tiktok", "news"}
SLOTS = {"place", "date", "number", "named_place", "polarity"}


def load(name: str) -> list[dict[str, Any]]:
    with open(DIR / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()


def accent_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(fold(c) != c.lower() for c in letters) / max(1, len(letters))


def grams(text: str, n: int = 5) -> set[str]:
    # Folded, so a post and its unaccented copy count as the near-copy they are.
    text = re.sub(r"\s+", " ", fold(text))
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def jaccard(a: str, b: str) -> float:
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / max(1, len(ga | gb))


CLAIMS = load("test_claims.jsonl")
POSTS = load("test_posts.jsonl")
BY_ID = {c["claim"]: c for c in CLAIMS}
BY_CLAIM: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
for _post in POSTS:
    BY_CLAIM[_post["claim"]].append(_post)


def test_ids_are_unique_and_prefixed() -> None:
    assert len(BY_ID) == len(CLAIMS)
    assert len({p["id"] for p in POSTS}) == len(POSTS)
    assert all(re.fullmatch(r"T\d\d", c["claim"]) and re.fullmatch(r"TF\d\d", c["family"]) for c in CLAIMS)
    assert all(re.fullmatch(r"tp\d{4}", p["id"]) for p in POSTS)


def test_every_post_is_well_formed() -> None:
    for p in POSTS:
        assert p["claim"] is None or p["claim"] in BY_ID, p["id"]
        assert (p["claim"] is None) == (p["register"] == "distractor"), p["id"]
        assert p["register"] in REGISTERS | {"distractor"} and p["source"] in SOURCES, p["id"]
        assert isinstance(p["diacritics"], bool) and p["author"] and p["text"].strip(), p["id"]
        when = datetime.fromisoformat(p["posted_at"])
        assert p["posted_at"].endswith("+07:00") and datetime(2021, 7, 1).date() <= when.date() <= datetime(2021, 10, 31).date()


def test_diacritics_flag_matches_the_text() -> None:
    for p in POSTS:
        share = accent_share(p["text"])
        assert share >= 0.12 if p["diacritics"] else share <= 0.08, (p["id"], share)


def test_transcripts_have_no_punctuation_or_capitals() -> None:
    for p in (p for p in POSTS if p["register"] == "transcript"):
        assert p["text"] == p["text"].lower() and not re.search(r"[.,!?;:]", p["text"]), p["id"]


def test_close_pairs_are_symmetric_and_share_a_family() -> None:
    families = Counter(c["family"] for c in CLAIMS)
    for c in CLAIMS:
        if not c["close_to"]:
            assert c["differs_by"] is None and families[c["family"]] == 1, c["claim"]
        for other in c["close_to"]:
            sibling = BY_ID[other]
            assert c["claim"] in sibling["close_to"] and sibling["family"] == c["family"], c["claim"]
            assert c["differs_by"] in SLOTS and sibling["differs_by"] == c["differs_by"], c["claim"]


def test_claims_have_five_to_ten_independent_rewordings() -> None:
    for c in CLAIMS:
        posts = BY_CLAIM[c["claim"]]
        assert 5 <= len(posts) <= 10, c["claim"]
        assert len({p["register"] for p in posts}) >= 4, c["claim"]
        for a, b in itertools.combinations(posts, 2):
            assert jaccard(a["text"], b["text"]) < 0.3, (a["id"], b["id"])
        # The registry wording must not be a copy of any post, or registry matching measures copies.
        assert max(jaccard(c["registry_text"], p["text"]) for p in posts) < 0.3, c["claim"]


def test_distractors_are_singletons() -> None:
    for a, b in itertools.combinations(BY_CLAIM[None], 2):
        assert jaccard(a["text"], b["text"]) < 0.3, (a["id"], b["id"])


def test_sizes_and_unaccented_share() -> None:
    assert len(CLAIMS) >= 22 and len(POSTS) - len(BY_CLAIM[None]) >= 150 and len(BY_CLAIM[None]) >= 80
    plain = sum(not p["diacritics"] or p["register"] == "teencode" for p in POSTS)
    assert plain / len(POSTS) >= 0.35


def counts() -> dict[str, Any]:
    pairs = Counter(c["differs_by"] for c in CLAIMS if c["close_to"] and c["claim"] < c["close_to"][0])
    claim_posts = [p for p in POSTS if p["claim"]]
    return {
        "claims": len(CLAIMS),
        "verdicts": dict(Counter(c["verdict"] for c in CLAIMS)),
        "posts": len(POSTS),
        "posts_of_claims": len(claim_posts),
        "distractors": len(BY_CLAIM[None]),
        "per_register": dict(Counter(p["register"] for p in POSTS).most_common()),
        "per_source": dict(Counter(p["source"] for p in POSTS).most_common()),
        "no_diacritics_share": round(sum(not p["diacritics"] for p in POSTS) / len(POSTS), 3),
        "no_diacritics_share_claim_posts": round(sum(not p["diacritics"] for p in claim_posts) / len(claim_posts), 3),
        "no_diacritics_or_teencode_share": round(
            sum(not p["diacritics"] or p["register"] == "teencode" for p in POSTS) / len(POSTS), 3),
        "close_pairs_by_slot": dict(pairs),
        "posts_per_claim": dict(sorted(Counter(len(BY_CLAIM[c["claim"]]) for c in CLAIMS).items())),
    }


if __name__ == "__main__":
    print(json.dumps(counts(), ensure_ascii=False, indent=1))
