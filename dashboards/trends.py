"""Leaders' analytics: accent-insensitive search, facets, volume charts, district heat map, spikes, CSV."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import web

from classifier.text import mask_pii, normalise
from dashboards import charts, labels
from dashboards import keys as dashboard_keys
from dashboards.isolation import ward_counts
from dashboards.queries import build_spikes, build_trends, read_spikes
from dashboards.views import page_context
from intake import keys as intake_keys
from intake.queries import Sort, TicketSearch
from intake.records import MAX_YEAR, MIN_YEAR
from social_monitor import keys as social_keys
from social_monitor.queries import PostSearch, build_post_search

routes = web.RouteTableDef()
LOCAL: Final = timezone(timedelta(hours=7))
EXPORT_LIMIT: Final = 10_000
NUMBER_ROLES: Final = frozenset({"operator", "admin"})


def _search(request: web.Request, *, size: int) -> TicketSearch:
    """The leader's filters from the query string; unknown values are ignored rather than refused."""
    q = request.query.get("q", "").strip() or None
    forms = normalise(q) if q else None

    def pick(name: str, allowed: dict[str, str]) -> tuple[str, ...]:
        value = request.query.get(name, "")
        return (value,) if value in allowed else ()

    def day(name: str, end: bool = False) -> datetime | None:
        raw = request.query.get(name, "")
        try:
            value = datetime.fromisoformat(raw).replace(tzinfo=LOCAL) if raw.isascii() else None
        except ValueError:
            return None
        if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:  # 9999-12-31 + 1 day overflowed (issue 14, #9)
            return None
        return value + timedelta(days=1) if end else value

    district = request.query.get("district", "").strip()
    created_from = day("from") or (datetime.now(LOCAL) - timedelta(days=30)).replace(hour=0, minute=0, second=0,
                                                                                     microsecond=0)
    return TicketSearch(q=q, q_folded=forms.folded if forms else None, q_segmented=forms.segmented if forms else None,
                        category=pick("category", labels.CATEGORY), urgency=pick("urgency", labels.URGENCY),
                        channel=pick("channel", labels.CHANNEL), district=(district,) if district else (),
                        created_from=created_from, created_to=day("to", end=True), sort=Sort.NEWEST, size=size)


def _may_see_numbers(request: web.Request) -> bool:
    """Phone and ID numbers inside texts are shown to operators and admins only (issue 14, #7)."""
    return request.get(dashboard_keys.ROLE) in NUMBER_ROLES


FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to spreadsheet programs (=HYPERLINK(...) ran, issue 14, #3)."""


def csv_cell(value: str) -> str:
    """A text that spreadsheet programs show as text, never run as a formula (OWASP's advice: a leading ')."""
    return "'" + value if value.startswith(FORMULA_START) else value


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
    if not _may_see_numbers(request):
        page = replace(page, tickets=[replace(t, text=mask_pii(t.text)) for t in page.tickets])
        posts = [replace(p, text=mask_pii(p.text)) for p in posts]
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
    show_numbers = _may_see_numbers(request)
    for t in page.tickets:
        body = t.as_json(show_caller=False)  # the caller's number is masked for every role here, as before
        row = [t.number, t.created_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M"),
               labels.CHANNEL.get(t.channel, t.channel), labels.CATEGORY.get(t.category or "", ""),
               labels.URGENCY.get(t.urgency or "", ""), labels.STATUS.get(t.status, t.status),
               t.district or "", t.ward or "", body["caller"] or "", t.text if show_numbers else body["text"]]
        writer.writerow([csv_cell(str(cell)) for cell in row])
    stamp = datetime.now(LOCAL).strftime("%Y%m%d-%H%M")
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="phan-anh-{stamp}.csv"'})
