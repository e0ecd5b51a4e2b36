"""Shared fixtures: settings with a unique index prefix, a real Elasticsearch client, the real app."""
from __future__ import annotations

import os

# One OpenMP/BLAS thread per test process, set before scikit-learn, numpy or torch load their thread pools. On
# the 2 shared cores of the development machine and CI, pools of two threads spin against each other and against
# other processes (torch and scikit-learn each bring their own OpenMP runtime): fitting the misinformation test
# model took 25.7 s after test_hf.py had loaded torch and 0.9 s on one thread (`setdefault`: a caller's own value
# wins).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import uuid  # noqa: E402  (after the thread limit above)
from collections.abc import AsyncIterator  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from elasticsearch import AsyncElasticsearch  # noqa: E402

from hotline.es import make_es  # noqa: E402
from hotline.loaded_models import Models, load_models  # noqa: E402
from hotline.settings import Settings  # noqa: E402



SLOW_MODULES = frozenset({"test_faults.py", "test_fuzz.py", "test_search_node.py", "test_replicas.py",
                          "test_outage.py"})
"""Test files that start or restart JVM nodes, drive storms or run thousands of generated cases."""

SLOW_TESTS = frozenset({
    # the whole dev split (380 posts) ingested three times, twice one post at a time: 53-70 s
    "tests/social_monitor/test_grouping.py::test_one_batch_and_one_by_one_give_the_same_claims",
    # a full training run of the category model on the seed corpus (cross-validated), then classifying with it
    "tests/classifier/test_cli.py::test_train_with_corrections_writes_a_model_and_card_that_classify_uses",
    "tests/intake/test_cli.py::test_corrections_export_feeds_retraining",
})
"""Single tests of the same kinds: long data runs and full training runs (node ids from the repository root)."""


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: the marks must be there when it looks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the slow tests in one place: those whole files, those single tests, and every test that drives a
    real browser (its module is named for it, or it takes the `browser` fixture)."""
    root = Path(__file__).resolve().parent.parent
    for item in items:
        node = item.path.relative_to(root).as_posix() + "::" + item.name.partition("[")[0]
        if (item.path.name in SLOW_MODULES or node in SLOW_TESTS or "browser" in item.path.name
                or "browser" in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run without Elasticsearch: a suite that cannot reach it fails, it never skips."""
    if not os.environ.get("ES_URL"):
        raise pytest.UsageError("ES_URL is not set. Run the tests with `make test`, which starts a search node.")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Test settings: the real cluster from ES_URL, a prefix no other run shares, a private data dir."""
    base = Settings.from_env()
    return replace(base, index_prefix=f"test-{uuid.uuid4().hex[:8]}-", data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
async def es(settings: Settings) -> AsyncIterator[AsyncElasticsearch]:
    """A client for the real node; fails the run with a clear message if the node is not there."""
    client = make_es(settings)
    try:
        await client.options(request_timeout=10).cluster.health(wait_for_status="yellow", timeout="10s")
    except Exception as err:  # the message must say what is wrong, whatever the transport raised
        await client.close()
        pytest.fail(f"Elasticsearch at {settings.es_url} is not reachable: {err!r}", pytrace=False)
    # The session's indices refresh every 100 ms instead of every second. Writes that wait for visibility
    # (`refresh="wait_for"`: operators' edits, isolation cases, claim pairs) waited up to a second each: 9 of the
    # 10 s of a medical-page fixture. Search stays near-real-time (a write is visible only after a refresh).
    template = f"{settings.index_prefix}refresh"
    await client.indices.put_index_template(name=template, index_patterns=[f"{settings.index_prefix}*"], priority=500,
                                            template={"settings": {"index": {"refresh_interval": "100ms"}}})
    yield client
    await client.indices.delete(index=f"{settings.index_prefix}*", ignore_unavailable=True, expand_wildcards="all")
    await client.indices.delete_index_template(name=template)
    await client.close()


@pytest.fixture
async def unique_prefix(settings: Settings, es: AsyncElasticsearch) -> AsyncIterator[str]:
    """A prefix below the session's, for tests that need indices of their own; they are deleted after.

    Deleting per test keeps the node under its shard limit: an app creates eight indices at start-up.
    """
    prefix = f"{settings.index_prefix}{uuid.uuid4().hex[:6]}-"
    yield prefix
    await es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")


@pytest.fixture(scope="module")
async def module_prefix(settings: Settings, es: AsyncElasticsearch) -> AsyncIterator[str]:
    """A prefix for the indices of an app that a whole test module shares (see `refusals` fixtures); deleted
    after the module."""
    prefix = f"{settings.index_prefix}m{uuid.uuid4().hex[:6]}-"
    yield prefix
    await es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, expand_wildcards="all")


@pytest.fixture(scope="session")
def models(settings: Settings) -> Models:
    """The trained models, loaded once for every app of the session: `create_app(settings, models=models)`."""
    return load_models(settings)
