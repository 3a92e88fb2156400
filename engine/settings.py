"""Configuration: one pydantic-settings class, from `PLAYBOOK_*` variables and `playbook.toml`.

Precedence, highest first: keyword arguments, environment variables (`PLAYBOOK_TEMPORAL_ADDRESS`
…), then `playbook.toml` in the working folder (keys without the prefix:
`temporal_address = "temporal:7233"`), then the defaults, which serve the embedded stack.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from engine.semantics.spread import DEFAULT_SPREAD
from engine.semantics.time_rules import DEFAULT_HORIZON, parse_horizon

__all__ = ["Horizon", "Settings"]

Horizon = Annotated[timedelta, BeforeValidator(parse_horizon)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAYBOOK_", toml_file="playbook.toml", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "playbook"
    database_url: str | None = None  # default: a SQLite file in the state folder
    playbooks: Path = Path("playbooks")
    state_dir: Path = Path(".playbook")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_token: SecretStr | None = None
    public_url: str | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "Customer Success <success@acme.example>"
    unsubscribe_secret: SecretStr = Field(default=SecretStr("change-me"))
    # Email engagement (docs/operations.md, "Email engagement"): off by default, and then mail is
    # sent exactly as written. On, every http(s) link of an email goes through a signed redirect
    # (`GET /e/c/<token>`) and the HTML part carries a 1x1 pixel (`GET /e/o/<token>`), served by
    # the API at `tracking_url` (default: `public_url`); clicks and opens become the built-in events
    # `email_clicked` and `email_opened`. Tokens are signed with `tracking_secret` (default: the
    # unsubscribe secret) and work for `tracking_days` after the send.
    track_engagement: bool = False
    tracking_url: str | None = None
    tracking_secret: SecretStr | None = None
    tracking_days: int = Field(default=180, ge=1)
    api_max_body_bytes: int = 5 * 1024 * 1024
    api_max_line_bytes: int = 64 * 1024
    api_routing_timeout_seconds: float = 10.0  # one call to Temporal while routing; slower counts as a failure
    # Calls to Temporal the drain of routed intents makes at once (journeys of different accounts;
    # one account's in order)
    api_drain_in_flight: int = Field(default=8, ge=1, le=256)
    # Stored changes waiting to be routed beyond which ingestion answers 503 (before storing)
    api_max_routing_backlog: int = 100_000
    # Intents routed and not carried out on Temporal yet beyond which ingestion answers 503 (before
    # storing): Temporal down for long makes the engine say so instead of piling up without a word
    api_drain_backlog_max: int = Field(default=200_000, ge=1)
    # Several API processes on one PostgreSQL database share the routing: each routes the accounts
    # of the partitions it claims (docs/operations.md); off, each routes what it stored itself
    api_routing_shared: bool = False
    # Memory for the account histories live routing keeps between runs, in MiB (docs/operations.md,
    # "Routing memory"): the least recently routed accounts are forgotten beyond it, and read again
    # from the store when next routed. About 10 KB per account of ~22 changes: 100,000 in ~1 GiB.
    routing_keep_mb: int = Field(default=1280, ge=1)
    # Input whose `at` is older than this when it arrives is history (back-fill): it updates fields
    # and scores but triggers nothing; a journey step later than this is skipped (`24h`, `2d`, seconds)
    trigger_horizon: Horizon = DEFAULT_HORIZON
    # The engine's clock: `wall` (the machine's), or `server` (the Temporal server's, e.g. the
    # time-skipping test server's); `clock_offset_seconds` is subtracted from it (engine time =
    # clock - offset), and journeys get the same offset
    clock: Literal["wall", "server"] = "wall"
    clock_offset_seconds: float = 0.0
    # The scheduler of time triggers looks again at least this often (it is also woken when a date
    # or a time zone changes)
    scheduler_max_sleep_seconds: float = Field(default=3600.0, gt=0)
    # A schedule's instant (`every month on day 1 at 10:00`) is spread over this window: each
    # account fires at a fixed offset within it, from a hash of its id (`5m`, `0` for none)
    schedule_spread: Horizon = DEFAULT_SPREAD
    # How slow and how many clients the API serves (server/api/connection_limits.py)
    api_header_timeout_seconds: float = Field(default=10.0, gt=0)  # request headers complete within this
    api_body_timeout_seconds: float = Field(default=30.0, gt=0)  # a request body complete within this
    api_max_connections: int = Field(default=1000, ge=1)  # beyond: 503
    api_unauthenticated_max_body_bytes: int = Field(default=4096, ge=0)  # bodies of routes with no token
    # The relay's send-rate limit, shared by every worker: at most `smtp_max_sends` messages per
    # `smtp_send_window_seconds` (None: no limit); a send over it waits for a free slot
    smtp_max_sends: int | None = Field(default=None, ge=1)
    smtp_send_window_seconds: float = Field(default=60.0, gt=0)
    # At worker start, running playbook versions whose `do` parameters the installed plugins would
    # refuse: `refuse` to start, or `warn` and start (docs/plugins.md, Parameter versions)
    plugin_params_check: Literal["refuse", "warn"] = "refuse"
    # `playbook simulate`: processes to split the accounts over (None: one per core for a large timeline)
    simulate_processes: int | None = Field(default=None, ge=1)

    # Hosts `webhook.post` may reach whatever they resolve to, and the only ones a URL from account
    # data may name: `hooks.example.com,*.internal.example` (see docs/operations.md, Security)
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The domains (`vendor.example`, `*.vendor.example`) or addresses an owner's address may send
    # from with `send email X from csm`: those the relay signs for (docs/operations.md, Security)
    sender_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("webhook_allowed_hosts", "sender_domains", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'store.db'}"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def tracking_base_url(self) -> str:
        return (self.tracking_url or self.base_url).rstrip("/")

    @property
    def tracking_key(self) -> str:
        """The secret engagement tokens are signed with."""
        secret = self.tracking_secret or self.unsubscribe_secret
        return secret.get_secret_value()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls), file_secret_settings)
