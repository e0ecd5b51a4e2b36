"""Validation at the boundaries: pushed/imported posts, review patches, known claims and their export."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from social_monitor.claims import ClaimPatch, KnownClaim, ReviewState, Verdict, window_counts
from social_monitor.errors import InvalidClaim, InvalidPost
from social_monitor.records import RawPost, content_hash, post_id

NOW = datetime(2021, 8, 20, 12, tzinfo=timezone.utc)


def test_a_post_reads_counts_times_and_media() -> None:
    post = RawPost.from_json({"id": 42, "text": " Tin đồn ", "likes": "7", "shares": 0,
                              "published_at": "2021-08-20 20:00:00",
                              "attachments": [{"type": "VIDEO", "url": "https://x/v.mp4"}]}, default_source="push:zalo")

    assert (post.source, post.source_id, post.text, post.likes, post.shares) == ("push:zalo", "42", "Tin đồn", 7, 0)
    assert post.published_at == datetime(2021, 8, 20, 13, tzinfo=timezone.utc)  # no offset: Vietnam time
    assert post.attachments[0].is_media
    assert RawPost.from_json(post.as_json(), default_source="other") == post


@pytest.mark.parametrize(("data", "message"), [
    ("text", "JSON object"),
    ({"text": "x"}, "'id'"),
    ({"id": "1"}, "'text' or an audio/video attachment"),
    ({"id": "1", "text": "x", "likes": True}, "'likes'"),
    ({"id": "1", "text": "x", "attachments": [{"type": "audio"}]}, "'attachments'"),
    ({"id": "1", "text": "x", "published_at": "20/08/2021"}, "ISO 8601"),
    ({"id": "1", "text": 5}, "'text'"),
])
def test_bad_posts_are_refused_with_a_reason(data: Any, message: str) -> None:
    with pytest.raises(InvalidPost, match=message):
        RawPost.from_json(data, default_source="push")


def test_the_content_hash_ignores_spacing_but_not_words() -> None:
    assert content_hash("tin  don\n") == content_hash("tin don")
    assert content_hash("tin don") != content_hash("don tin")
    assert post_id("zalo", "1") != post_id("zalo1", "") and len(post_id("a", "b" * 1000)) == 24


@pytest.mark.parametrize(("data", "message"), [
    ({"state": "in_review"}, "'version' is required"),
    ({"version": "1:1", "state": "open"}, "unknown state"),
    ({"version": "1:1", "verdict": "fake"}, "unknown verdict"),
    ({"version": "1:1", "correction_url": "ftp://x"}, r"http\(s\) URL"),
    ({"version": "1:1", "assignee": "an"}, "unknown fields: assignee"),
])
def test_bad_claim_patches_are_refused(data: Any, message: str) -> None:
    with pytest.raises(InvalidClaim, match=message):
        ClaimPatch.from_json(data)


def test_a_claim_patch_reads_state_and_verdict() -> None:
    patch = ClaimPatch.from_json({"version": "3:1", "state": "verdict_given", "verdict": "misleading"})

    assert (patch.state, patch.verdict) == (ReviewState.VERDICT_GIVEN, Verdict.MISLEADING)


def test_known_claims_need_a_correction_when_false_and_export_as_claimreview() -> None:
    with pytest.raises(InvalidClaim, match="correction_url"):
        KnownClaim.from_json({"text": "x", "verdict": "misleading"}, id="k", actor="a", now=NOW)
    known = KnownClaim.from_json({"text": "Tỏi diệt virus", "verdict": "false", "date": "2021-08-19",
                                  "correction_url": "https://tinh.gov.vn/dc/1"}, id="k1", actor="comms", now=NOW)

    review = known.as_claimreview("Sở Thông tin và Truyền thông")

    assert known.reviewed_on == date(2021, 8, 19)
    assert review == {
        "@context": "https://schema.org", "@type": "ClaimReview", "inLanguage": "vi", "claimReviewed": "Tỏi diệt virus",
        "datePublished": "2021-08-19", "url": "https://tinh.gov.vn/dc/1",
        "author": {"@type": "Organization", "name": "Sở Thông tin và Truyền thông"},
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "worstRating": 1,
                         "alternateName": "Sai sự thật"},
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Organization", "name": "Mạng xã hội"}}}
    assert KnownClaim.from_doc(known.as_json()) == known


def test_growth_windows_count_the_last_24_hours_against_the_24_before() -> None:
    hourly = {(NOW - timedelta(hours=h)).strftime("%Y-%m-%dT%H"): 1 for h in (0, 5, 23, 24, 47, 48)}

    assert window_counts(hourly, NOW) == (3, 2)
