"""Every route declares who may use it; none answers without credentials or to the wrong role."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hotline.access import ACCESS, PUBLIC, TWILIO, ZALO
from hotline.loaded_models import Models
from hotline.settings import Settings
from hotline.web import create_app
from tests.factories import KEYS, auth, make_settings



def _routes() -> set[tuple[str, str]]:
    app = create_app(Settings())
    return {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD" and r.resource}


def test_every_route_has_an_access_rule_and_every_rule_a_route() -> None:
    assert _routes() == set(ACCESS)


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, es: Any, unique_prefix: str, tmp_path: Path,
                 models: Models) -> TestClient:
    return await aiohttp_client(create_app(make_settings(settings, tmp_path, index_prefix=unique_prefix),
                                           models=models))


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "some-id", path)


def _refusal(path: str, admits: frozenset[str]) -> int:
    """Webhooks answer 403 unsigned; APIs 401; pages send the browser to sign in (303)."""
    if admits is TWILIO or admits is ZALO:
        return 403
    return 401 if path.startswith("/api/") else 303


async def test_no_protected_route_answers_without_credentials(client: TestClient) -> None:
    for (method, path), admits in ACCESS.items():
        if admits is PUBLIC:
            continue
        resp = await client.request(method, _concrete(path), allow_redirects=False)
        assert resp.status == _refusal(path, admits), (method, path)
        bad_key = await client.request(method, _concrete(path), allow_redirects=False,
                                       headers={"Authorization": "Bearer wrong-key-0123456789"})
        assert bad_key.status == _refusal(path, admits), (method, path)


async def test_no_route_answers_to_a_role_it_does_not_admit(client: TestClient) -> None:
    for (method, path), admits in ACCESS.items():
        if admits in (PUBLIC, TWILIO, ZALO):
            continue
        for role in KEYS:
            resp = await client.request(method, _concrete(path), headers=auth(role), allow_redirects=False)
            if role in admits:
                assert resp.status not in (401, 403), (method, path, role)
            else:
                assert resp.status == 403, (method, path, role)
