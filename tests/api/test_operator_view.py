"""What an operator watches, in `/healthz` and Prometheus `/metrics`: routing backlog and lag,
failed, held and deferred sends, the brakes in force. The sends come through the real send
activity against a real SMTP server that refuses one recipient for good."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from prometheus_client.parser import text_string_to_metric_families

from activities.context import ActivityContext
from activities.send_gate import SendDeferred, SendHeld
from activities.sending import send_message
from activities.smtp_mailer import PermanentDeliveryError, SmtpMailer
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from engine.workflows.payloads import EmailParams
from server.app import create_app
from tests.api.conftest import UNSUBSCRIBE_SECRET, http, offline_starter, settings
from tests.api.test_journeys import FAST_RETRIES, SIGNUP, _ndjson
from tests.live_api import as_routed

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = ("{% block subject %}Welcome{% endblock %}{% block text %}Hi{% endblock %}"
          "{% block html %}<p>Hi</p>{% endblock %}")
PART = ir.TemplateText(source=SOURCE, path="welcome.email.jinja")
TEMPLATE = ir.Template(name="welcome", channel="email", subject=PART, text=PART, html=PART)


class RefusesBounced:
    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("bounced@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


@pytest.fixture
def relay_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(RefusesBounced(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _params(account: str, playbook: str = "smb_onboarding") -> EmailParams:
    return EmailParams(account=account, playbook=playbook, workflow_id=f"wf-{account}", key=f"wf-{account}/send",
                       at=AT, channel="email", template=TEMPLATE, to=["primary_contact"])


async def _sends(store: Store, bundle: ir.Bundle, port: int) -> None:
    """One sent, one refused for good, one held by a pause, one deferred by the rate limit."""
    for name in ("ok", "bounced", "paused", "late"):
        store.add_change(name, AT, event=None, data={}, event_id=f"t-{name}",
                         traits={"primary_contact": {"email": f"{name}@acct.example", "name": "A"}})
    as_routed(store)  # the accounts stand for what the engine routed before
    mailer = SmtpMailer(Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="CS <cs@vendor.example>"))
    context = ActivityContext(store=store, bundle=bundle, starter=await offline_starter(store), mailer=mailer,
                              extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET}, send_rate=(2, timedelta(hours=1)))
    assert await send_message(_params("ok"), context) == "sent"
    with pytest.raises(PermanentDeliveryError):
        await send_message(_params("bounced"), context)
    store.set_control("playbook:paused_pb", "checking copy", AT)
    with pytest.raises(SendHeld):
        await send_message(_params("paused", playbook="paused_pb"), context)
    with pytest.raises(SendDeferred):
        await send_message(_params("late"), context)


def _samples(text: str) -> dict[tuple[str, str], float]:
    return {(sample.name, sample.labels.get("status", "")): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_metrics_and_healthz_show_failed_held_and_deferred_sends_and_the_brakes(
        store: Store, bundle: ir.Bundle, relay_port: int) -> None:
    await _sends(store, bundle, relay_port)
    async with http(create_app(settings(), store, bundle, await offline_starter(store))) as api:
        scraped = await api.get("/metrics")
        health = (await api.get("/healthz", headers={"Authorization": ""})).json()
        anonymous = await api.get("/metrics", headers={"Authorization": ""})
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    samples = _samples(scraped.text)
    assert samples[("playbook_messages", "sent")] == 2  # the deferred one is recorded, not yet handed over
    assert samples[("playbook_messages", "undelivered")] == 1
    assert samples[("playbook_messages", "failed")] == 1
    assert samples[("playbook_sends_held", "")] == 1
    assert samples[("playbook_sends_deferred", "")] == 1
    assert samples[("playbook_playbooks_paused", "")] == 1 and samples[("playbook_sends_stopped", "")] == 0
    assert samples[("playbook_routing_backlog", "")] == 0 and samples[("playbook_routing_lag_seconds", "")] == 0
    assert health["sends"]["failed"] == 1 and health["sends"]["deferred"] == 1 and health["sends"]["held"] == 1
    assert health["stopped"] == {"sends": False, "paused_playbooks": ["paused_pb"]}
    assert anonymous.status_code == 401


async def test_routing_lag_grows_while_events_wait_for_temporal(store: Store, bundle: ir.Bundle) -> None:
    app = create_app(settings(), store, bundle, await offline_starter(store), FAST_RETRIES)
    async with http(app) as api:
        stored = await api.post("/v1/events", content=_ndjson(SIGNUP))  # a journey to start: Temporal is needed
        assert stored.status_code == 202
        while (await api.get("/v1/status")).json()["routing"]["state"] != "retrying":
            await asyncio.sleep(0.05)  # until routing has failed once: Temporal is not there
        lag = 0.0
        while lag <= 0:
            lag = (await api.get("/healthz")).json()["routing_lag_seconds"]
            await asyncio.sleep(0.05)
        samples = _samples((await api.get("/metrics")).text)
    assert samples[("playbook_routing_backlog", "")] == 0  # routed: the start waits for Temporal in the drain
    assert samples[("playbook_drain_backlog", "")] >= 1
    assert samples[("playbook_drain_oldest_seconds", "")] > 0
    assert samples[("playbook_routing_lag_seconds", "")] > 0
