"""`webhook.post` cannot reach internal addresses: loopback, private, link-local and metadata are
refused after DNS resolution, redirects are not followed, a URL from account data must name an
allowed host, and `secret_env` reads only `PLAYBOOK_SECRET_*`. The receiver listens on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from activities.context import ActivityContext, PluginCall
from activities.egress import EgressPolicy
from activities.webhook import WebhookForbidden, WebhookParams, WebhookRejected, post_webhook
from dsl import ir
from engine.store import Store
from simulation.plugin_testing import Answer, RecordingServer, Request
from tests.bad_input.conftest import offline_starter
from tests.plugins.conftest import compile_with_plugins, write_folder

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MODEL = """\
account fields:
    name: text
    hook: text

events:
    signed
"""


def _playbook(url: str) -> str:
    return ('playbook notify "N":\n    trigger: event signed\n\n    day 0:\n'
            f'        do webhook.post url={url} body="{{}}"\n')


def _bundle(tmp_path: Path, url: str) -> ir.Bundle:
    compilation = compile_with_plugins(write_folder(tmp_path / "pb", {"model.play": MODEL,
                                                                      "notify.play": _playbook(url)}))
    assert compilation.ok and compilation.bundle is not None, compilation.render()
    return compilation.bundle


@pytest.fixture
def receiver() -> Iterator[RecordingServer]:
    def answer(request: Request, attempt: int) -> Answer:
        if request.path == "/redirect":
            return Answer(302, b"", location="http://169.254.169.254/latest/meta-data/iam/security-credentials/")
        return Answer(200)

    with RecordingServer(answer) as listening:
        yield listening


async def _post(store: Store, bundle: ir.Bundle, url: str, policy: EgressPolicy) -> dict[str, object]:
    context = ActivityContext(store=store, bundle=bundle, starter=await offline_starter(store),
                              mailer=None, egress=policy)  # type: ignore[arg-type]  # no mail in these steps
    params = WebhookParams.model_validate({"url": url, "body": "{}"})
    return await post_webhook(params, PluginCall(context, "wf/run/day-0/0", "acme", "notify", AT))


@pytest.mark.parametrize("path", ["/hook", "/latest/meta-data/iam/security-credentials/"])
async def test_a_url_written_in_the_playbook_to_loopback_is_refused_and_nothing_is_sent(
        tmp_path: Path, store: Store, receiver: RecordingServer, path: str) -> None:
    url = receiver.url + path
    with pytest.raises(WebhookForbidden, match="not a public address"):
        await _post(store, _bundle(tmp_path, f'"{url}"'), url, EgressPolicy())
    assert receiver.requests == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/",
                                 "http://10.0.0.1/admin", "http://192.168.1.1/", "http://100.64.0.1/",
                                 "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://[::1]/"])
async def test_private_link_local_and_metadata_addresses_are_refused(
        tmp_path: Path, store: Store, url: str) -> None:
    with pytest.raises(WebhookForbidden, match="not a public address"):
        await _post(store, _bundle(tmp_path, f'"{url}"'), url, EgressPolicy())


async def test_a_name_that_resolves_to_loopback_is_refused_after_resolution(
        tmp_path: Path, store: Store, receiver: RecordingServer) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost") + "/hook"
    with pytest.raises(WebhookForbidden, match="localhost resolves to"):
        await _post(store, _bundle(tmp_path, f'"{url}"'), url, EgressPolicy())
    assert receiver.requests == []


async def test_a_url_from_account_data_is_refused_unless_its_host_is_allowed(
        tmp_path: Path, store: Store, receiver: RecordingServer) -> None:
    bundle = _bundle(tmp_path, "hook")  # the URL is the account's field `hook`
    url = receiver.url + "/from-a-trait"
    with pytest.raises(WebhookForbidden, match="not on the allowed hosts"):
        await _post(store, bundle, url, EgressPolicy())
    with pytest.raises(WebhookForbidden, match="not on the allowed hosts"):
        await _post(store, bundle, "https://public.example/anything", EgressPolicy(allowed_hosts=("*.other.example",)))
    assert receiver.requests == []
    assert await _post(store, bundle, url, EgressPolicy(allowed_hosts=("127.0.0.1",))) == {"status": 200}
    assert [request.path for request in receiver.requests] == ["/from-a-trait"]


async def test_a_url_rendered_from_a_template_counts_as_account_data(
        tmp_path: Path, store: Store, receiver: RecordingServer) -> None:
    bundle = _bundle(tmp_path, '"{{ account.hook }}"')
    with pytest.raises(WebhookForbidden, match="not on the allowed hosts"):
        await _post(store, bundle, receiver.url + "/rendered", EgressPolicy())
    assert receiver.requests == []


async def test_a_redirect_is_not_followed_to_the_metadata_address(
        tmp_path: Path, store: Store, receiver: RecordingServer) -> None:
    url = receiver.url + "/redirect"
    with pytest.raises(WebhookRejected, match="HTTP 302"):
        await _post(store, _bundle(tmp_path, f'"{url}"'), url, EgressPolicy(allowed_hosts=("127.0.0.1",)))
    assert [request.path for request in receiver.requests] == ["/redirect"]


@pytest.mark.parametrize("name", ["PLAYBOOK_API_TOKEN", "PLAYBOOK_UNSUBSCRIBE_SECRET", "HOME", "PLAYBOOK_SECRET_"])
def test_secret_env_may_only_name_a_playbook_secret_variable(name: str) -> None:
    with pytest.raises(ValidationError, match="PLAYBOOK_SECRET_"):
        WebhookParams.model_validate({"url": "https://hooks.example", "body": "{}", "secret_env": name})


def test_check_refuses_a_playbook_whose_secret_env_names_the_api_token(tmp_path: Path) -> None:
    playbook = ('playbook notify "N":\n    trigger: event signed\n\n    day 0:\n'
                '        do webhook.post url="https://hooks.example/x" secret_env="PLAYBOOK_API_TOKEN" body="{}"\n')
    compilation = compile_with_plugins(write_folder(tmp_path / "pb", {"model.play": MODEL, "notify.play": playbook}))
    assert not compilation.ok
    assert "PLAYBOOK_SECRET_" in compilation.render()
