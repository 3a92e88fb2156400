"""`hubspot.create_task` against a HubSpot-like API served on 127.0.0.1: owners by email, tasks
created once per Idempotency-Key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playbook_hubspot_tasks import HubSpotConfigError, HubSpotRejected, HubSpotUnavailable, register
from playbook_hubspot_tasks.create_task import HubSpotTaskParams, create_task
from pydantic import ValidationError

from activities.registry import Registry

TOKEN = "pat-test-token"
OWNERS = {"sam@vendor.example": "101", "priya@vendor.example": "102"}


@dataclass
class FakeHubSpot:
    url: str = ""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key -> created task
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Idempotency-Key)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before behaving


def _handler(api: FakeHubSpot) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _common(self) -> bool:
            url = urlsplit(self.path)
            with lock:
                api.requests.append((self.command, url.path, self.headers.get("Idempotency-Key", "")))
                status = api.fail_next.pop(0) if api.fail_next else None
            if status is not None:
                self._reply(status, {"message": f"injected {status}"})
                return False
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._reply(401, {"message": "Authentication credentials not found."})
                return False
            return True

        def do_GET(self) -> None:
            if not self._common():
                return
            url = urlsplit(self.path)
            email = parse_qs(url.query).get("email", [""])[0]
            owner = OWNERS.get(email)
            self._reply(200, {"results": [{"id": owner, "email": email}] if owner else []})

        def do_POST(self) -> None:
            if not self._common():
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                task = api.tasks.setdefault(key, {"id": str(9000 + len(api.tasks)), **body})
            self._reply(201, task)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    api = FakeHubSpot()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HUBSPOT_API_URL", api.url)
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
KEY = "journey/renewal_call/acme/run-1/day 0/0"


def params(**values: object) -> HubSpotTaskParams:
    return HubSpotTaskParams.model_validate({"subject": "Call Acme", "owner_email": "sam@vendor.example",
                                             "due_days": 2, **values})


async def test_creates_a_task_owned_by_the_csm_due_days_after_the_step(hubspot: FakeHubSpot) -> None:
    result = await create_task(params(), key=KEY, at=AT)
    assert result == {"id": "9000", "owner_id": "101"}
    assert hubspot.tasks[KEY]["properties"] == {
        "hs_task_subject": "Call Acme",
        "hs_task_body": "",
        "hs_timestamp": "2026-03-05T10:00:00Z",
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "MEDIUM",
        "hubspot_owner_id": "101",
    }


async def test_the_same_step_key_creates_one_task_however_often_it_is_sent(hubspot: FakeHubSpot) -> None:
    first = await create_task(params(), key=KEY, at=AT)
    second = await create_task(params(), key=KEY, at=AT)
    assert first == second
    assert len(hubspot.tasks) == 1
    assert [key for method, _, key in hubspot.requests if method == "POST"] == [KEY, KEY]


async def test_unknown_owner_is_a_permanent_error(hubspot: FakeHubSpot) -> None:
    with pytest.raises(HubSpotRejected, match=r"no HubSpot owner with the email nobody@vendor\.example"):
        await create_task(params(owner_email="nobody@vendor.example"), key=KEY, at=AT)
    assert hubspot.tasks == {}


async def test_a_wrong_token_is_a_permanent_error(hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "wrong")
    with pytest.raises(HubSpotRejected, match=r"HTTP 401: Authentication credentials not found\."):
        await create_task(params(), key=KEY, at=AT)


async def test_a_missing_token_is_a_configuration_error(hubspot: FakeHubSpot,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_TOKEN")
    with pytest.raises(HubSpotConfigError, match="HUBSPOT_TOKEN"):
        await create_task(params(), key=KEY, at=AT)
    assert hubspot.requests == []


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limits_and_server_errors_are_retryable(hubspot: FakeHubSpot, status: int) -> None:
    hubspot.fail_next.append(status)
    with pytest.raises(HubSpotUnavailable, match=f"HTTP {status}"):
        await create_task(params(), key=KEY, at=AT)
    assert (await create_task(params(), key=KEY, at=AT))["id"] == "9000"


def test_parameters_are_validated() -> None:
    with pytest.raises(ValidationError, match="priority must be one of LOW, MEDIUM, HIGH"):
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
    assert set(spec.permanent_errors) == {HubSpotRejected, HubSpotConfigError}
