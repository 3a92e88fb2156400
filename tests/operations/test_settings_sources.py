"""Settings come from keyword arguments, then `PLAYBOOK_*` variables, then `playbook.toml` in the
working folder, then the defaults; `playbook.toml.example` documents exactly those settings."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from engine.settings import Settings
from tests.operations.conftest import ROOT

EXAMPLE = ROOT / "playbook.toml.example"
FIELDS = set(Settings.model_fields)
# The names deployments rely on (docker-compose.yml, docs/operations.md): they must keep working.
FIXED = {
    "PLAYBOOK_TEMPORAL_ADDRESS", "PLAYBOOK_TEMPORAL_NAMESPACE", "PLAYBOOK_TASK_QUEUE", "PLAYBOOK_DATABASE_URL",
    "PLAYBOOK_PLAYBOOKS", "PLAYBOOK_STATE_DIR", "PLAYBOOK_API_HOST", "PLAYBOOK_API_PORT", "PLAYBOOK_API_TOKEN",
    "PLAYBOOK_PUBLIC_URL", "PLAYBOOK_SMTP_HOST", "PLAYBOOK_SMTP_PORT", "PLAYBOOK_SMTP_USER",
    "PLAYBOOK_SMTP_PASSWORD", "PLAYBOOK_SMTP_STARTTLS", "PLAYBOOK_MAIL_FROM",
}


def env_name(field: str) -> str:
    return f"PLAYBOOK_{field.upper()}"


@pytest.fixture(autouse=True)
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder and no PLAYBOOK_* variable from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("PLAYBOOK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_fixed_variable_names_are_settings() -> None:
    assert {name for name in FIXED} <= {env_name(field) for field in FIELDS}


def test_the_defaults_serve_the_embedded_stack() -> None:
    settings = Settings()
    assert (settings.temporal_address, settings.temporal_namespace, settings.task_queue) == (
        "127.0.0.1:7233", "default", "playbook")
    assert settings.store_url == "sqlite:///.playbook/store.db"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.api_token is None


def test_every_setting_reads_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "PLAYBOOK_TEMPORAL_ADDRESS": "temporal:7233",
        "PLAYBOOK_TEMPORAL_NAMESPACE": "cs-prod",
        "PLAYBOOK_TASK_QUEUE": "journeys",
        "PLAYBOOK_DATABASE_URL": "postgresql+psycopg://playbook:pw@store-db:5432/playbook",
        "PLAYBOOK_PLAYBOOKS": "/app/playbooks",
        "PLAYBOOK_STATE_DIR": "/var/lib/playbook",
        "PLAYBOOK_API_HOST": "0.0.0.0",
        "PLAYBOOK_API_PORT": "9000",
        "PLAYBOOK_API_TOKEN": "token-4567",
        "PLAYBOOK_PUBLIC_URL": "https://cs.acme.example",
        "PLAYBOOK_SMTP_HOST": "relay.acme.example",
        "PLAYBOOK_SMTP_PORT": "587",
        "PLAYBOOK_SMTP_USER": "mailer",
        "PLAYBOOK_SMTP_PASSWORD": "smtp-pw-123",
        "PLAYBOOK_SMTP_STARTTLS": "true",
        "PLAYBOOK_MAIL_FROM": "CS <cs@acme.example>",
        "PLAYBOOK_UNSUBSCRIBE_SECRET": "s3cret",
        "PLAYBOOK_API_MAX_BODY_BYTES": "1024",
        "PLAYBOOK_API_MAX_LINE_BYTES": "512",
        "PLAYBOOK_API_ROUTING_TIMEOUT_SECONDS": "2.5",
        "PLAYBOOK_API_DRAIN_IN_FLIGHT": "3",
        "PLAYBOOK_API_MAX_ROUTING_BACKLOG": "1234",
        "PLAYBOOK_API_DRAIN_BACKLOG_MAX": "4321",
        "PLAYBOOK_API_ROUTING_SHARED": "true",
        "PLAYBOOK_ROUTING_KEEP_MB": "640",
        "PLAYBOOK_SIMULATE_PROCESSES": "3",
        "PLAYBOOK_PLUGIN_PARAMS_CHECK": "warn",
        "PLAYBOOK_TRIGGER_HORIZON": "48h",
        "PLAYBOOK_CLOCK": "server",
        "PLAYBOOK_CLOCK_OFFSET_SECONDS": "3600",
        "PLAYBOOK_SCHEDULER_MAX_SLEEP_SECONDS": "600",
        "PLAYBOOK_SCHEDULE_SPREAD": "10m",
        "PLAYBOOK_API_HEADER_TIMEOUT_SECONDS": "4",
        "PLAYBOOK_API_BODY_TIMEOUT_SECONDS": "8",
        "PLAYBOOK_API_MAX_CONNECTIONS": "50",
        "PLAYBOOK_API_UNAUTHENTICATED_MAX_BODY_BYTES": "100",
        "PLAYBOOK_WEBHOOK_ALLOWED_HOSTS": "hooks.acme.example, *.internal.acme.example",
        "PLAYBOOK_SENDER_DOMAINS": "acme.example, *.cs.acme.example",
        "PLAYBOOK_SMTP_MAX_SENDS": "600",
        "PLAYBOOK_SMTP_SEND_WINDOW_SECONDS": "30",
        "PLAYBOOK_TRACK_ENGAGEMENT": "true",
        "PLAYBOOK_TRACKING_URL": "https://links.acme.example/",
        "PLAYBOOK_TRACKING_SECRET": "track-s3cret",
        "PLAYBOOK_TRACKING_DAYS": "30",
    }
    assert set(values) == {env_name(field) for field in FIELDS}, "a setting is missing from this test"
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert (s.temporal_address, s.temporal_namespace, s.task_queue) == ("temporal:7233", "cs-prod", "journeys")
    assert s.store_url == "postgresql+psycopg://playbook:pw@store-db:5432/playbook"
    assert (s.playbooks, s.state_dir) == (Path("/app/playbooks"), Path("/var/lib/playbook"))
    assert (s.api_host, s.api_port, s.base_url) == ("0.0.0.0", 9000, "https://cs.acme.example")
    assert isinstance(s.api_token, SecretStr) and s.api_token.get_secret_value() == "token-4567"
    assert (s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_starttls) == ("relay.acme.example", 587, "mailer", True)
    assert s.smtp_password is not None and s.smtp_password.get_secret_value() == "smtp-pw-123"
    assert s.mail_from == "CS <cs@acme.example>"
    assert s.unsubscribe_secret.get_secret_value() == "s3cret"
    assert (s.api_max_body_bytes, s.api_max_line_bytes, s.api_routing_timeout_seconds) == (1024, 512, 2.5)
    assert s.api_max_routing_backlog == 1234
    assert s.api_drain_in_flight == 3
    assert s.api_drain_backlog_max == 4321
    assert s.api_routing_shared is True
    assert s.routing_keep_mb == 640
    assert s.simulate_processes == 3
    assert s.plugin_params_check == "warn"
    assert (s.trigger_horizon, s.clock, s.clock_offset_seconds) == (timedelta(hours=48), "server", 3600.0)
    assert s.scheduler_max_sleep_seconds == 600.0
    assert s.schedule_spread == timedelta(minutes=10)
    assert (s.api_header_timeout_seconds, s.api_body_timeout_seconds, s.api_max_connections) == (4, 8, 50)
    assert s.api_unauthenticated_max_body_bytes == 100
    assert s.webhook_allowed_hosts == ["hooks.acme.example", "*.internal.acme.example"]
    assert s.sender_domains == ["acme.example", "*.cs.acme.example"]
    assert (s.smtp_max_sends, s.smtp_send_window_seconds) == (600, 30)
    assert (s.track_engagement, s.tracking_base_url, s.tracking_key, s.tracking_days) == (
        True, "https://links.acme.example", "track-s3cret", 30)
    assert not {"token-4567", "smtp-pw-123", "s3cret", "track-s3cret"} & set(re.findall(r"[\w-]+", repr(s)))


def test_playbook_toml_in_the_working_folder_is_read(clean: Path) -> None:
    (clean / "playbook.toml").write_text(
        'temporal_address = "temporal.internal:7233"\n'
        'task_queue = "journeys"\n'
        'database_url = "postgresql+psycopg://playbook@db/playbook"\n'
        "smtp_starttls = true\n"
        "api_port = 8080\n"
    )
    s = Settings()
    assert (s.temporal_address, s.task_queue, s.smtp_starttls, s.api_port) == (
        "temporal.internal:7233", "journeys", True, 8080)
    assert s.store_url == "postgresql+psycopg://playbook@db/playbook"
    assert s.temporal_namespace == "default"  # what the file does not set keeps its default


def test_environment_variables_win_over_the_file_and_arguments_over_both(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean / "playbook.toml").write_text('temporal_address = "from-file:7233"\ntask_queue = "file-queue"\n'
                                         'temporal_namespace = "file-ns"\n')
    monkeypatch.setenv("PLAYBOOK_TEMPORAL_ADDRESS", "from-env:7233")
    monkeypatch.setenv("PLAYBOOK_TASK_QUEUE", "env-queue")
    s = Settings(task_queue="argument-queue")
    assert (s.temporal_address, s.task_queue, s.temporal_namespace) == ("from-env:7233", "argument-queue", "file-ns")


def test_the_file_is_read_from_the_working_folder_only(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean / "playbook.toml").write_text('task_queue = "here"\n')
    elsewhere = clean / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert Settings().task_queue == "playbook"


def test_unprefixed_variables_and_unknown_keys_are_ignored(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASK_QUEUE", "not-mine")
    monkeypatch.setenv("PLAYBOOK_NO_SUCH_SETTING", "x")
    (clean / "playbook.toml").write_text('no_such_setting = "x"\n')
    assert Settings().task_queue == "playbook"


def test_a_bad_value_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_API_PORT", "eighty")
    with pytest.raises(ValidationError, match="api_port"):
        Settings()


# --------------------------------------------------------------------------- playbook.toml.example

KEY_LINE = re.compile(r"^#?\s?([a-z_]+) = (.+)$")


def example_keys() -> dict[str, bool]:
    """Each key of the example, and whether it is set (True) or shown commented out (False)."""
    keys: dict[str, bool] = {}
    for line in EXAMPLE.read_text().splitlines():
        match = KEY_LINE.match(line)
        if match:
            assert match.group(1) not in keys, f"{match.group(1)} appears twice in playbook.toml.example"
            keys[match.group(1)] = not line.startswith("#")
    return keys


def test_the_example_names_every_setting_and_nothing_else() -> None:
    assert set(example_keys()) == FIELDS


def test_every_setting_in_the_example_has_a_comment_above_it() -> None:
    lines = EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = KEY_LINE.match(line)
        if not match:
            continue
        above = number - 1
        while above >= 0 and KEY_LINE.match(lines[above]):
            above -= 1  # keys listed together share the comment above them
        assert above >= 0 and lines[above].startswith("# ") and not KEY_LINE.match(lines[above]), (
            f"{match.group(1)} has no comment")


def test_the_example_as_it_stands_gives_the_defaults(clean: Path) -> None:
    tomllib.loads(EXAMPLE.read_text())
    without = Settings()
    (clean / "playbook.toml").write_text(EXAMPLE.read_text())
    assert Settings() == without


def test_the_examples_commented_values_are_valid_too(clean: Path) -> None:
    uncommented = "\n".join(line[2:] if KEY_LINE.match(line) and line.startswith("# ") else line
                            for line in EXAMPLE.read_text().splitlines())
    (clean / "playbook.toml").write_text(uncommented)
    s = Settings()
    assert s.database_url is not None and s.database_url.startswith("postgresql+psycopg://")
    assert s.api_token is not None and s.smtp_user is not None and s.public_url is not None
