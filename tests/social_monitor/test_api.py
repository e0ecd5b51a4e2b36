"""The social-monitor API on the real app: push, posts, claims review, known claims, ClaimReview, sources."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from social_monitor import keys as social_keys
from tests.factories import auth, make_settings

RUMOUR = "Tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa, không ra đường"
CORRECTION = "https://binhduong.example.gov.vn/dinh-chinh/truc-thang-rai-thuoc"


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                           models=models, domains={"social"}))


async def _push(client: TestClient, posts: list[dict[str, Any]], role: str = "comms") -> Any:
    return await client.post("/api/posts", json=posts, headers=auth(role))


async def _until_ingested(client: TestClient, total: int, timeout_s: float = 15.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        await client.app[social_keys.STORE].refresh()
        body: dict[str, Any] = await (await client.get("/api/posts", params={"duplicates": "true", "size": "100"},
                                                       headers=auth("leader"))).json()
        if body["total"] >= total:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only {body['total']} of {total} posts ingested after {timeout_s}s")
        await asyncio.sleep(0.2)


def _rumours() -> list[dict[str, Any]]:
    return [{"id": "p1", "source": "zalo", "text": RUMOUR, "shares": 12, "published_at": "2021-08-20 20:00:00"},
            {"id": "p2", "source": "zalo", "text": "toi nay 23h truc thang rai thuoc khu trung toan tinh binh duong, "
                                                   "dong kin cua nha", "likes": 3},
            {"id": "p3", "source": "partner", "text": "Giá rau ở chợ Lái Thiêu hôm nay tăng gấp đôi"}]


async def test_pushed_posts_are_journaled_ingested_grouped_and_searchable(client: TestClient) -> None:
    first = await _push(client, _rumours())
    again = await _push(client, _rumours()[:1])
    await _until_ingested(client, 3)
    copy = await _push(client, [{"id": "p4", "source": "facebook", "text": RUMOUR}])  # same words, other source

    assert first.status == 202 and await first.json() == {"accepted": 3, "duplicates": 0}
    assert await again.json() == {"accepted": 0, "duplicates": 1}
    assert await copy.json() == {"accepted": 1, "duplicates": 0}
    by_id = {p["source_id"]: p for p in (await _until_ingested(client, 4))["posts"]}
    assert by_id["p1"]["claim_id"] == by_id["p2"]["claim_id"] == by_id["p4"]["claim_id"] != by_id["p3"]["claim_id"]
    assert by_id["p4"]["duplicate_of"] == by_id["p1"]["id"] and by_id["p4"]["misinformation_score"] is None
    found = await (await client.get("/api/posts", params={"q": "truc thang rai thuoc"}, headers=auth("leader"))).json()
    assert {p["source_id"] for p in found["posts"]} == {"p1", "p2"}  # the copy is counted, not listed again
    claims = await (await client.get("/api/claims", params={"sort": "reach"}, headers=auth("leader"))).json()
    assert claims["total"] == 2
    assert claims["claims"][0]["mention_count"] == 3 and claims["claims"][0]["reach"] == 15
    assert claims["claims"][0]["sources"] == ["zalo", "facebook"]


async def test_a_post_repeating_a_registered_false_claim_is_flagged_with_the_correction(client: TestClient) -> None:
    created = await client.post("/api/known-claims", headers=auth("comms"), json={
        "text": "Trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương tối nay", "verdict": "false",
        "correction_url": CORRECTION, "correction_text": "Không có việc rải thuốc bằng trực thăng.",
        "date": "2021-08-20"})
    await _push(client, _rumours()[:1])

    assert created.status == 201
    post = (await _until_ingested(client, 1))["posts"][0]
    assert post["verdict"] == "false" and post["correction_url"] == CORRECTION
    flag = next(f for f in post["flags"] if f["kind"] == "known_claim")
    assert CORRECTION in flag["message"] and flag["message"].startswith("Trùng với tin đã kết luận “Sai sự thật”")
    queue = await (await client.get("/api/claims", params={"state": "flagged", "verdict": "false"},
                                    headers=auth("comms"))).json()
    assert queue["total"] == 1 and queue["claims"][0]["correction_url"] == CORRECTION
    await _known_claims_are_listed_and_exported_as_claimreview(client)


async def test_review_moves_through_states_records_who_and_refuses_stale_versions(client: TestClient) -> None:
    await _bad_requests_get_4xx_with_a_reason(client)
    await _push(client, _rumours()[:1])
    claim_id = next(p["claim_id"] for p in (await _until_ingested(client, 2))["posts"] if p["source_id"] == "p1")
    url = f"/api/claims/{claim_id}"
    read = await (await client.get(url, headers=auth("leader"))).json()

    steps = [{"state": "in_review"}, {"state": "verdict_given", "verdict": "false"},
             {"state": "correction_published", "correction_url": CORRECTION, "note": "đã đăng trên cổng tỉnh"}]
    version = read["version"]
    for step in steps:
        resp = await client.patch(url, json={"version": version, **step}, headers=auth("comms"))
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        version = body["version"]
    stale = await client.patch(url, json={"version": read["version"], "state": "dismissed"}, headers=auth("admin"))

    assert body["state"] == "correction_published" and body["verdict"] == "false"
    reviews = [h for h in body["history"] if h["actor"] == "comms-user"]  # the model may have flagged it first
    assert [h["after"].get("state") for h in reviews[:3]] == ["in_review", "verdict_given", "correction_published"]
    assert {h["actor"] for h in body["history"]} <= {"comms-user", "system"}
    assert body["history"][-1]["after"] == {"note": "đã đăng trên cổng tỉnh"}
    assert stale.status == 409 and (await stale.json())["error"] == "claim_conflict"


# One app per test, not per case: starting the app (models, indices) is what makes these tests slow.
BAD_QUERIES: list[tuple[str, dict[str, str], str]] = [
    ("/api/claims", {"sort": "random"}, "sort must be one of"),
    ("/api/claims", {"state": "lost"}, "unknown state"),
    ("/api/claims", {"page": "0"}, "'page'"),
    ("/api/posts", {"min_score": "high"}, "'min_score'"),
    ("/api/posts", {"flagged": "yes"}, "true or false"),
]


async def _bad_list_parameters_get_400_and_an_unknown_claim_404(client: TestClient) -> None:
    for path, query, message in BAD_QUERIES:
        resp = await client.get(path, params=query, headers=auth("comms"))
        assert resp.status == 400, query
        assert message in (await resp.json())["message"], query
    missing = await client.get("/api/claims/nope", headers=auth("comms"))
    assert missing.status == 404 and (await missing.json())["error"] == "claim_not_found"


BAD_REVIEWS: list[tuple[dict[str, Any], str]] = [
    ({"state": "correction_published"}, "cannot go from watching to correction_published"),
    ({"state": "in_review", "verdict": "maybe"}, "unknown verdict"),
    ({"state": "flying"}, "unknown state"),
    ({"colour": "red"}, "unknown fields: colour"),
    ({"correction_url": "javascript:alert(1)"}, "http(s) URL"),
    ({"version": None, "state": "in_review"}, "'version' is required"),
    ({"version": "nonsense", "state": "in_review"}, "must look like '12:1'"),
]


async def _bad_requests_get_4xx_with_a_reason(client: TestClient) -> None:
    await _bad_list_parameters_get_400_and_an_unknown_claim_404(client)
    await _push(client, _rumours()[2:])
    claim_id = (await _until_ingested(client, 1))["posts"][0]["claim_id"]
    read = await (await client.get(f"/api/claims/{claim_id}", headers=auth("comms"))).json()

    for body, message in BAD_REVIEWS:
        resp = await client.patch(f"/api/claims/{claim_id}", json={"version": read["version"], **body},
                                  headers=auth("comms"))
        assert resp.status == 400, body
        assert message in (await resp.json())["message"], body
    await client.app[social_keys.STORE].refresh()


BAD_PUSHES: list[tuple[Any, str]] = [
    ({"id": "x"}, "expected a JSON array"),
    ([{"text": "không có id"}], "post 0: 'id'"),
    ([{"id": "1", "text": "a"}, {"id": "2", "text": "b", "likes": -1}], "post 1: 'likes'"),
    ([{"id": "1", "text": "a", "published_at": "hôm qua"}], "ISO 8601"),
    ([{"id": "1", "text": "a", "colour": "red"}], "unknown fields: colour"),
    ([], "1 to 1000 posts"),
]


async def test_routes_admit_only_their_roles_and_bad_pushes_get_400(client: TestClient) -> None:
    await _routes_admit_only_their_roles(client)
    not_json = await client.post("/api/posts", data="[{", headers={**auth("comms"),
                                                                  "Content-Type": "application/json"})
    assert not_json.status == 400 and (await not_json.json())["message"] == "body must be JSON"
    for payload, message in BAD_PUSHES:
        resp = await _push(client, payload)
        body = await resp.json()
        assert resp.status == 400 and body["error"] == "invalid_post", payload
        assert message in body["message"], payload
    assert client.app[social_keys.JOURNAL].counts()["pending"] == 0


ROLES: list[tuple[str, str, str | None, int]] = [
    ("POST", "/api/posts", "leader", 403), ("POST", "/api/posts", "operator", 403),
    ("GET", "/api/claims", "operator", 403), ("PATCH", "/api/claims/x", "leader", 403),
    ("POST", "/api/known-claims", "leader", 403), ("GET", "/api/sources", "operator", 403),
    ("GET", "/api/posts", None, 401), ("GET", "/api/known-claims/claimreview.jsonld", None, 401),
    ("GET", "/api/claims", "leader", 200), ("GET", "/api/posts", "leader", 200),
]


async def _routes_admit_only_their_roles(client: TestClient) -> None:
    for method, path, role, status in ROLES:
        resp = await client.request(method, path, json={}, headers=auth(role) if role else {})
        assert resp.status == status, (method, path, role)


async def _known_claims_are_listed_and_exported_as_claimreview(client: TestClient) -> None:
    for text, verdict in (("Vắc xin Vero Cell gây vô sinh", "false"), ("Bình Dương nhận thêm vắc xin", "true")):
        resp = await client.post("/api/known-claims", headers=auth("comms"), json={
            "text": text, "verdict": verdict, "date": "2021-08-21",
            "correction_url": CORRECTION if verdict == "false" else None})
        assert resp.status == 201
    missing_url = await client.post("/api/known-claims", headers=auth("comms"), json={"text": "x", "verdict": "false"})

    listed = await (await client.get("/api/known-claims", headers=auth("admin"))).json()
    export = await client.get("/api/known-claims/claimreview.jsonld", headers=auth("comms"))

    assert missing_url.status == 400 and "correction_url" in (await missing_url.json())["message"]
    assert listed["total"] == 3 and listed["known_claims"][0]["recorded_by"] == "comms-user"
    assert export.content_type == "application/ld+json"
    reviews = {r["claimReviewed"]: r for r in await export.json(content_type=None)}
    false = reviews["Vắc xin Vero Cell gây vô sinh"]
    assert false["@type"] == "ClaimReview" and false["url"] == CORRECTION and false["datePublished"] == "2021-08-21"
    assert false["reviewRating"]["ratingValue"] == 1 and false["reviewRating"]["alternateName"] == "Sai sự thật"
    assert "url" not in reviews["Bình Dương nhận thêm vắc xin"]


async def test_sources_show_each_source_and_the_backlog(client: TestClient) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        body = await (await client.get("/api/sources", headers=auth("comms"))).json()
        tickets = next(s for s in body["sources"] if s["name"] == "hotline-tickets")
        if tickets["last_run_at"] or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)

    assert tickets["kind"] == "hotline" and tickets["healthy"] is True and tickets["last_error"] is None
    assert body["posts"] == {"pending": 0, "done": 0, "dead": 0}
