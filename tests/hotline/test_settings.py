"""Settings come from the environment, with clear errors for values that cannot work."""
from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import Settings, SettingsError


def test_defaults_start_a_local_node_on_loopback() -> None:
    settings = Settings.from_env({})

    assert settings.es_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.alias("tickets") == "hotline-tickets"
    assert settings.search_node_home == Path("var/search-node")


def test_environment_overrides_defaults() -> None:
    settings = Settings.from_env({"ES_URL": "https://es.example:9200", "PORT": "9000", "INDEX_PREFIX": "bd-",
                                  "ES_PASSWORD": "s3cret", "ES_USERNAME": "hotline", "DATA_DIR": "/srv/h"})

    assert settings.es_url == "https://es.example:9200"
    assert settings.port == 9000
    assert settings.alias("posts") == "bd-posts"
    assert settings.data_dir == Path("/srv/h")


def test_secrets_never_appear_in_repr() -> None:
    settings = Settings.from_env({"ES_PASSWORD": "s3cret", "ES_API_KEY": "k3y"})

    assert "s3cret" not in repr(settings) and "k3y" not in repr(settings)


@pytest.mark.parametrize(("env", "message"), [
    ({"PORT": "eighty"}, "PORT must be a whole number"),
    ({"SEARCH_NODE_PORT": "9.2"}, "SEARCH_NODE_PORT must be a whole number"),
    ({"INDEX_PREFIX": "Hotline-"}, "INDEX_PREFIX must be lower-case"),
    ({"INDEX_PREFIX": "a/b"}, "INDEX_PREFIX must be lower-case"),
    ({"INTAKE_WORKER": "threads"}, "INTAKE_WORKER must be one of inline, external"),
    ({"SOCIAL_ANALYSIS_PROCESSES": "-1"}, "SOCIAL_ANALYSIS_PROCESSES must be between 0 and 16"),
    ({"SOCIAL_ANALYSIS_PROCESSES": "two"}, "SOCIAL_ANALYSIS_PROCESSES must be a whole number"),
])
def test_unusable_values_are_rejected_with_the_variable_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(("raw", "expected"), [("", "inline"), ("external", "external"), (" External ", "external")])
def test_intake_worker_runs_inline_unless_told_otherwise(raw: str, expected: str) -> None:
    assert Settings.from_env({"INTAKE_WORKER": raw}).intake_worker == expected
