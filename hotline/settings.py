"""Settings for every entry point, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

DEFAULT_SEARCH_NODE_PORT: Final = 9200
LOCAL_HOST: Final = "127.0.0.1"


class SettingsError(ValueError):
    """An environment variable holds a value the application cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from err


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with defaults for a developer's machine."""

    es_url: str | None = None
    """An existing Elasticsearch 8 cluster; None means "start the local search node"."""
    es_username: str | None = field(default=None, repr=False)
    es_password: str | None = field(default=None, repr=False)
    es_api_key: str | None = field(default=None, repr=False)
    es_ca_certs: str | None = None
    es_timeout_s: float = 10.0
    index_prefix: str = "hotline-"
    host: str = LOCAL_HOST
    port: int = 8080
    data_dir: Path = Path("var")
    search_node_port: int = DEFAULT_SEARCH_NODE_PORT
    search_node_heap: str = "1g"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (see the README's configuration table)."""
        env = os.environ if env is None else env
        d = cls()  # with slots=True the class attributes are descriptors, so defaults come from an instance
        prefix = env.get("INDEX_PREFIX", d.index_prefix)
        if prefix != prefix.lower() or any(c in prefix for c in ' "*\\<|,>/?#:'):
            raise SettingsError(f"INDEX_PREFIX must be lower-case with no spaces or /\\*?\"<>|,#:, got {prefix!r}")
        return cls(
            es_url=env.get("ES_URL") or None,
            es_username=env.get("ES_USERNAME") or None,
            es_password=env.get("ES_PASSWORD") or None,
            es_api_key=env.get("ES_API_KEY") or None,
            es_ca_certs=env.get("ES_CA_CERTS") or None,
            es_timeout_s=float(_int(env, "ES_TIMEOUT", int(d.es_timeout_s))),
            index_prefix=prefix,
            host=env.get("HOST", d.host),
            port=_int(env, "PORT", d.port),
            data_dir=Path(env.get("DATA_DIR", str(d.data_dir))),
            search_node_port=_int(env, "SEARCH_NODE_PORT", d.search_node_port),
            search_node_heap=env.get("SEARCH_NODE_HEAP", d.search_node_heap),
            log_level=env.get("LOG_LEVEL", d.log_level).upper(),
        )

    def alias(self, name: str) -> str:
        """The alias that readers and writers use for the index called `name`."""
        return f"{self.index_prefix}{name}"

    def with_es_url(self, url: str) -> Settings:
        """A copy pointing at `url` (used once the local search node is up)."""
        return replace(self, es_url=url)

    @property
    def search_node_home(self) -> Path:
        """Where the local search node keeps its data, logs and pid file."""
        return self.data_dir / "search-node"
