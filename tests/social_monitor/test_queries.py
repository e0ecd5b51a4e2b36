"""Query builders: plain input -> dict checks, and each query run once against the real node."""
from __future__ import annotations

from datetime import datetime, timezone

from elasticsearch import AsyncElasticsearch

from classifier.text import normalise
from social_monitor import queries
from social_monitor.queries import ClaimSearch, ClaimSort, PostSearch
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore


def test_post_search_hides_copies_and_filters() -> None:
    body = queries.build_post_search(PostSearch(q_folded="tin don", source=("zalo",), flagged=True, min_score=0.5,
                                                page=2, size=10))

    query = body["query"]["bool"]
    assert {"terms": {"source": ["zalo"]}} in query["filter"]
    assert {"range": {"misinformation_score": {"gte": 0.5}}} in query["filter"]
    assert {"exists": {"field": "duplicate_of"}} in query["must_not"]
    assert body["from"] == 10 and body["sort"][0] == "_score"
    assert queries.build_post_search(PostSearch(duplicates=True))["query"]["bool"]["must_not"] == []


def test_claim_search_sorts_and_filters() -> None:
    body = queries.build_claim_search(ClaimSearch(state=("flagged",), verdict=("false",), sort=ClaimSort.REACH))

    assert body["sort"][0] == {"reach": "desc"}
    assert {"terms": {"state": ["flagged"]}} in body["query"]["bool"]["filter"]
    assert body["_source"] == {"excludes": ["signatures", "lsh_bands"]}


def test_candidates_are_one_terms_query_on_band_keys() -> None:
    body = queries.build_candidate_claims(["0:ab", "1:cd", "0:ab"])

    assert body["query"]["bool"]["filter"] == [{"terms": {"lsh_bands": ["0:ab", "1:cd"]}}]
    assert body["sort"] == [{"id": "asc"}] and "search_after" not in body and body["_source"] is False
    assert queries.build_candidate_claims(["0:ab"], after="c42")["search_after"] == ["c42"]


def test_misinformation_tickets_start_after_the_cursor() -> None:
    since = datetime(2021, 8, 20, tzinfo=timezone.utc)

    body = queries.build_misinformation_tickets(since)

    assert body["query"]["bool"]["filter"] == [{"term": {"category": "misinformation_report"}},
                                               {"range": {"created_at": {"gt": since.isoformat()}}}]


async def test_every_query_runs_against_the_node(store: SocialStore, es: AsyncElasticsearch) -> None:
    await SocialService(store=store).ingest([RawPost("zalo", "1", "Tin đồn phong tỏa toàn tỉnh Bình Dương")])
    folded = normalise("phong toa toan tinh").folded

    posts, total = await store.search_posts(queries.build_post_search(PostSearch(q_folded=folded)))
    claims, _ = await store.search_claims(queries.build_claim_search(ClaimSearch(q_folded=folded)))
    for body in (queries.build_posts_by_hash(["x"]), queries.build_known_claim_list(1, 5)):
        await es.search(index=f"{store.posts},{store.registry}", **body)
    claim, _ = await store.get_claim(claims[0][0].id)  # lists leave the signatures out; a get has them
    candidates = await store.candidate_claims(list(claim.bands))
    like = await store.claims_like(folded)

    assert total == 1 and posts[0].source_id == "1"
    assert [c.id for c, _ in candidates] == [c.id for c, _ in like] == [claims[0][0].id]
    assert await store.misinformation_tickets(None) == []  # no tickets index in this prefix: nothing reported


def test_new_claim_queries_filter_as_documented() -> None:
    from social_monitor.queries import (build_claim_timeline, build_claims_like, build_claims_of_ticket,
                                        build_posts_in_order, build_posts_of_claim)

    assert build_claims_of_ticket("t-1")["query"]["bool"]["filter"] == [{"term": {"ticket_ids": "t-1"}}]
    assert build_posts_of_claim("c")["query"]["bool"]["filter"] == [{"term": {"claim_id": "c"}}]
    assert build_posts_in_order(None, 10).get("search_after") is None
    assert build_posts_in_order(["2021", None, "x"], 10)["search_after"] == ["2021", None, "x"]
    assert build_claim_timeline("c", 5)["sort"][0] == {"published_at": {"order": "asc", "missing": "_last"}}
    assert build_claims_like("a b", loose=True)["query"]["match"]["text_folded"]["minimum_should_match"] == "1"
    assert build_claims_like("a b")["query"]["match"]["text_folded"]["minimum_should_match"] == "50%"


def test_similar_posts_asks_more_like_this_of_grouped_originals_only() -> None:
    from social_monitor.queries import build_similar_posts

    body = build_similar_posts("di an phong toa tu 10/8", 12)

    mlt = body["query"]["bool"]["must"][0]["more_like_this"]
    assert mlt["like"] == "di an phong toa tu 10/8" and mlt["fields"] == ["text_folded"]
    assert body["query"]["bool"]["must_not"] == [{"exists": {"field": "duplicate_of"}}]
    assert body["size"] == 12 and "claim_id" in body["_source"]
