"""The production layout: docker-compose.yml, the Dockerfile, and the documentation of both.

Docker is not needed: the files are read and checked against the code they configure (the
settings, the `playbook` commands, the store's URL format).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from cli.main import build_parser
from engine.settings import Settings
from tests.operations.conftest import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
OPERATIONS = ROOT / "docs" / "operations.md"

SETTING_VARIABLES = {f"PLAYBOOK_{field.upper()}" for field in Settings.model_fields}
FIXED = {
    "PLAYBOOK_TEMPORAL_ADDRESS", "PLAYBOOK_TEMPORAL_NAMESPACE", "PLAYBOOK_TASK_QUEUE", "PLAYBOOK_DATABASE_URL",
    "PLAYBOOK_PLAYBOOKS", "PLAYBOOK_STATE_DIR", "PLAYBOOK_API_HOST", "PLAYBOOK_API_PORT", "PLAYBOOK_API_TOKEN",
    "PLAYBOOK_PUBLIC_URL", "PLAYBOOK_SMTP_HOST", "PLAYBOOK_SMTP_PORT", "PLAYBOOK_SMTP_USER",
    "PLAYBOOK_SMTP_PASSWORD", "PLAYBOOK_SMTP_STARTTLS", "PLAYBOOK_MAIL_FROM",
}
PLAYBOOK_SERVICES = ("migrate", "api", "worker")
# What a deployment must provide; everything else has a default in the compose file.
REQUIRED = {"PLAYBOOK_API_TOKEN": "token-for-tests", "PLAYBOOK_UNSUBSCRIBE_SECRET": "secret-for-tests"}

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`; `$$` is a literal `$`."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        current = env.get(name)
        if operator in (":-", "-"):
            unset = current is None or (operator == ":-" and current == "")
            return interpolate(argument, env) if unset else str(current)
        if operator in (":?", "?"):
            if current is None or (operator == ":?" and current == ""):
                raise KeyError(f"{name}: {argument}")
            return current
        return current or ""

    return INTERPOLATION.sub(one, value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def resolved_environment(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    given = dict(REQUIRED) if env is None else env
    return {name: interpolate(value, given) for name, value in environment(service).items()}


def image_of(service: dict[str, Any]) -> str:
    return str(service.get("image", ""))


def service_using(services: dict[str, dict[str, Any]], prefix: str) -> list[str]:
    return [name for name, service in services.items() if image_of(service).startswith(prefix)]


def host_of(address: str) -> str:
    return address.rpartition(":")[0] if ":" in address else address


# --------------------------------------------------------------------------- the services


def test_the_compose_file_names_every_service_of_the_layout(services: dict[str, dict[str, Any]]) -> None:
    assert len(service_using(services, "postgres:")) == 2  # one for Temporal, one for the store
    assert service_using(services, "temporalio/auto-setup:") == ["temporal"]
    assert service_using(services, "temporalio/ui:") == ["temporal-ui"]
    assert {"migrate", "api", "worker", "smtp-relay", "temporal-db", "store-db"} <= set(services)


def test_third_party_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in PLAYBOOK_SERVICES:
            continue
        image = image_of(service)
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin a version of {image!r}"


def test_the_playbook_services_run_the_projects_image_and_commands(services: dict[str, dict[str, Any]]) -> None:
    parser = build_parser()
    expected = {"migrate": "migrate", "api": "api", "worker": "worker"}
    for name, command in expected.items():
        service = services[name]
        assert service["build"]["context"] == "."
        assert service["image"] == services["worker"]["image"], "one image for every playbook process"
        args = service["command"]
        assert isinstance(args, list) and args[0] == command
        parsed = parser.parse_args(args)  # the real CLI accepts the service's command line
        assert parsed.command == command and callable(parsed.handler)


def test_temporal_runs_on_its_own_postgresql(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["temporal"])
    assert env["DB"] == "postgres12"
    database = services[env["POSTGRES_SEEDS"]]
    assert image_of(database).startswith("postgres:")
    db_env = environment(database)
    assert (env["POSTGRES_USER"], env["POSTGRES_PWD"]) == (db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"])
    assert services["temporal"]["depends_on"][env["POSTGRES_SEEDS"]]["condition"] == "service_healthy"
    ui = environment(services["temporal-ui"])
    assert host_of(ui["TEMPORAL_ADDRESS"]) == "temporal"


def test_the_namespace_temporal_creates_is_the_one_the_workers_use(services: dict[str, dict[str, Any]]) -> None:
    created = interpolate(environment(services["temporal"])["DEFAULT_NAMESPACE"], dict(REQUIRED))
    used = resolved_environment(services["worker"])["PLAYBOOK_TEMPORAL_NAMESPACE"]
    assert created == used == "default"
    mine = {**REQUIRED, "PLAYBOOK_TEMPORAL_NAMESPACE": "cs-prod"}
    assert interpolate(environment(services["temporal"])["DEFAULT_NAMESPACE"], mine) == "cs-prod"
    assert resolved_environment(services["worker"], mine)["PLAYBOOK_TEMPORAL_NAMESPACE"] == "cs-prod"


def test_the_default_database_url_reaches_the_store_database(services: dict[str, dict[str, Any]]) -> None:
    for name in PLAYBOOK_SERVICES:
        url = make_url(resolved_environment(services[name])["PLAYBOOK_DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg"
        database = services[str(url.host)]
        db_env = environment(database)
        assert (url.username, url.password, url.database, url.port) == (
            db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"], db_env["POSTGRES_DB"], 5432)
        assert services[name]["depends_on"].keys() & {"migrate", str(url.host)}


def test_the_settings_the_playbook_services_get_are_valid(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PLAYBOOK_"):
            monkeypatch.delenv(name)
    for name in PLAYBOOK_SERVICES:
        with monkeypatch.context() as patch:
            for variable, value in resolved_environment(services[name]).items():
                patch.setenv(variable, value)
            settings = Settings()
            assert host_of(settings.temporal_address) in services
            assert settings.smtp_host in services
            assert settings.api_token is not None and settings.api_token.get_secret_value() == "token-for-tests"
            assert settings.smtp_user == "" and settings.smtp_starttls is False


def test_the_token_and_the_unsubscribe_secret_must_be_given(services: dict[str, dict[str, Any]]) -> None:
    for missing in REQUIRED:
        given = {name: value for name, value in REQUIRED.items() if name != missing}
        with pytest.raises(KeyError, match=missing):
            resolved_environment(services["api"], given)


# --------------------------------------------------------------------------- settings by name


def test_playbook_services_get_only_settings_by_their_fixed_names(services: dict[str, dict[str, Any]]) -> None:
    for name in PLAYBOOK_SERVICES:
        names = set(environment(services[name]))
        assert names <= SETTING_VARIABLES, f"{name}: not settings: {sorted(names - SETTING_VARIABLES)}"
        assert FIXED - {"PLAYBOOK_API_HOST", "PLAYBOOK_API_PORT"} <= names, f"{name}: {sorted(FIXED - names)}"


def test_every_variable_the_file_reads_is_a_setting() -> None:
    text = COMPOSE_FILE.read_text()
    read = {match.group(1) for match in INTERPOLATION.finditer(text.replace("$$", ""))}
    assert read <= SETTING_VARIABLES, f"not settings: {sorted(read - SETTING_VARIABLES)}"
    mentioned = set(re.findall(r"\bPLAYBOOK_[A-Z_]+\b", text))
    assert mentioned <= SETTING_VARIABLES, f"not settings: {sorted(mentioned - SETTING_VARIABLES)}"


# --------------------------------------------------------------------------- scaling and start-up order


def test_the_worker_scales(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker, "a fixed container name allows one replica only"
    assert "ports" not in worker, "a published port allows one replica per host port"
    assert "hostname" not in worker


def test_the_api_listens_on_8000_and_is_checked_on_healthz(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    env = resolved_environment(api)
    assert env["PLAYBOOK_API_HOST"] == "0.0.0.0" and env["PLAYBOOK_API_PORT"] == "8000"
    assert any(str(port).endswith(":8000") for port in api["ports"])
    check = " ".join(api["healthcheck"]["test"])
    assert "/healthz" in check and ":8000" in check


def test_start_up_waits_for_health_and_the_migration(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["depends_on"]["store-db"]["condition"] == "service_healthy"
    assert services["migrate"].get("restart") == "no"
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["temporal"]["condition"] == "service_healthy"
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on a service that does not exist: {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has no healthcheck"


def test_the_databases_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        if not image_of(service).startswith("postgres:"):
            continue
        mounts = {str(volume).split(":")[0]: str(volume).split(":")[1] for volume in service["volumes"]}
        assert any(target == "/var/lib/postgresql/data" and source in declared for source, target in mounts.items()), (
            f"{name} loses its data with its container")


# --------------------------------------------------------------------------- the image


def test_the_dockerfile_builds_the_project_for_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    froms = [line for line in instructions if line.startswith("FROM ")]
    assert froms and all(line.split()[1] == "python:3.11-slim" for line in froms)
    assert re.search(r"^RUN pip install \.$", text, re.M)
    assert re.search(r"^COPY playbooks \S+$", text, re.M)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert instructions[-2:] == ['ENTRYPOINT ["playbook"]', 'CMD ["--help"]']
    assert set(re.findall(r"\bPLAYBOOK_[A-Z_]+\b", text)) <= SETTING_VARIABLES


def test_the_build_context_keeps_what_the_image_needs() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".playbook"} <= ignored
    copied = set(re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.M))
    needed = {part for line in copied for part in line.split()}
    assert needed == {"pyproject.toml", "README.md", "dsl", "engine", "activities", "workers", "server", "simulation",
                      "cli", "playbooks"}
    assert not needed & ignored
    assert all((ROOT / path).exists() for path in needed)


# --------------------------------------------------------------------------- the documentation


def test_the_operations_guide_documents_every_setting_and_no_other() -> None:
    text = OPERATIONS.read_text()
    named = set(re.findall(r"\bPLAYBOOK_[A-Z_]+\b", text))
    assert named >= SETTING_VARIABLES, f"undocumented: {sorted(SETTING_VARIABLES - named)}"
    others = {"PLAYBOOK_DEBUG", "PLAYBOOK_TEST_POSTGRES_URL", "PLAYBOOK_PG_DIR", "PLAYBOOK_PG_DATABASE",
              "PLAYBOOK_SECRET_"}  # the prefix of the variables `secret_env` may name
    assert named <= SETTING_VARIABLES | others, f"not settings: {sorted(named - SETTING_VARIABLES - others)}"


def test_the_postgresql_script_is_valid_bash() -> None:
    script = ROOT / ".ci" / "postgres.sh"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)
