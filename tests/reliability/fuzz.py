"""Bad-input fuzzing of every route in hotline/access.py: no 5xx, no stack trace in any answer.

Hypothesis generates path parameters, query strings, JSON and form bodies (valid-looking and not), sent
with and without credentials and signatures, to the real app (real Elasticsearch) running in a thread.
`python -m tests.reliability.fuzz --cases 10000` runs the long campaign; the test suite runs a short one.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from hotline.access import ACCESS, TWILIO
from hotline.settings import Settings
from hotline.web import create_app
from tests.factories import auth, make_settings, twilio_signature

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"/")
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
# Full-width and Arabic-Indic digits: int() and fromisoformat() accept some of them (issue 14, #15).
ODD_DIGITS = "０１２９١٢٣"
text = st.text(alphabet=st.sampled_from(VIETNAMESE + "0123456789 ,.-_/:?&=%\"'{}[]<>\\\n\t\x00é́" + ODD_DIGITS),
               max_size=60)
# The inputs of the audit's row 9 (issue 14): dot segments and oversized ids, dates at the ends of the calendar,
# numbers too big for Elasticsearch, numbers in other scripts.
hostile_id = st.sampled_from([".", "..", "%2e%2e", "x" * 600, "y" * 8000, "a/b", "_search", "-1", "１２"])
hostile_value = st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-31T23:59:59+07:00", "２０２１-08-01",
                                 "١٢", "１２", "-1", "1e30", "99999999999999999999999", "NaN", "..", "z" * 9000])
hostile_json = st.sampled_from([{"likes": 10**30}, {"likes": 1e30}, {"id": "p", "text": "t", "likes": 10**30},
                                [{"id": "p", "text": "t\ud800"}], {"text": "t\ud800"}, {"date": "9999-12-31"},
                                {"follow_up_at": "9999-12-31T00:00:00+07:00"}, {"merged_into": ".."},
                                [{"id": "p", "text": "t", "published_at": "0001-01-01"}],
                                [{"id": "p", "text": "t", "attachments": [{"type": "audio", "url": "http://127.0.0.1:9200/"}]}]])
deep_json = st.integers(min_value=33, max_value=5000).map(lambda n: "[" * n + "]" * n)
json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                          max_leaves=12)
known_keys = st.sampled_from(["text", "status", "category", "assignee", "note", "version", "follow_up_at",
                              "merged_into", "caller", "district", "q", "page", "size", "sort", "from", "to",
                              "urgency", "channel", "CallSid", "MessageSid", "From", "Body", "SequenceId",
                              "TranscriptionData", "Final", "RecordingSid", "RecordingUrl", "RecordingStatus",
                              "username", "password", "role", "verdict", "state", "url", "source"])
field_dict = st.dictionaries(known_keys | text, text | st.integers().map(str) | hostile_value, max_size=8)
deep_transcription = deep_json.map(lambda nested: {"CallSid": "CA" + "1" * 32, "SequenceId": "1", "Final": "true",
                                                   "TranscriptionData": '{"transcript": ' + nested + "}"})


def _segment(value: str) -> str:
    """A path segment: percent-encoded, except "%2e%2e", sent as is (servers must not resolve it as "..")."""
    return value if value == "%2e%2e" else quote(value or "x", safe="")


@st.composite
def requests_for(draw: st.DrawFn) -> dict[str, Any]:
    """One request to one of the app's routes."""
    method, pattern = draw(st.sampled_from(sorted(ACCESS)))
    path = re.sub(r"\{[^}]+\}", lambda _: _segment(draw(text | hostile_id)), pattern)
    role = draw(st.sampled_from(["operator", "comms", "leader", "admin", None]))
    headers = auth(role) if role else {}
    body_kind = draw(st.sampled_from(["json", "form", "raw", "none", "hostile", "deep"]))
    body: dict[str, Any] = {}
    if method not in ("GET", "HEAD"):
        if body_kind == "json":
            body["json"] = draw(json_value | field_dict)
        elif body_kind == "form":
            body["data"] = draw(field_dict)
            if ACCESS[(method, pattern)] is TWILIO and draw(st.booleans()):
                headers["X-Twilio-Signature"] = twilio_signature(path, body["data"])
        elif body_kind == "hostile":
            body["json"] = draw(hostile_json)
        elif body_kind == "deep":
            if ACCESS[(method, pattern)] is TWILIO:
                body["data"] = draw(deep_transcription)
                headers["X-Twilio-Signature"] = twilio_signature(path, body["data"])
            else:
                body["data"] = draw(deep_json)
                headers["Content-Type"] = "application/json"
        elif body_kind == "raw":
            body["data"] = draw(st.binary(max_size=200))
            headers["Content-Type"] = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                                            "text/plain"]))
    return {"method": method, "path": path, "params": draw(field_dict), "headers": headers, **body}


@contextmanager
def running_app(app_settings: Settings) -> Iterator[str]:
    """The real app on a TestServer in its own thread and loop; yields its base URL."""
    loop = asyncio.new_event_loop()
    server = TestServer(create_app(app_settings), host="127.0.0.1", loop=loop)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start_server(), loop).result(60)
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def campaign(base_url: str, cases: int) -> list[str]:
    """Run `cases` generated requests; returns descriptions of every failure."""
    failures: list[str] = []
    session = requests.Session()

    @hyp_settings(max_examples=cases, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
    @given(requests_for())
    def one(req: dict[str, Any]) -> None:
        resp = session.request(req.pop("method"), base_url + req.pop("path"), timeout=30, allow_redirects=False,
                               **req)
        if resp.status_code >= 500 or TRACEBACK.search(resp.text):
            failures.append(f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text[:200]}")

    one()
    return failures


def main(cases: int) -> int:
    base = Settings.from_env()
    prefix = f"fuzz-{uuid.uuid4().hex[:8]}-"  # a run of its own: several people share the node
    try:
        with tempfile.TemporaryDirectory() as tmp, running_app(
                make_settings(base, Path(tmp), index_prefix=prefix)) as url:
            failures = campaign(url, cases)
    finally:
        requests.delete(f"{base.es_url}/{prefix}*", params={"expand_wildcards": "all", "ignore_unavailable": "true"},
                        timeout=60)
    print(f"{cases} cases, {len(failures)} failures")
    for failure in failures[:20]:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    sys.exit(main(parser.parse_args().cases))
