"""Leaders' analytics: accent-insensitive search, facets, volume charts, district heat map, spikes, CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import web

from classifier.text import normalise
from dashboards import charts, labels
from dashboards.isolation import ward_counts
from dashboards.queries import build_spikes, build_trends, read_spikes
from dashboards.views import page_context
from intake import keys as intake_keys
from intake.queries import Sort, TicketSearch
from social_monitor import keys as social_keys
from social_monitor.queries import PostSearch, build_post_search

routes = web.RouteTableDef()
LOCAL: Final = timezone(timedelta(hours=7))
EXPORT_LIMIT: Final = 10_000


def _search(request: web.Request, *, size: int) -> TicketSearch:
    """The leader's filters from the query string; unknown values are ignored rather than refused."""
    q = request.query.get("q", "").strip() or None
    forms = normalise(q) if q else None

    def pick(name: str, allowed: dict[str, str]) -> tuple[str, ...]:
        value = request.query.get(name, "")
        return (value,) if value in allowed else ()

    def day(name: str, end: bool = False) -> datetime | None:
        try:
            value = datetime.fromisoformat(request.query.get(name, "")).replace(tzinfo=LOCAL)
        except ValueError:
            return None
        return value + timedelta(days=1) if end else value

    district = request.query.get("district", "").strip()
    created_from = day("from") or (datetime.now(LOCAL) - timedelta(days=30)).replace(hour=0, minute=0, second=0,
                                                                                     microsecond=0)
    return TicketSearch(q=q, q_folded=forms.folded if forms else None, q_segmented=forms.segmented if forms else None,
                        category=pick("category", labels.CATEGORY), urgency=pick("urgency", labels.URGENCY),
                        channel=pick("channel", labels.CHANNEL), district=(district,) if district else (),
                        created_from=created_from, created_to=day("to", end=True), sort=Sort.NEWEST, size=size)


@routes.get("/trends")
@aiohttp_jinja2.template("trends.html")
async def get_trends(request: web.Request) -> dict[str, Any]:
    """Roles: leader, admin. Search and aggregate complaints."""
    store = request.app[intake_keys.STORE]
    search = _search(request, size=50)
    page, aggs = await store.search_with_aggs(build_trends(search))
    _, spike_aggs = await store.search_with_aggs(build_spikes(datetime.now(timezone.utc)))
    posts: list[Any] = []
    post_total = 0
    if search.q:  # the same words over monitored posts, so a leader sees both sides of a topic
        posts, post_total = await request.app[social_keys.STORE].search_posts(build_post_search(
            PostSearch(q_folded=search.q_folded, q_segmented=search.q_segmented, size=20)))
    districts = aggs["district"]["buckets"]
    cell_max = max((c["doc_count"] for d in districts for c in d["category"]["buckets"]), default=0)
    heat_rows = [(d["key"], d["doc_count"], {c["key"]: c["doc_count"] for c in d["category"]["buckets"]})
                 for d in districts]
    return page_context(
        request, page=page, aggs=aggs, labels=labels, filters=request.query, search=search,
        chart=charts.stacked_bars(aggs["per_day"]["buckets"], labels.CATEGORY), heat_rows=heat_rows,
        heat=lambda v: charts.heat(v, cell_max), spikes=read_spikes(spike_aggs), posts=posts,
        post_total=post_total, isolation_counts=await ward_counts(request),
        export_query=request.query_string)


@routes.get("/trends/export.csv")
async def get_trends_export(request: web.Request) -> web.StreamResponse:
    """Roles: leader, admin. The result set of the same filters as CSV (callers' numbers masked)."""
    page = await request.app[intake_keys.STORE].search(
        {**build_trends(_search(request, size=EXPORT_LIMIT)), "aggs": {}})
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the Vietnamese text as UTF-8
    writer = csv.writer(out)
    writer.writerow(["so_phieu", "thoi_gian", "kenh", "linh_vuc", "muc_do", "trang_thai", "huyen", "xa_phuong",
                     "nguoi_goi", "noi_dung"])
    for t in page.tickets:
        body = t.as_json(show_caller=False)
        writer.writerow([t.number, t.created_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M"),
                         labels.CHANNEL.get(t.channel, t.channel), labels.CATEGORY.get(t.category or "", ""),
                         labels.URGENCY.get(t.urgency or "", ""), labels.STATUS.get(t.status, t.status),
                         t.district or "", t.ward or "", body["caller"] or "", t.text])
    stamp = datetime.now(LOCAL).strftime("%Y%m%d-%H%M")
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="phan-anh-{stamp}.csv"'})
