"""Issue 11 on the real app: a verdict reaching the registry, ClaimReview and the posts; merge and split through
the API with versions; the claim page with its calls; the operator's ticket page showing the verdict."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from intake import keys as intake_keys
from intake.records import ManualReport
from social_monitor import keys as social_keys
from social_monitor.collectors import TicketCollector
from tests.factories import auth, make_settings

CORRECTION = "https://binhduong.example.gov.vn/dinh-chinh/truc-thang-rai-thuoc"
RUMOUR = "Tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, đóng kín cửa, không ra đường"
POSTS = [{"id": "p1", "source": "zalo", "text": RUMOUR, "shares": 12, "author": "Cô Ba",
          "url": "https://zalo.example/p1", "attachments": [{"type": "video", "url": "https://cdn.example/v.mp4"}]},
         {"id": "p2", "source": "facebook", "text": "toi nay 23h truc thang rai thuoc khu trung toan tinh binh duong, "
                                                    "dong kin cua, khong ra duong nha", "likes": 3,
          "url": "javascript:alert(1)"},
         {"id": "p3", "source": "zalo", "text": "Đêm nay có máy bay phun thuốc diệt virus khắp Bình Dương, "
                                                "nhà nào cũng phải đóng cửa", "comments": 4},
         {"id": "p4", "source": "zalo", "text": "Giá rau ở chợ Lái Thiêu hôm nay tăng gấp đôi"}]


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                           models=models))


async def _posts(client: TestClient, total: int, **params: str) -> dict[str, str]:
    """source_id -> claim_id of the posts listed, once `total` posts are ingested."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        await client.app[social_keys.STORE].refresh()
        body = await (await client.get("/api/posts", params={"duplicates": "true", "size": "100", **params},
                                       headers=auth("comms"))).json()
        if body["total"] >= total or params:
            return {p["source_id"]: p["claim_id"] for p in body["posts"]}
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only {body['total']} of {total} posts ingested")
        await asyncio.sleep(0.2)


async def _claim(client: TestClient, claim_id: str) -> dict[str, Any]:
    return dict(await (await client.get(f"/api/claims/{claim_id}", headers=auth("comms"))).json())


async def _patch(client: TestClient, claim_id: str, **body: Any) -> dict[str, Any]:
    version = (await _claim(client, claim_id))["version"]
    resp = await client.patch(f"/api/claims/{claim_id}", json={"version": version, **body}, headers=auth("comms"))
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_verdict_registry_claimreview_flags_then_merge_and_split_with_versions(client: TestClient) -> None:
    await client.post("/api/posts", json=POSTS, headers=auth("comms"))
    claims = await _posts(client, 4)
    heli, other = claims["p1"], claims["p3"]
    assert claims["p2"] == heli != other

    await _patch(client, heli, state="in_review")
    judged = await _patch(client, heli, state="verdict_given", verdict="false", correction_url=CORRECTION,
                          correction_text="Không có việc rải thuốc bằng trực thăng.")
    flagged = await _posts(client, 0, flagged="true")  # no wait: visible when the PATCH has returned
    await _patch(client, heli, note="đã gửi báo chí")
    known = await (await client.get("/api/known-claims", headers=auth("comms"))).json()
    exported = await (await client.get("/api/known-claims/claimreview.jsonld", headers=auth("comms"))).json()

    assert judged["known_claim_id"] == f"claim-{heli}" and set(flagged) == {"p1", "p2"}
    assert known["total"] == 1 and known["known_claims"][0]["correction_url"] == CORRECTION
    assert [(r["claimReviewed"], r["url"], r["reviewRating"]["alternateName"]) for r in exported] == [
        (RUMOUR, CORRECTION, "Sai sự thật")]

    read = await _claim(client, heli)
    other_read = await _claim(client, other)
    for body, role, status in [({"other": other, "version": "1:1"}, "comms", 409),
                               ({"other": other, "version": read["version"], "other_version": "1:9"}, "comms", 409),
                               ({"version": read["version"]}, "comms", 400),
                               ({"other": other, "version": read["version"]}, "leader", 403),
                               ({"other": "nope", "version": read["version"]}, "comms", 404)]:
        resp = await client.post(f"/api/claims/{heli}/merge", json=body, headers=auth(role))
        assert resp.status == status, (body, role, await resp.text())
    merged = await client.post(f"/api/claims/{heli}/merge", headers=auth("comms"), json={
        "other": other, "version": read["version"], "other_version": other_read["version"]})
    assert merged.status == 200, await merged.text()
    body = await merged.json()
    assert body["mention_count"] == 3 and body["history"][-1]["action"] == "merge"
    assert (await client.get(f"/api/claims/{other}", headers=auth("comms"))).status == 404
    trail = await (await client.get("/admin/audit", params={"type": "claim"}, headers=auth("admin"))).text()
    assert "gộp tin đồn" in trail and "ghi nhận tin đã kiểm chứng" in trail
    assert set(await _posts(client, 0, flagged="true")) == {"p1", "p2", "p3"}  # p3 joined a false claim

    p3 = next(p["id"] for p in (await (await client.get("/api/posts", params={"claim_id": heli},
                                                        headers=auth("comms"))).json())["posts"]
              if p["source_id"] == "p3")
    stale = await client.post(f"/api/claims/{heli}/split", json={"post_ids": [p3], "version": read["version"]},
                              headers=auth("comms"))
    bad = await client.post(f"/api/claims/{heli}/split", json={"post_ids": "p3", "version": body["version"]},
                            headers=auth("comms"))
    split = await client.post(f"/api/claims/{heli}/split", json={"post_ids": [p3], "version": body["version"]},
                              headers=auth("comms"))
    assert (stale.status, bad.status, split.status) == (409, 400, 201), await split.text()
    parts = await split.json()
    assert parts["claim"]["mention_count"] == 2 and parts["new_claim"]["mention_count"] == 1
    assert (await _posts(client, 4))["p3"] == parts["new_claim"]["id"]
    assert set(await _posts(client, 0, flagged="true")) == {"p1", "p2"}  # p3 is no longer one of the false claim's

    page = await (await client.get(f"/comms/claims/{heli}", headers=auth("comms"))).text()
    assert "Cô Ba" in page and "12 chia sẻ" in page and 'href="https://cdn.example/v.mp4"' in page
    assert 'href="https://zalo.example/p1"' in page and "javascript:" not in page
    # History as sentences (dashboards.history), with display names, not action codes or JSON.
    assert "tách bài đăng thành tin đồn riêng" in page and "ghi nhận tin đã kiểm chứng" in page
    assert "gộp tin đồn" in page and '{&quot;state' not in page and '{"state' not in page
    similar = await (await client.get("/comms", params={"similar": "trực thăng rải thuốc tối nay"},
                                      headers=auth("comms"))).text()
    assert f'href="/comms/claims/{heli}"' in similar.split('id="similar"')[1].split("</section>")[0]
    found = await (await client.get("/api/similar-claims", params={"q": "truc thang rai thuoc toi nay", "limit": "2"},
                                    headers=auth("leader"))).json()
    assert found["claims"][0]["id"] == heli and 0 < found["claims"][0]["similarity"] <= 1


async def test_a_rumour_reported_by_phone_joins_the_claim_and_the_operator_sees_its_verdict(
        client: TestClient) -> None:
    app = client.app
    await client.post("/api/posts", json=POSTS[:1], headers=auth("comms"))
    heli = (await _posts(client, 1))["p1"]
    intake = app[intake_keys.SERVICE]
    await intake.create_manual(ManualReport("Có người gửi tin tối nay 23h trực thăng rải thuốc khử trùng toàn tỉnh "
                                            "Bình Dương, gọi lại số 0912345678", caller="+84912345678"),
                               actor="test", ticket_id="t-rumour")
    await intake.create_manual(ManualReport("ba em khó thở spo2 89 cần xe cấp cứu ở Thuận Giao",
                                            caller="+84912345670"), actor="test", ticket_id="t-other")
    await app[intake_keys.STORE].refresh()
    ticket = await (await client.get("/api/tickets/t-rumour", headers=auth("operator"))).json()
    await client.patch("/api/tickets/t-rumour", headers=auth("operator"),
                       json={"version": ticket["version"], "category": "misinformation_report"})
    await app[intake_keys.STORE].refresh()
    batch = await TicketCollector(app[social_keys.STORE]).collect(None)
    await app[social_keys.SERVICE].ingest(batch.posts)  # what the scheduler does with the collector's batch

    assert [p.source_id for p in batch.posts] == ["t-rumour"]
    assert (await _claim(client, heli))["ticket_ids"] == ["t-rumour"]
    as_comms = await (await client.get(f"/comms/claims/{heli}", headers=auth("comms"))).text()
    as_admin = await (await client.get(f"/comms/claims/{heli}", headers=auth("admin"))).text()
    calls = as_comms.split('id="calls"')[1].split("</section>")[0]
    assert "Nhập tay" in calls and "+849*****678" in calls and "0912345678" not in calls
    assert "/operator/tickets/t-rumour" not in calls and 'href="/operator/tickets/t-rumour"' in as_admin

    # A call that just came in, not collected yet (the collector runs every minute): matched by its text.
    await intake.create_manual(ManualReport("nghe nói tối nay trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, "
                                            "có phải đóng kín cửa không ạ", caller="+84912345679"),
                               actor="test", ticket_id="t-asks")
    before = await (await client.get("/operator/tickets/t-rumour", headers=auth("operator"))).text()
    assert 'id="claim-answer"' not in before  # no verdict yet
    await _patch(client, heli, state="in_review")
    await _patch(client, heli, state="verdict_given", verdict="false", correction_url=CORRECTION,
                 correction_text="Không có việc rải thuốc bằng trực thăng.")
    pages = {t: await (await client.get(f"/operator/tickets/{t}", headers=auth("operator"))).text()
             for t in ("t-rumour", "t-asks", "t-other")}

    for ticket_id in ("t-rumour", "t-asks"):
        answer = pages[ticket_id].split('id="claim-answer"')[1].split("</section>")[0]
        assert "Sai sự thật" in answer and "Không có việc rải thuốc bằng trực thăng." in answer
        assert f'href="{CORRECTION}"' in answer
    assert "đã được ghi nhận là một lượt nhắc" in pages["t-rumour"] and "giống tin đồn" in pages["t-asks"]
    assert 'id="claim-answer"' not in pages["t-other"]
