"""`webhook.post` and `slack.notify` on the real engine, against a real HTTP receiver.

One simulation: four accounts sign, and each one's webhook goes to a receiver path that behaves
differently (answers at once, answers after the client gave up, fails once with 503, refuses
with 422). Every account also gets a Slack notification through `SLACK_WEBHOOK_URL`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from engine.records import ActionRecord
from simulation.plugin_testing import Answer, RecordingServer, Request
from tests.plugins.conftest import START, simulate_folder, write_events, write_folder

SECRET = "s3cret-for-tests"

MODEL = """\
account fields:
    name: text
    hook: text

events:
    signed
"""

BODY = r'"{\"account\": {{ account.id|tojson }}, \"name\": {{ account.name|tojson }}}"'

PLAYBOOK = f"""\
playbook notify "Tell the outside world":
    trigger: event signed

    day 0:
        do webhook.post url=hook secret_env="PLAYBOOK_SECRET_TEST_HOOK" timeout_seconds=0.5 body={BODY}
        do slack.notify channel="#cs" text="Signed: {{{{ account.name }}}}"
"""

ACCOUNTS = {"alpha": "/signed", "slowco": "/slow", "flakyco": "/flaky", "rejectco": "/reject"}
NAMES = {"alpha": 'Alpha "A" <Co> & Sons', "slowco": "Slow Co", "flakyco": "Flaky Co", "rejectco": "Reject Co"}


@dataclass
class Run:
    receiver: RecordingServer
    actions: list[ActionRecord]
    delivered: dict[str, bytes]  # what the receiver acted on, by Idempotency-Key

    def of(self, account: str, kind: str) -> list[ActionRecord]:
        return [a for a in self.actions if a.account == account and a.kind == kind]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    delivered: dict[str, bytes] = {}

    def answer(request: Request, attempt: int) -> Answer:
        if request.path == "/reject":
            return Answer(422, b'{"message":"unknown account"}')
        if request.path == "/flaky" and attempt == 1:
            return Answer(503, b"busy")
        duplicate = request.key in delivered
        delivered.setdefault(request.key, request.body)  # the receiver dedupes on Idempotency-Key
        if request.path == "/slow" and attempt == 1:
            return Answer(200, b'{"ok": true}', delay=2.0)  # received, but answered too late
        return Answer(200, json.dumps({"ok": True, "duplicate": duplicate}).encode())

    root = tmp_path_factory.mktemp("webhooks")
    folder = write_folder(root / "playbooks", {"model.play": MODEL, "notify.play": PLAYBOOK})
    with RecordingServer(answer) as receiver:
        events = write_events(root / "events.jsonl", [
            item
            for n, (account, path) in enumerate(ACCOUNTS.items())
            for item in (
                {"id": f"t{n}", "account": account, "at": START,
                 "traits": {"name": NAMES[account], "hook": receiver.url + path}},
                {"id": f"e{n}", "account": account, "at": START, "event": "signed", "data": {}},
            )
        ])
        mp = pytest.MonkeyPatch()
        mp.setenv("PLAYBOOK_SECRET_TEST_HOOK", SECRET)
        mp.setenv("SLACK_WEBHOOK_URL", receiver.url + "/slack")
        mp.setenv("PLAYBOOK_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")  # the receiver: loopback, allowed by name
        try:
            actions = await simulate_folder(folder, events)
        finally:
            mp.undo()
        yield Run(receiver, actions, delivered)


def test_signature_verifies_with_the_shared_secret_over_timestamp_and_body(run: Run) -> None:
    [request] = run.receiver.to("/signed")
    timestamp = request.headers["x-playbook-timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-playbook-signature"] == f"sha256={expected}"
    assert request.headers["content-type"] == "application/json"


def test_body_templates_render_into_a_json_object_even_with_quotes_in_the_values(run: Run) -> None:
    [request] = run.receiver.to("/signed")
    assert json.loads(request.body) == {"account": "alpha", "name": 'Alpha "A" <Co> & Sons'}


def test_idempotency_key_is_the_steps_key(run: Run) -> None:
    [request] = run.receiver.to("/signed")
    assert request.key.startswith("journey/notify/alpha/")
    assert request.key.endswith("/day 0/0")
    [call] = [a for a in run.of("alpha", "call") if a.data["activity"] == "webhook.post"]
    assert call.key == request.key


def test_attempt_that_times_out_after_delivery_is_retried_with_the_same_key_and_delivered_once(run: Run) -> None:
    attempts = run.receiver.to("/slow")
    assert len(attempts) == 2
    assert attempts[0].key == attempts[1].key
    assert attempts[0].body == attempts[1].body
    assert [key for key in run.delivered if key == attempts[0].key] == [attempts[0].key]
    assert [a.data["activity"] for a in run.of("slowco", "call")] == ["webhook.post", "slack.notify"]
    assert run.of("slowco", "failed") == []


def test_server_error_is_retried_until_it_succeeds(run: Run) -> None:
    attempts = run.receiver.to("/flaky")
    assert len(attempts) == 2
    assert attempts[0].key == attempts[1].key
    assert run.of("flakyco", "failed") == []


def test_client_error_is_not_retried_and_the_step_is_recorded_failed_with_the_reason(run: Run) -> None:
    assert len(run.receiver.to("/reject")) == 1
    [failed] = run.of("rejectco", "failed")
    reason = f'WebhookRejected: POST {run.receiver.url}/reject: HTTP 422 {{"message":"unknown account"}}'
    assert failed.data == {"step": "day 0/0", "error": reason, "activity": "webhook.post", "attempts": 1}
    # the journey goes on with its next step
    assert [a.data["activity"] for a in run.of("rejectco", "call")] == ["slack.notify"]


def test_call_action_keeps_secrets_out_of_the_log(run: Run) -> None:
    [call] = [a for a in run.of("alpha", "call") if a.data["activity"] == "webhook.post"]
    assert call.data["params"]["secret_env"] == "PLAYBOOK_SECRET_TEST_HOOK"
    assert SECRET not in json.dumps(call.data)


def test_slack_message_goes_to_the_webhook_in_the_environment_with_account_text_escaped(run: Run) -> None:
    messages = {json.loads(r.body)["text"]: json.loads(r.body) for r in run.receiver.to("/slack")}
    assert len(messages) == 4
    assert messages["Signed: Alpha \"A\" &lt;Co&gt; &amp; Sons"] == {
        "text": "Signed: Alpha \"A\" &lt;Co&gt; &amp; Sons", "channel": "#cs"}
