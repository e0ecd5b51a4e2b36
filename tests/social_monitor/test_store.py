"""The social store against a real node: what the ingest path relies on when there are many claims."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from elasticsearch import AsyncElasticsearch

from classifier.text import normalise
from social_monitor import queries
from social_monitor.clustering import Mention, new_claim
from social_monitor.errors import ClaimConflict
from social_monitor.similarity import signature
from social_monitor.store import SocialStore

NOW = datetime(2021, 8, 20, tzinfo=timezone.utc)


async def test_every_claim_sharing_a_band_is_a_candidate_past_one_page_and_one_query(store: SocialStore) -> None:
    # One wording, many claims: all share every band key, so all are candidates of a post with that wording.
    forms = normalise("Tối nay trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương, mọi người đóng cửa")
    sig = signature(forms.folded)
    assert sig is not None
    count = queries.CANDIDATES_PAGE + 37
    claims = [replace(new_claim(Mention(f"p{n}", forms.text, "test", NOW, 0, sig), NOW), signatures=(sig,))
              for n in range(count)]
    assert await store.write_claims(claims, []) == []
    await store.refresh()

    found = await store.candidate_claims(list(sig.bands[:3]))

    assert len(found) == count
    assert {c.id for c, _ in found} == {c.id for c in claims}
    assert len(await store.candidate_claims([f"0:{n:x}" for n in range(70_000)] + list(sig.bands))) == count
    assert await store.candidate_claims([]) == []
    assert await store.candidate_claims(["0:not-a-band"]) == []


async def test_a_claim_read_back_carries_its_analysed_text(store: SocialStore) -> None:
    forms = normalise("Nghe nói mai phong tỏa toàn Dĩ An, mua gạo dự trữ ngay")
    claim = new_claim(Mention("p1", forms.text, "test", NOW, 0, signature(forms.folded),
                              text_segmented=forms.segmented, text_folded=forms.folded), NOW)
    await store.write_claims([claim], [])

    read, _ = await store.get_claim(claim.id)

    assert (read.text_segmented, read.text_folded) == (forms.segmented, forms.folded)
    assert "phong toa" in read.text_folded


async def test_a_claim_changed_by_another_process_is_read_again_not_taken_from_the_cache(
        store: SocialStore, es: AsyncElasticsearch, unique_prefix: str) -> None:
    forms = normalise("Tối nay trực thăng rải thuốc khử trùng toàn tỉnh Bình Dương")
    sig = signature(forms.folded)
    assert sig is not None
    claim = replace(new_claim(Mention("p1", forms.text, "test", NOW, 0, sig), NOW), signatures=(sig,))
    await store.write_claims([claim], [])
    await store.refresh()
    [(cached, version)] = await store.candidate_claims(list(sig.bands))
    other = SocialStore(es, unique_prefix)  # e.g. the web process, where a reviewer works

    await other.save_claim(cached.with_note("comms-user", "đang xác minh", NOW), version)
    await store.refresh()
    [(seen, seen_version)] = await store.candidate_claims(list(sig.bands))

    assert seen_version != version
    assert [c.action for c in seen.history] == ["note"]
    assert seen.signatures == (sig,)
    with pytest.raises(ClaimConflict):
        await store.save_claim(cached, version)  # the stale copy cannot overwrite the review
