"""Settings for every entry point, read once from the environment."""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeVar

DEFAULT_SEARCH_NODE_PORT: Final = 9200
LOCAL_HOST: Final = "127.0.0.1"
INTAKE_WORKERS: Final = ("inline", "external")
N = TypeVar("N", int, float)


class SettingsError(ValueError):
    """An environment variable holds a value the application cannot use."""


def _api_keys(raw: str) -> dict[str, Any]:
    from hotline.access import parse_api_keys  # access imports settings; import here to keep one direction

    try:
        return dict(parse_api_keys(raw))
    except ValueError as err:
        raise SettingsError(f"API_KEYS: {err}") from err


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, float, "a number")


def _sources(env: Mapping[str, str], name: str) -> str:
    from social_monitor.collectors import parse_sources  # checked at start-up, used by social_ctx

    raw = env.get(name, "")
    try:
        parse_sources(raw, default_interval_s=300)
    except ValueError as err:
        raise SettingsError(f"{name}: {err}") from err
    return raw


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _names(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name, "").strip()
    return tuple(n.strip().lower() for n in raw.split(",") if n.strip()) if raw else default


def _clock_times(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """ "08:00,17:00" -> ("08:00", "17:00"), sorted; each HH:MM checked."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    times = []
    for item in (t.strip() for t in raw.split(",") if t.strip()):
        hour, _, minute = item.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2):
            raise SettingsError(f"{name} must be times HH:MM separated by commas, got {item!r}")
        times.append(f"{int(hour):02d}:{minute}")
    return tuple(sorted(set(times)))


def _ward_numbers(env: Mapping[str, str], name: str) -> dict[str, str]:
    """ "Dĩ An/Đông Hòa=+8490...,Thuận An/Lái Thiêu=+8491..." -> {"Dĩ An/Đông Hòa": "+8490..."}."""
    found = {}
    for item in (t.strip() for t in env.get(name, "").split(",") if t.strip()):
        place, _, number = item.partition("=")
        if "/" not in place or not number.strip().lstrip("+").isdigit():
            raise SettingsError(f"{name} entries are district/ward=+84..., got {item!r}")
        found[place.strip()] = number.strip()
    return found


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _number(env, name, default, int, "a whole number")


def _number(env: Mapping[str, str], name: str, default: N, parse: Callable[[str], N], what: str) -> N:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as err:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from err


def _int_in(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _int(env, name, default)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = _names(env, name, ())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as err:
            raise SettingsError(f"{name} must list IP addresses or networks (10.0.0.0/8), got {item!r}") from err
    return items


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
    api_keys: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """API key -> access.Principal, from API_KEYS ("name:role:key,...")."""
    public_base_url: str = "http://127.0.0.1:8080"
    """The URL Twilio calls (behind the TLS proxy); webhook signatures are computed over it."""
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_api_base: str = "https://api.twilio.com"
    twilio_from_number: str = ""
    greeting_audio_url: str | None = None
    greeting_text: str = ("Đường dây nóng 1022 xin nghe. Xin quý vị nói rõ họ tên, địa chỉ và sự việc cần phản ánh "
                          "sau tiếng bíp. Nếu nguy hiểm đến tính mạng, xin gọi 115.")
    record_max_length_s: int = 180
    on_call_numbers: tuple[str, ...] = ()
    outcome_sms: bool = False
    sla_emergency_min: int = 15
    sla_high_min: int = 240
    sla_normal_min: int = 4320
    escalation_interval_s: int = 30
    asr_model_dir: str | None = None
    journal_max_backoff_s: float = 30.0
    journal_retention_days: int = 7
    """How long the journals keep a stored entry's key to recognise re-deliveries; the workers prune older ones."""
    intake_worker: str = "inline"
    """Where the intake journal is drained: "inline" (in the web process) or "external" (`hotline worker`)."""
    session_ttl_hours: int = 12
    social_feeds: str = ""
    """RSS/Atom sources: name=url[@seconds],..."""
    facebook_feeds: str = ""
    """Facebook pages/groups: name=page_or_group_id[@seconds],..."""
    facebook_access_token: str = field(default="", repr=False)
    facebook_graph_base: str = "https://graph.facebook.com/v19.0"
    social_poll_interval_s: int = 300
    social_tickets_interval_s: int = 60
    social_max_backoff_s: int = 3600
    social_analysis_processes: int = 0
    """Worker processes for the CPU half of post ingest (pyvi, the model, MinHash); 0: a thread of the app."""
    misinformation_model: str = "misinformation"
    misinformation_threshold: float = 0.8
    claim_growth_min_mentions: int = 10
    claim_growth_ratio: float = 3.0
    claimreview_publisher: str = "Đường dây nóng 1022"
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of reverse proxies whose X-Forwarded-For names the client (issue 14, #13)."""
    password_checks: int = 2
    """Password verifications (argon2id) that may run at once, in threads of their own."""
    fetch_http_hosts: tuple[str, ...] = ()
    """Hosts that outside URLs may name with plain http (every other fetch is https only)."""
    fetch_private_hosts: tuple[str, ...] = ()
    """Hosts or networks fetched even though they resolve to private or loopback addresses (tests, an intranet feed)."""
    fetch_max_bytes: int = 50 * 1024 * 1024
    fetch_timeout_s: float = 30.0
    # Zalo Official Account (issue 17); secrets only from the environment, never in repr or logs.
    zalo_app_id: str = ""
    zalo_oa_id: str = ""
    zalo_oa_secret_key: str = field(default="", repr=False)
    zalo_app_secret: str = field(default="", repr=False)
    zalo_access_token: str = field(default="", repr=False)
    zalo_refresh_token: str = field(default="", repr=False)
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    zalo_replay_window_s: int = 8100
    """Zalo re-sends a failed delivery with its original timestamp for up to ~1 h 51 min: 2 h 15 min covers it."""
    zalo_media_hosts: tuple[str, ...] = ("zdn.vn", "zadn.vn", "zalo.me", "zaloapp.com")
    # Home-isolation (F0) monitoring (issue 17).
    isolation_checkin_times: tuple[str, ...] = ("08:00", "17:00")
    isolation_recovery_days: int = 10
    isolation_retention_days: int = 30
    isolation_ward_on_call: Mapping[str, str] = field(default_factory=dict)
    """"district/ward" -> the ward medical team's on-call number (ISOLATION_WARD_ON_CALL)."""
    isolation_interval_s: int = 60
    # Several replicas on one cluster (issue 16).
    replica_id: str = ""
    """This replica's name in leases (REPLICA_ID); empty: hostname and process id."""
    lease_ttl_s: int = 60
    """How long a replica's lease on a source (or a periodic round) lasts unrenewed: a dead replica's work is
    taken over within this time. It must exceed the longest fetch (FETCH_TIMEOUT)."""

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
            api_keys=_api_keys(env.get("API_KEYS", "")),
            public_base_url=env.get("PUBLIC_BASE_URL", d.public_base_url).rstrip("/"),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_api_base=env.get("TWILIO_API_BASE", d.twilio_api_base).rstrip("/"),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            greeting_audio_url=env.get("GREETING_AUDIO_URL") or None,
            greeting_text=env.get("GREETING_TEXT", d.greeting_text),
            record_max_length_s=_int(env, "RECORD_MAX_LENGTH", d.record_max_length_s),
            on_call_numbers=tuple(n.strip() for n in env.get("ON_CALL_NUMBERS", "").split(",") if n.strip()),
            outcome_sms=env.get("OUTCOME_SMS", "").lower() in ("1", "true", "yes"),
            sla_emergency_min=_int(env, "SLA_EMERGENCY_MINUTES", d.sla_emergency_min),
            sla_high_min=_int(env, "SLA_HIGH_MINUTES", d.sla_high_min),
            sla_normal_min=_int(env, "SLA_NORMAL_MINUTES", d.sla_normal_min),
            escalation_interval_s=_int(env, "ESCALATION_INTERVAL", d.escalation_interval_s),
            asr_model_dir=env.get("ASR_MODEL_DIR") or None,
            journal_retention_days=_int_in(env, "JOURNAL_RETENTION_DAYS", d.journal_retention_days, 1, 3650),
            intake_worker=_choice(env, "INTAKE_WORKER", d.intake_worker, INTAKE_WORKERS),
            session_ttl_hours=_int(env, "SESSION_TTL_HOURS", d.session_ttl_hours),
            social_feeds=_sources(env, "SOCIAL_FEEDS"), facebook_feeds=_sources(env, "FACEBOOK_FEEDS"),
            facebook_access_token=env.get("FACEBOOK_ACCESS_TOKEN", ""),
            facebook_graph_base=env.get("FACEBOOK_GRAPH_BASE", d.facebook_graph_base).rstrip("/"),
            social_poll_interval_s=_int(env, "SOCIAL_POLL_INTERVAL", d.social_poll_interval_s),
            social_tickets_interval_s=_int(env, "SOCIAL_TICKETS_INTERVAL", d.social_tickets_interval_s),
            social_max_backoff_s=_int(env, "SOCIAL_MAX_BACKOFF", d.social_max_backoff_s),
            social_analysis_processes=_int_in(env, "SOCIAL_ANALYSIS_PROCESSES", d.social_analysis_processes, 0, 16),
            misinformation_model=env.get("MISINFORMATION_MODEL", d.misinformation_model),
            misinformation_threshold=_float(env, "MISINFORMATION_THRESHOLD", d.misinformation_threshold),
            claim_growth_min_mentions=_int(env, "CLAIM_GROWTH_MIN_MENTIONS", d.claim_growth_min_mentions),
            claim_growth_ratio=_float(env, "CLAIM_GROWTH_RATIO", d.claim_growth_ratio),
            claimreview_publisher=env.get("CLAIMREVIEW_PUBLISHER", d.claimreview_publisher),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            password_checks=_int_in(env, "PASSWORD_CHECKS", d.password_checks, 1, 16),
            fetch_http_hosts=_names(env, "FETCH_HTTP_HOSTS", ()),
            fetch_private_hosts=_names(env, "FETCH_PRIVATE_HOSTS", ()),
            fetch_max_bytes=_int_in(env, "FETCH_MAX_BYTES", d.fetch_max_bytes, 1024, 1024 ** 3),
            fetch_timeout_s=float(_int_in(env, "FETCH_TIMEOUT", int(d.fetch_timeout_s), 1, 3600)),
            zalo_app_id=env.get("ZALO_APP_ID", "").strip(), zalo_oa_id=env.get("ZALO_OA_ID", "").strip(),
            zalo_oa_secret_key=env.get("ZALO_OA_SECRET_KEY", ""), zalo_app_secret=env.get("ZALO_APP_SECRET", ""),
            zalo_access_token=env.get("ZALO_ACCESS_TOKEN", ""), zalo_refresh_token=env.get("ZALO_REFRESH_TOKEN", ""),
            zalo_api_base=env.get("ZALO_API_BASE", d.zalo_api_base).rstrip("/"),
            zalo_oauth_base=env.get("ZALO_OAUTH_BASE", d.zalo_oauth_base).rstrip("/"),
            zalo_replay_window_s=_int_in(env, "ZALO_REPLAY_WINDOW", d.zalo_replay_window_s, 60, 86_400),
            zalo_media_hosts=_names(env, "ZALO_MEDIA_HOSTS", d.zalo_media_hosts),
            isolation_checkin_times=_clock_times(env, "ISOLATION_CHECKIN_TIMES", d.isolation_checkin_times),
            isolation_recovery_days=_int_in(env, "ISOLATION_RECOVERY_DAYS", d.isolation_recovery_days, 1, 60),
            isolation_retention_days=_int_in(env, "ISOLATION_RETENTION_DAYS", d.isolation_retention_days, 1, 3650),
            isolation_ward_on_call=_ward_numbers(env, "ISOLATION_WARD_ON_CALL"),
            isolation_interval_s=_int_in(env, "ISOLATION_INTERVAL", d.isolation_interval_s, 5, 3600),
            replica_id=env.get("REPLICA_ID", "").strip(),
            lease_ttl_s=_int_in(env, "LEASE_TTL", d.lease_ttl_s, 3, 3600),
        )

    def alias(self, name: str) -> str:
        """The alias that readers and writers use for the index called `name`."""
        return f"{self.index_prefix}{name}"

    def with_es_url(self, url: str) -> Settings:
        """A copy pointing at `url` (used once the local search node is up)."""
        return replace(self, es_url=url)

    @property
    def replica(self) -> str:
        """This replica's identity in leases: REPLICA_ID, or hostname:pid (unique on one machine and across them)."""
        return self.replica_id or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def journal_path(self) -> Path:
        """The intake journal (SQLite): accepted webhooks wait here until Elasticsearch has them."""
        return self.data_dir / "journal.sqlite3"

    @property
    def zalo_token_path(self) -> Path:
        """The Zalo OA token pair; rewritten atomically on every refresh, since each refresh kills the old one."""
        return self.data_dir / "zalo_tokens.json"

    @property
    def search_node_home(self) -> Path:
        """Where the local search node keeps its data, logs and pid file."""
        return self.data_dir / "search-node"
