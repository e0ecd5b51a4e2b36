"""Grouping quality on the labelled sample, and the properties the claims rely on."""
from __future__ import annotations

import itertools
from collections.abc import Iterable
import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from classifier.text import normalise
from social_monitor.clustering import ClaimBook, Mention, new_claim
from social_monitor.similarity import SAME_CLAIM, Signature, containment, shingles, signature

SAMPLE = Path(__file__).resolve().parents[2] / "social_monitor" / "data" / "claims_sample.jsonl"
NOW = datetime(2021, 8, 20, tzinfo=timezone.utc)


def _cluster(texts: list[str]) -> list[str]:
    """Each text's claim id, assigned in order as the ingest path does it (ClaimBook)."""
    book = ClaimBook([])
    out = []
    for n, text in enumerate(texts):
        forms = normalise(text)
        out.append(book.assign(Mention(str(n), forms.text, "test", NOW, 0, signature(forms.folded)), NOW))
    return out


def pairwise_precision_recall(groups: list[str], claims: list[str]) -> tuple[float, float]:
    """Precision and recall over all pairs: "same claim" against "same labelled group"."""
    tp = fp = fn = 0
    for (g1, c1), (g2, c2) in itertools.combinations(zip(groups, claims), 2):
        tp += g1 == g2 and c1 == c2
        fp += g1 != g2 and c1 == c2
        fn += g1 == g2 and c1 != c2
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def test_grouping_precision_and_recall_on_the_labelled_sample() -> None:
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]

    precision, recall = pairwise_precision_recall([r["group"] for r in rows], _cluster([r["text"] for r in rows]))

    print(f"grouping on {len(rows)} labelled posts: pairwise precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95
    assert recall >= 0.85


def test_a_text_without_diacritics_has_the_same_signature() -> None:
    accented = "Tối nay trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương"

    assert signature(normalise(accented).folded) == signature(normalise("toi nay truc thang rai thuoc khu trung "
                                                                        "toan tinh binh duong").folded)


def test_a_text_without_words_has_no_signature() -> None:
    assert signature(normalise("!!! 🙏🙏").folded) is None


def test_containment_finds_a_short_claim_inside_a_longer_post() -> None:
    claim = shingles(normalise("uống nước chanh nóng chữa khỏi COVID-19").folded)
    post = shingles(normalise("Mọi người ơi, bác sĩ nói uống nước chanh nóng chữa khỏi COVID-19, share gấp").folded)

    assert containment(claim, post) >= 0.8
    assert containment(claim, shingles(normalise("giá chanh ở chợ tăng mạnh").folded)) < 0.3


def best_match(target: Signature, candidates: Iterable[tuple[str, Signature]]) -> tuple[str, float] | None:
    """The reference: compare one by one, keep the first of the most similar at or above the threshold."""
    best: tuple[str, float] | None = None
    for candidate_id, candidate in candidates:
        score = target.similarity(candidate)
        if score >= SAME_CLAIM and (best is None or score > best[1]):
            best = (candidate_id, score)
    return best


def test_the_band_index_finds_what_comparing_every_signature_finds() -> None:
    """Assigning through the band index equals comparing the mention with every claim that shares a band."""
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    sigs = [s for s in (signature(normalise(r["text"]).folded) for r in rows) if s is not None]
    members = sigs[::2]
    claims = [replace(new_claim(Mention(str(n), "", "test", NOW, 0, s), NOW), signatures=(s,))
              for n, s in enumerate(members)]
    matched = 0

    for n, probe in enumerate(sigs[1::2]):
        sharing = ((c.id, c.signatures[0]) for c in claims if set(probe.bands) & set(c.signatures[0].bands))
        brute = best_match(probe, sharing)
        book = ClaimBook(claims)  # fresh: assign() adds the probe's signature to the claim it joins
        assigned = book.assign(Mention(f"p{n}", "", "test", NOW, 0, probe), NOW)
        if brute is None:
            assert assigned in book.opened
        else:
            matched += 1
            assert probe.similarity(next(c for c in claims if c.id == assigned).signatures[0]) == brute[1]
    assert matched >= 10  # the sample has groups, so most probes do join a claim
