"""What leaders and operators read (issue 13): history sentences, spikes with a floor, chart axes (no I/O)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from dashboards import charts, history, labels
from dashboards.queries import read_spikes, spike_windows

NAMES = history.Names({"lan": "Lan", "binh": "Bình"}, {"t-1": "261201-78B4C"})


@pytest.mark.parametrize(("actor", "action", "before", "after", "sentence"), [
    ("lan", "updated", {"status": "new"}, {"status": "in_progress"}, "Lan chuyển trạng thái: Mới → Đang xử lý"),
    ("lan", "updated", {"assignee": None, "status": "new"}, {"assignee": "lan", "status": "assigned"},
     "Lan nhận xử lý; chuyển trạng thái: Mới → Đã nhận"),
    ("lan", "ticket_updated", {"assignee": "lan"}, {"assignee": "binh"}, "Lan giao cho Bình"),
    ("lan", "updated", {"merged_into": None, "status": "new"}, {"merged_into": "t-1", "status": "closed"},
     "Lan gộp vào phiếu 261201-78B4C; chuyển trạng thái: Mới → Đã đóng"),
    ("system", "classified", {"category": None}, {"category": "prices"}, "Hệ thống phân loại: lĩnh vực: Giá cả"),
    ("lan", "sms_reply_sending", {}, {"key": "k", "body": "Chào anh"}, "Lan nhắn tin trả lời người gọi: “Chào anh”"),
    ("minh", "user_created", {}, {"username": "lan", "role": "operator"},
     "minh thêm người dùng lan (Điện thoại viên)"),
])
def test_history_entries_read_as_vietnamese_sentences(actor: str, action: str, before: dict[str, Any],
                                                      after: dict[str, Any], sentence: str) -> None:
    assert history.describe(actor, action, before, after, NAMES) == sentence


def _spike_aggs(recent: int, baseline: int) -> dict[str, Any]:
    return {"category": {"buckets": [{"key": "quarantine", "district": {"buckets": [{"key": "Dĩ An", "windows": {
        "buckets": [{"key": "baseline", "doc_count": baseline}, {"key": "recent", "doc_count": recent}]}}]}}]}}


def test_a_pair_with_no_history_is_compared_with_the_floor_not_divided_by_zero() -> None:
    spikes = read_spikes(_spike_aggs(recent=35, baseline=0), recent=timedelta(days=3), baseline=timedelta(days=14))

    assert spikes[0]["ratio"] == 17.5 and spikes[0]["new"] is True


def test_a_usual_level_is_not_a_spike() -> None:
    assert read_spikes(_spike_aggs(recent=6, baseline=28), recent=timedelta(days=3), baseline=timedelta(days=14)) == []


def test_spikes_follow_the_chosen_window() -> None:
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    chosen = datetime(2026, 11, 1, tzinfo=timezone.utc)

    start, split, end = spike_windows(now, chosen, datetime(2026, 11, 11, tzinfo=timezone.utc))

    assert (split, end) == (chosen, datetime(2026, 11, 11, tzinfo=timezone.utc))
    assert split - start == timedelta(days=20)  # twice the window, at least 14 days
    assert spike_windows(now)[1:] == (now - timedelta(days=3), now)


def test_the_chart_has_a_round_axis_readable_dates_links_and_distinct_colours() -> None:
    days = [{"key_as_string": (datetime(2026, 11, 1) + timedelta(days=i)).isoformat(), "doc_count": 7,
             "category": {"buckets": [{"key": "quarantine", "doc_count": 4}, {"key": "prices", "doc_count": 3}]}}
            for i in range(60)]

    chart = charts.stacked_bars(days, labels.CATEGORY, link=lambda day, c: f"/trends?from={day[:10]}&category={c}",
                                date_label=lambda key: key[8:10] + "/" + key[5:7], title_label=str)

    assert [t.text for t in chart.y_ticks] == ["0", "2", "4", "6", "8"]
    gaps = [b.position - a.position for a, b in zip(chart.labels, chart.labels[1:])]
    assert min(gaps) >= charts.MIN_LABEL_GAP and chart.labels[0].text == "01/11"
    assert chart.bars[0].href == "/trends?from=2026-11-01&category=quarantine"
    assert len(set(charts.PALETTE)) == len(labels.CATEGORY)
