"""`hubspot.create_task` against a HubSpot-like API served on 127.0.0.1 by playbook's testing kit:
owners by email, tasks created once per Idempotency-Key, faults injected per attempt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playbook_hubspot_tasks import HubSpotConfig, HubSpotConfigError, HubSpotRejected, HubSpotUnavailable, register
from playbook_hubspot_tasks.create_task import HubSpotTaskParams, create_task_activity
from pydantic import SecretStr, ValidationError

from activities.plugin_config import PluginNotConfigured, plugin_configs
from activities.registry import Registry, load_registry
from simulation.plugin_testing import Answer, RecordingServer, Request, plugin_call, run_folder

TOKEN = "pat-test-token"
OWNERS = {"sam@vendor.example": "101", "priya@vendor.example": "102"}
SAMPLE = Path(__file__).resolve().parents[1] / "sample"


class FakeHubSpot:
    """The answers of HubSpot's owners and tasks endpoints; `faults` answer first, one per request."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> created task
        self.faults: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request, attempt: int) -> Answer:
        with self._lock:
            if self.faults:
                status = self.faults.pop(0)
                return Answer(status, json.dumps({"message": f"injected {status}"}).encode())
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Answer(401, b'{"message": "Authentication credentials not found."}')
        if request.method == "GET":
            email = parse_qs(urlsplit(request.path).query).get("email", [""])[0]
            owner = OWNERS.get(email)
            return Answer(200, json.dumps({"results": [{"id": owner, "email": email}] if owner else []}).encode())
        with self._lock:
            task = self.tasks.setdefault(request.key, {"id": str(9000 + len(self.tasks)), **json.loads(request.body)})
        return Answer(201, json.dumps(task).encode())


@pytest.fixture
def hubspot() -> Iterator[tuple[FakeHubSpot, RecordingServer]]:
    api = FakeHubSpot()
    with RecordingServer(api) as server:
        yield api, server


def config(server: RecordingServer, token: str = TOKEN) -> HubSpotConfig:
    return HubSpotConfig(token=SecretStr(token), api_url=server.url)


def params(**values: object) -> HubSpotTaskParams:
    return HubSpotTaskParams.model_validate({"subject": "Call Acme", "owner_email": "sam@vendor.example",
                                             "due_days": 2, **values})


async def test_creates_a_task_owned_by_the_csm_due_days_after_the_step(
        hubspot: tuple[FakeHubSpot, RecordingServer]) -> None:
    api, server = hubspot
    call = plugin_call(account="acme", config=config(server))
    result = await create_task_activity(params(), call)
    assert result == {"id": "9000", "owner_id": "101"}
    assert api.tasks[call.key]["properties"] == {
        "hs_task_subject": "Call Acme",
        "hs_task_body": "",
        "hs_timestamp": "2026-03-04T09:00:00Z",
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "MEDIUM",
        "hubspot_owner_id": "101",
    }


async def test_the_same_step_key_creates_one_task_however_often_it_is_sent(
        hubspot: tuple[FakeHubSpot, RecordingServer]) -> None:
    api, server = hubspot
    call = plugin_call(config=config(server))
    first = await create_task_activity(params(), call)
    second = await create_task_activity(params(), call)
    assert first == second
    assert len(api.tasks) == 1
    assert [request.key for request in server.to("/crm/v3/objects/tasks")] == [call.key, call.key]


async def test_unknown_owner_is_a_permanent_error(hubspot: tuple[FakeHubSpot, RecordingServer]) -> None:
    api, server = hubspot
    with pytest.raises(HubSpotRejected, match=r"no HubSpot owner with the email nobody@vendor\.example"):
        await create_task_activity(params(owner_email="nobody@vendor.example"), plugin_call(config=config(server)))
    assert api.tasks == {}


async def test_a_wrong_token_is_a_permanent_error(hubspot: tuple[FakeHubSpot, RecordingServer]) -> None:
    _, server = hubspot
    with pytest.raises(HubSpotRejected, match=r"HTTP 401: Authentication credentials not found\."):
        await create_task_activity(params(), plugin_call(config=config(server, token="wrong")))


async def test_a_call_without_configuration_is_a_configuration_error() -> None:
    with pytest.raises(HubSpotConfigError, match=r"\[plugins\.hubspot\] token"):
        await create_task_activity(params(), plugin_call(config=None))


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limits_and_server_errors_are_retryable(
        hubspot: tuple[FakeHubSpot, RecordingServer], status: int) -> None:
    api, server = hubspot
    api.faults.append(status)
    call = plugin_call(config=config(server))
    with pytest.raises(HubSpotUnavailable, match=f"HTTP {status}"):
        await create_task_activity(params(), call)
    assert (await create_task_activity(params(), call))["id"] == "9000"


def test_parameters_are_validated() -> None:
    with pytest.raises(ValidationError, match="'LOW', 'MEDIUM' or 'HIGH'"):
        params(priority="urgent")
    with pytest.raises(ValidationError, match="not an email address"):
        params(owner_email="Sam")
    assert params(due_days=2.0).due_days == 2  # numbers arrive from playbooks as JSON numbers


def test_registers_one_activity_whose_client_errors_are_permanent() -> None:
    registry = Registry()
    register(registry)
    [spec] = registry.plugins()
    assert spec.name == "hubspot.create_task"
    assert spec.params is HubSpotTaskParams
    assert spec.config is HubSpotConfig
    assert set(spec.permanent_errors) == {HubSpotRejected, HubSpotConfigError}


def test_configuration_comes_from_playbook_toml_and_the_environment_and_keeps_the_token_secret(
        tmp_path: Path) -> None:
    registry = load_registry(only={"hubspot"})
    toml = tmp_path / "playbook.toml"
    toml.write_text('[plugins.hubspot]\ntoken = "from-the-file"\napi_url = "http://127.0.0.1:9"\n')
    [found] = plugin_configs(registry, {"hubspot.create_task"}, path=toml,
                             environ={"PLAYBOOK_PLUGIN_HUBSPOT_TOKEN": "from-the-env"}).values()
    assert isinstance(found, HubSpotConfig)
    assert found.token.get_secret_value() == "from-the-env"
    assert found.api_url == "http://127.0.0.1:9"
    assert "from-the-env" not in repr(found)


def test_a_worker_whose_playbooks_call_it_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    registry = load_registry(only={"hubspot"})
    toml = tmp_path / "playbook.toml"
    toml.write_text('[plugins.hubspot]\napi_url = "http://127.0.0.1:9"\n')
    with pytest.raises(PluginNotConfigured) as refused:
        plugin_configs(registry, {"hubspot.create_task"}, path=toml, environ={})
    assert str(refused.value) == (
        "plugin hubspot (hubspot.create_task) is not configured: token is not set: set `token` under "
        f"[plugins.hubspot] in {toml} or PLAYBOOK_PLUGIN_HUBSPOT_TOKEN")
    assert plugin_configs(registry, set(), path=toml, environ={}) == {}  # no playbook calls it: not needed


async def test_the_sample_folder_runs_through_simulate_with_the_live_plugin(
        hubspot: tuple[FakeHubSpot, RecordingServer], monkeypatch: pytest.MonkeyPatch) -> None:
    api, server = hubspot
    monkeypatch.setenv("PLAYBOOK_PLUGIN_HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("PLAYBOOK_PLUGIN_HUBSPOT_API_URL", server.url)
    api.faults.append(503)  # the first request fails: the engine retries it
    actions = await run_folder(SAMPLE / "playbooks", SAMPLE / "events.jsonl", days=3)
    [call] = [action for action in actions if action.kind == "call"]
    assert call.data["activity"] == "hubspot.create_task"
    [created] = api.tasks.values()
    assert created["properties"]["hs_timestamp"] == "2026-03-05T10:00:00Z"
    assert [action for action in actions if action.kind == "failed"] == []
