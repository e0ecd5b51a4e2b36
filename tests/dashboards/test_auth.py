"""Sign-in, sessions, CSRF, roles on pages, user administration and its audit trail."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dashboards import keys as dashboard_keys
from dashboards import service
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from tests.factories import make_settings

pytestmark = pytest.mark.asyncio
PASSWORD = "mật-khẩu-đủ-dài-1"


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                                              models=models))
    app = client.app
    for username, role in (("lan", "operator"), ("minh", "admin"), ("hoa", "leader")):
        await service.add_user(username, role, PASSWORD, username.title(), actor="test", now=datetime.now(timezone.utc),
                               users=app[dashboard_keys.USERS], audit=app[dashboard_keys.AUDIT])
    return client


def _cookie(resp: Any, name: str) -> str | None:
    morsel = resp.cookies.get(name)
    return morsel.value if morsel is not None else None


async def sign_in(client: TestClient, username: str, password: str = PASSWORD, *,
                  accept: str = "text/html,application/xhtml+xml") -> Any:
    """Sign in as a browser does (the form, asking for HTML), or as a script with `accept="*/*"`."""
    page = await client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', await page.text())
    assert token is not None
    return await client.post("/login", data={"username": username, "password": password, "login_csrf": token[1],
                                             "next": ""},
                             headers={"Cookie": f"{dashboard_keys.LOGIN_CSRF_COOKIE}={_cookie(page, dashboard_keys.LOGIN_CSRF_COOKIE)}",
                                      "Accept": accept},
                             allow_redirects=False)


async def session_headers(client: TestClient, username: str) -> tuple[dict[str, str], str]:
    """A signed-in browser's Cookie header and the CSRF token its pages carry."""
    resp = await sign_in(client, username)
    assert resp.status == 303, await resp.text()
    cookie = {"Cookie": f"{dashboard_keys.SESSION_COOKIE}={_cookie(resp, dashboard_keys.SESSION_COOKIE)}"}
    page = await client.get("/admin/audit" if username == "minh" else "/login", headers=cookie)
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', await page.text())
    return cookie, csrf[1] if csrf else ""


@pytest.mark.parametrize(("username", "home"), [("lan", "/operator"), ("minh", "/admin/users"), ("hoa", "/trends")])
async def test_sign_in_opens_a_hardened_session_and_goes_to_the_role_page(client: TestClient, username: str,
                                                                          home: str) -> None:
    resp = await sign_in(client, username)

    assert resp.status == 303 and resp.headers["Location"] == home
    set_cookie = resp.headers.getall("Set-Cookie")
    session = next(c for c in set_cookie if c.startswith(dashboard_keys.SESSION_COOKIE))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" in session


async def test_wrong_password_and_unknown_user_get_the_same_refusal(client: TestClient) -> None:
    wrong = await sign_in(client, "lan", "sai-mat-khau-roi")
    unknown = await sign_in(client, "nobody", PASSWORD)

    for resp in (wrong, unknown):
        assert resp.status == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in await resp.text()
        assert _cookie(resp, dashboard_keys.SESSION_COOKIE) is None


@pytest.mark.parametrize("username", ["lan", ".", "..", "%2e%2e", "x" * 8000])
async def test_a_script_signing_in_gets_the_refusal_as_json(client: TestClient, username: str) -> None:
    """Issue 14, row 9: odd user names never reach Elasticsearch and, for a client not asking for HTML, the
    answer is the API's JSON error shape."""
    resp = await sign_in(client, username, "sai-mat-khau-roi", accept="*/*")

    assert resp.status == 401 and resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"] == "invalid_credentials" and "không đúng" in body["message"]


async def test_repeated_wrong_passwords_lock_that_user_name_only(client: TestClient) -> None:
    limit = client.app[dashboard_keys.SIGN_IN_THROTTLE].policy.per_user
    for _ in range(limit):
        assert (await sign_in(client, "lan", "sai-mat-khau-roi")).status == 401

    locked = await sign_in(client, "lan")  # even the right password, while locked
    other = await sign_in(client, "hoa")

    assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Đăng nhập sai quá nhiều lần" in await locked.text()
    assert _cookie(locked, dashboard_keys.SESSION_COOKIE) is None
    assert other.status == 303


async def test_sign_in_with_a_forged_csrf_token_is_refused(client: TestClient) -> None:
    page = await client.get("/login")
    resp = await client.post("/login", data={"username": "lan", "password": PASSWORD, "login_csrf": "forged"},
                             headers={"Cookie": f"{dashboard_keys.LOGIN_CSRF_COOKIE}={_cookie(page, dashboard_keys.LOGIN_CSRF_COOKIE)}"},
                             allow_redirects=False)

    assert resp.status == 403


async def test_pages_redirect_anonymous_browsers_to_sign_in_and_refuse_wrong_roles(client: TestClient) -> None:
    anonymous = await client.get("/admin/users", allow_redirects=False)
    operator, _ = await session_headers(client, "lan")
    wrong_role = await client.get("/admin/users", headers=operator, allow_redirects=False)

    assert anonymous.status == 303 and anonymous.headers["Location"] == "/login?next=/admin/users"
    assert wrong_role.status == 403


async def test_an_expired_session_is_refused(client: TestClient) -> None:
    users, sessions = client.app[dashboard_keys.USERS], client.app[dashboard_keys.SESSIONS]
    token, _ = await sessions.create(await users.get("minh"), datetime.now(timezone.utc) - timedelta(hours=13),
                                     timedelta(hours=12))

    resp = await client.get("/admin/users", headers={"Cookie": f"{dashboard_keys.SESSION_COOKIE}={token}"},
                            allow_redirects=False)

    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    assert await sessions.get(token, datetime.now(timezone.utc)) is None


async def test_forms_need_the_session_csrf_token(client: TestClient) -> None:
    cookie, csrf = await session_headers(client, "minh")
    form = {"username": "tuan", "role": "comms", "password": PASSWORD, "display_name": "Tuấn"}

    forged = await client.post("/admin/users", data={**form, "csrf_token": "forged"}, headers=cookie,
                               allow_redirects=False)
    missing = await client.post("/admin/users", data=form, headers=cookie, allow_redirects=False)
    good = await client.post("/admin/users", data={**form, "csrf_token": csrf}, headers=cookie, allow_redirects=False)

    assert (forged.status, missing.status, good.status) == (403, 403, 303)
    assert (await client.app[dashboard_keys.USERS].get("tuan")).role == "comms"
    [entry] = [e for e in await client.app[dashboard_keys.AUDIT].recent() if e.target_id == "tuan"]
    assert (entry.actor, entry.action, entry.after["role"]) == ("minh", "user_created", "comms")


async def test_api_calls_with_a_session_cookie_need_the_csrf_header(client: TestClient) -> None:
    cookie, _ = await session_headers(client, "lan")
    csrf = (await client.app[dashboard_keys.SESSIONS].get(cookie["Cookie"].split("=", 1)[1],
                                                           datetime.now(timezone.utc)))
    assert csrf is not None

    without = await client.post("/api/tickets", json={"text": "hỏi lịch tiêm"}, headers=cookie)
    with_token = await client.post("/api/tickets", json={"text": "hỏi lịch tiêm"},
                                   headers={**cookie, "X-CSRF-Token": csrf.csrf})

    assert without.status == 403
    assert with_token.status == 201


async def test_role_change_and_password_reset_end_sessions_and_are_audited(client: TestClient) -> None:
    admin, csrf = await session_headers(client, "minh")
    operator, _ = await session_headers(client, "lan")

    resp = await client.post("/admin/users/lan", data={"csrf_token": csrf, "role": "leader", "active": "yes"},
                             headers=admin, allow_redirects=False)

    assert resp.status == 303
    assert (await client.get("/api/tickets", headers=operator, allow_redirects=False)).status == 401
    entry = next(e for e in await client.app[dashboard_keys.AUDIT].recent() if e.action == "user_updated")
    assert (entry.before["role"], entry.after["role"]) == ("operator", "leader")
    assert (await sign_in(client, "lan")).headers["Location"] == "/trends"


async def test_deactivated_users_cannot_sign_in_and_admins_cannot_lock_themselves_out(client: TestClient) -> None:
    admin, csrf = await session_headers(client, "minh")

    await client.post("/admin/users/hoa", data={"csrf_token": csrf, "active": "no"}, headers=admin,
                      allow_redirects=False)
    self_lock = await client.post("/admin/users/minh", data={"csrf_token": csrf, "active": "no"}, headers=admin,
                                  allow_redirects=False)

    assert (await sign_in(client, "hoa")).status == 401
    assert self_lock.status == 400 and "không thể tự khóa" in await self_lock.text()
    assert (await client.app[dashboard_keys.USERS].get("minh")).active


async def test_sign_out_ends_the_session(client: TestClient) -> None:
    cookie, csrf = await session_headers(client, "minh")

    out = await client.post("/logout", data={"csrf_token": csrf}, headers=cookie, allow_redirects=False)

    assert out.status == 303
    assert (await client.get("/admin/users", headers=cookie, allow_redirects=False)).status == 303


async def _login_form(client: TestClient) -> tuple[str, dict[str, str]]:
    page = await client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', await page.text())
    assert token is not None
    return token[1], {"Cookie": f"{dashboard_keys.LOGIN_CSRF_COOKIE}={_cookie(page, dashboard_keys.LOGIN_CSRF_COOKIE)}"}


async def test_forty_parallel_wrong_passwords_get_at_most_five_checked_and_the_right_one_no_way_in(
        client: TestClient) -> None:
    """Issue 14, #1: the limit was checked before, and failures counted after, the password check."""
    import asyncio
    token, cookie = await _login_form(client)

    async def attempt(password: str) -> int:
        resp = await client.post("/login", data={"username": "lan", "password": password, "login_csrf": token},
                                 headers=cookie, allow_redirects=False)
        return resp.status
    statuses = await asyncio.gather(*(attempt(f"sai-mat-khau-{n}") for n in range(40)), attempt(PASSWORD))

    assert statuses[:40].count(401) <= 5
    assert statuses.count(401) + statuses.count(429) + statuses.count(303) == 41
    assert statuses[:40].count(429) >= 35
    assert statuses[40] == 429  # the right password, queued behind the guesses, is refused unchecked


async def test_a_burst_of_sign_ins_does_not_stall_other_requests(client: TestClient) -> None:
    """Issue 14, #2: argon2 on the event loop stalled /healthz (and the webhooks) for seconds.

    Judged against the cost of one password check measured in the same run, not against a fixed time (0.5 s
    failed on a loaded machine): /healthz must come back within a few checks' time. With the checks on the event
    loop it waits behind the ones queued before it (measured: about ten checks' time, 0.50 s against 0.02 s)."""
    import asyncio
    import statistics
    import time

    from dashboards.accounts import verify_password
    token, cookie = await _login_form(client)
    one_check = statistics.median(_timed(lambda: verify_password(None, "sai-mat-khau-roi")) for _ in range(3))

    async def attempt(n: int) -> None:
        await client.post("/login", data={"username": f"khach{n}", "password": "sai-mat-khau-roi", "login_csrf": token},
                          headers=cookie, allow_redirects=False)

    async def health() -> float:
        await asyncio.sleep(0.05)  # once the burst is under way
        started = time.perf_counter()
        assert (await client.get("/healthz")).status == 200
        return time.perf_counter() - started
    *_, elapsed = await asyncio.gather(*(attempt(n) for n in range(25)), health())

    assert elapsed < 4 * one_check, (elapsed, one_check)


async def test_password_checks_leave_the_event_loop_free() -> None:
    """The mechanism behind the test above, without the web stack's timing: while eight checks run, the event
    loop keeps turning; each gap between its turns stays well under one check (on the loop, a gap would be a
    whole check)."""
    import asyncio
    import statistics
    import time

    from dashboards.accounts import PasswordChecker, verify_password
    one_check = statistics.median(_timed(lambda: verify_password(None, "sai-mat-khau-roi")) for _ in range(3))
    checker = PasswordChecker(max_concurrent=2)
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
    ticking = asyncio.create_task(ticker())
    try:
        results = await asyncio.gather(*(checker.verify(None, "sai-mat-khau-roi") for _ in range(8)))
    finally:
        stop.set()
        await ticking
        checker.close()

    assert results == [False] * 8 and len(gaps) > 8
    assert max(gaps) < one_check / 2, (max(gaps), one_check)


def _timed(work: Any) -> float:
    import time
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


async def test_forwarded_addresses_count_only_from_trusted_proxies(aiohttp_client: Any, settings: Settings, es: Any,
                                                                   unique_prefix: str, tmp_path: Path,
                                                                   models: Models) -> None:
    """Issue 14, #13: behind a reverse proxy, 30 misses of one client locked everyone."""
    app_settings = make_settings(settings, tmp_path, index_prefix=unique_prefix, trusted_proxies=("127.0.0.1",))
    client = await aiohttp_client(create_app(app_settings, models=models))
    token, cookie = await _login_form(client)
    per_address = client.app[dashboard_keys.SIGN_IN_THROTTLE].policy.per_address

    async def attempt(name: str, forwarded: str) -> int:
        resp = await client.post("/login", data={"username": name, "password": "sai-mat-khau-roi", "login_csrf": token},
                                 headers={**cookie, "X-Forwarded-For": forwarded}, allow_redirects=False)
        return resp.status
    for n in range(per_address):
        assert await attempt(f"khach{n}", "203.0.113.7") == 401

    assert await attempt("khach-x", "203.0.113.7") == 429
    assert await attempt("khach-x", "198.51.100.2") == 401  # another client behind the same proxy
    # A client cannot pick its own address by writing one in front: the proxy's view (rightmost) counts.
    assert await attempt("khach-y", "198.51.100.9, 203.0.113.7") == 429


async def test_user_names_outside_the_alphabet_are_refused_without_reaching_elasticsearch(
        client: TestClient) -> None:
    """Issue 14, #9: '..' as a user name went into an Elasticsearch URL path (500)."""
    for name in ("..", ".", "a/../../_cluster", "x" * 8000):
        assert (await sign_in(client, name)).status == 401


async def test_the_users_page_shows_only_fixed_messages_never_text_from_the_url(client: TestClient) -> None:
    """Issue 14, #14: `?message=...` was shown as a system message (a phishing aid)."""
    admin, csrf = await session_headers(client, "minh")
    phishing = "Hệ thống bảo trì: nhập mật khẩu tại http://evil.example"

    forged = await client.get("/admin/users", params={"message": phishing, "error": phishing}, headers=admin)
    forged_user = await client.get("/admin/users", params={"message": "added", "user": "khong-co-ai"}, headers=admin)
    added = await client.post("/admin/users", data={"csrf_token": csrf, "username": "tuan", "role": "comms",
                                                    "password": PASSWORD}, headers=admin, allow_redirects=False)
    shown = await client.get(added.headers["Location"], headers=admin)

    assert phishing not in await forged.text() and "evil.example" not in await forged.text()
    assert "khong-co-ai" not in await forged_user.text()
    assert added.headers["Location"] == "/admin/users?message=added&user=tuan"
    assert "Đã thêm người dùng tuan." in await shown.text()
