"""Leaders' analytics: accent-insensitive search, facets, volume charts, district heat map, spikes, CSV."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from hotline.kernel.records import LOCAL_TZ
from hotline.kernel.request import ROLE
from classifier.text import mask_pii, normalise
from dashboards import charts, labels
from dashboards.isolation import ward_counts
from dashboards.queries import build_spikes, build_trends, read_spikes, spike_windows
from dashboards.views import page_context
from intake import keys as intake_keys
from intake.queries import Sort, TicketSearch, query_fields
from intake.records import MAX_YEAR, MIN_YEAR
from social_monitor import keys as social_keys
from social_monitor.queries import PostSearch, build_post_search

routes = web.RouteTableDef()
EXPORT_LIMIT: Final = 10_000
NUMBER_ROLES: Final = frozenset({"operator", "admin"})
WEEKLY_AFTER: Final = timedelta(days=62)
"""Longer ranges are charted by week: daily bars would be a few pixels wide with unreadable dates."""
MONTHLY_AFTER: Final = timedelta(days=731)
DRILL_KEYS: Final = ("q", "match", "category", "urgency", "channel", "district", "from", "to")


EARLIEST: Final = datetime(2019, 1, 1, tzinfo=LOCAL_TZ)
"""Dates before the hotline existed are read as this: a year-1 window would be millions of empty buckets."""


def _day(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name, "")
    try:
        value = datetime.fromisoformat(raw).replace(tzinfo=LOCAL_TZ) if raw.isascii() else None
    except ValueError:
        return None
    if value is None:
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:  # a typing error or a probe: refused, as the ticket API does
        raise web.HTTPBadRequest(text=f"Ngày ({name}) phải nằm trong các năm {MIN_YEAR}–{MAX_YEAR}.")
    latest = datetime.now(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return min(max(value, EARLIEST), latest)  # a plausible date outside the data: the nearest day with data


def _interval(span: timedelta) -> str:
    """Days up to two months, weeks up to two years, months beyond: bars stay wide enough to read and click."""
    return "day" if span <= WEEKLY_AFTER else "week" if span <= MONTHLY_AFTER else "month"


def _search(request: web.Request, *, size: int) -> TicketSearch:
    """The leader's filters from the query string; unknown values are ignored rather than refused."""
    places = request.app[intake_keys.PLACES]

    def pick(name: str, allowed: dict[str, str]) -> tuple[str, ...]:
        value = request.query.get(name, "")
        return (value,) if value in allowed else ()

    typed = request.query.get("district", "").strip()
    district = (places.district(typed) or typed) if typed else None
    end = _day(request, "to")
    created_from = _day(request, "from") or (datetime.now(LOCAL_TZ) - timedelta(days=30)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return TicketSearch(**query_fields(request.query.get("q"), places=places, allow_phone=False,
                                       any_word=request.query.get("match") == "any"),
                        category=pick("category", labels.CATEGORY), urgency=pick("urgency", labels.URGENCY),
                        channel=pick("channel", labels.CHANNEL), district=(district,) if district else (),
                        created_from=created_from, created_to=end + timedelta(days=1) if end else None,
                        sort=Sort.NEWEST, size=size)


def drill_link(request: web.Request, **changes: str | None) -> str:
    """The trends page with the current filters and `changes` (None removes one), at its result list."""
    query = {k: v for k, v in request.query.items() if k in DRILL_KEYS and v}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return "/trends?" + urlencode(query) + "#results"


def _may_see_numbers(request: web.Request) -> bool:
    """Phone and ID numbers inside texts are shown to operators and admins only (issue 14, #7)."""
    return request.get(ROLE) in NUMBER_ROLES


FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is a formula to spreadsheet programs (=HYPERLINK(...) ran, issue 14, #3)."""


def csv_cell(value: str) -> str:
    """A text that spreadsheet programs show as text, never run as a formula (OWASP's advice: a leading ')."""
    return "'" + value if value.startswith(FORMULA_START) else value


@routes.get("/trends")
@aiohttp_jinja2.template("trends.html")
async def get_trends(request: web.Request) -> dict[str, Any]:
    """Roles: leader, admin. Search and aggregate complaints; every bar, cell and spike leads to its tickets."""
    store = request.app[intake_keys.STORE]
    search = _search(request, size=50)
    start = search.created_from or datetime.now(LOCAL_TZ)
    end = search.created_to or datetime.now(LOCAL_TZ)
    interval = _interval(end - start)
    page, aggs = await store.search_with_aggs(build_trends(search, interval=interval,
                                                             until=datetime.now(timezone.utc)))
    # Spikes: the chosen window (the last 3 days when none was chosen) against the period before it.
    chosen = bool(request.query.get("from") or request.query.get("to"))
    recent_start, split, recent_end = spike_windows(datetime.now(timezone.utc), start if chosen else None,
                                                    end if chosen else None)
    _, spike_aggs = await store.search_with_aggs(build_spikes(replace(search, created_from=None, created_to=None),
                                                              recent_start, split, recent_end))
    spikes = read_spikes(spike_aggs, recent=recent_end - split, baseline=split - recent_start)
    last_day = (recent_end.astimezone(LOCAL_TZ) - timedelta(seconds=1)).date().isoformat()
    for s in spikes:
        s["href"] = drill_link(request, category=s["category"], district=s["district"],
                               **{"from": split.astimezone(LOCAL_TZ).date().isoformat(), "to": last_day})
    posts: list[Any] = []
    post_total = 0
    if search.q:  # the same words over monitored posts, so a leader sees both sides of a topic
        forms = normalise(search.q)
        posts, post_total = await request.app[social_keys.STORE].search_posts(build_post_search(
            PostSearch(q_folded=forms.folded, q_segmented=forms.segmented, size=20)))

    def bar_link(key: str, category: str) -> str:
        first = datetime.fromisoformat(key).date()
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)  # the next month's first day
        last = {"day": first, "week": first + timedelta(days=6), "month": following - timedelta(days=1)}[interval]
        return drill_link(request, category=category, **{"from": first.isoformat(), "to": last.isoformat()})

    def date_label(key: str) -> str:
        return datetime.fromisoformat(key).strftime("%m/%Y" if interval == "month" else "%d/%m")

    def title_label(key: str) -> str:
        day = datetime.fromisoformat(key)
        return {"day": f"{day:%d/%m/%Y}", "week": f"tuần từ {day:%d/%m/%Y}", "month": f"tháng {day:%m/%Y}"}[interval]

    if not _may_see_numbers(request):
        page = replace(page, tickets=[replace(t, text=mask_pii(t.text)) for t in page.tickets])
        posts = [replace(p, text=mask_pii(p.text)) for p in posts]
    places = request.app[intake_keys.PLACES]
    by_district = {d["key"]: d for d in aggs["district"]["buckets"]}
    names = [*places.districts, *(k for k in by_district if k not in places.districts)]
    heat_rows = [(name, by_district[name]["doc_count"] if name in by_district else 0,
                  {c["key"]: c["doc_count"] for c in by_district[name]["category"]["buckets"]}
                  if name in by_district else {}) for name in names]
    heat_rows.sort(key=lambda row: -row[1])
    cell_max = max((v for _, _, cells in heat_rows for v in cells.values()), default=0)
    return page_context(
        request, page=page, aggs=aggs, labels=labels, filters=request.query, search=search,
        interval_name={"day": "ngày", "week": "tuần", "month": "tháng"}[interval],
        chart=charts.stacked_bars(aggs["per_day"]["buckets"], labels.CATEGORY, link=bar_link,
                                  date_label=date_label, title_label=title_label, width=600, height=260),
        heat_rows=heat_rows, heat=lambda v: charts.heat_level(v, cell_max), spikes=spikes,
        spike_from=f"{split.astimezone(LOCAL_TZ):%d/%m}", spike_to=f"{(recent_end - timedelta(seconds=1)).astimezone(LOCAL_TZ):%d/%m/%Y}",
        posts=posts, post_total=post_total, districts=places.districts,
        district_shown=search.district[0] if search.district else "",
        drill=lambda **changes: drill_link(request, **changes), isolation_counts=await ward_counts(request),
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
        row = [t.number, t.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
               labels.CHANNEL.get(t.channel, t.channel), labels.CATEGORY.get(t.category or "", ""),
               labels.URGENCY.get(t.urgency or "", ""), labels.STATUS.get(t.status, t.status),
               t.district or "", t.ward or "", body["caller"] or "", t.text if show_numbers else body["text"]]
        writer.writerow([csv_cell(str(cell)) for cell in row])
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="phan-anh-{stamp}.csv"'})
