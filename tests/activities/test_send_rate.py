"""The relay's send-rate limit, shared by every worker through the store: past it a send is
deferred (logged with the moment a slot frees up) and goes once the window has moved on; two
workers on one store take exactly the limit between them. Against a real SMTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.context import ActivityContext
from activities.send_gate import SendDeferred
from activities.sending import send_message
from activities.smtp_mailer import SmtpMailer
from dsl import ir
from dsl.project import compile_text
from engine.settings import Settings
from engine.store import Store
from engine.workflows.payloads import EmailParams
from tests.bad_input.conftest import MINIMAL_MODEL, UNSUBSCRIBE_SECRET, offline_starter
from tests.bad_input.test_mail_and_auth import Transcript, relay

__all__ = ["relay"]

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = ("{% block subject %}Welcome{% endblock %}{% block text %}Hi{% endblock %}"
          "{% block html %}<p>Hi</p>{% endblock %}")
PART = ir.TemplateText(source=SOURCE, path="welcome.email.jinja")
TEMPLATE = ir.Template(name="welcome", channel="email", subject=PART, text=PART, html=PART)


@pytest.fixture
def minimal_bundle() -> ir.Bundle:
    compilation = compile_text(MINIMAL_MODEL, "model.play")
    assert compilation.bundle is not None, compilation.render()
    return compilation.bundle


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two workers' stores on one database (PostgreSQL when `PLAYBOOK_TEST_POSTGRES_URL` is set)."""
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    first = Store.open(url)
    second = Store.open(url)
    yield first, second
    first.close()
    second.close()


def _params(index: int) -> EmailParams:
    return EmailParams(account=f"acct-{index}", playbook="p", workflow_id=f"wf-{index}", key=f"wf-{index}/send",
                       at=AT, channel="email", template=TEMPLATE, to=["primary_contact"])


async def test_sends_past_the_relays_limit_are_deferred_with_their_moment_and_go_after_the_window(
        stores: tuple[Store, Store], relay: tuple[Transcript, int], minimal_bundle: ir.Bundle) -> None:
    transcript, port = relay
    store = stores[0]
    for index in range(5):
        store.add_change(f"acct-{index}", AT, event=None, data={}, event_id=f"t-{index}",
                         traits={"primary_contact": {"email": f"ana{index}@acct{index}.example", "name": "Ana"}})
    mailer = SmtpMailer(Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="CS <cs@vendor.example>"))
    context = ActivityContext(store=store, bundle=minimal_bundle, starter=await offline_starter(store),
                              mailer=mailer, extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET},
                              send_rate=(3, timedelta(hours=1)))
    outcomes: list[str] = []
    for index in range(5):
        try:
            outcomes.append(await send_message(_params(index), context))
        except SendDeferred as deferred:
            outcomes.append(f"deferred until {deferred.retry_at:%H}")
    assert outcomes[:3] == ["sent"] * 3 and outcomes[3].startswith("deferred") and outcomes[4] == outcomes[3]
    assert len(transcript.received) == 3
    logged = [a for a in store.actions() if a.kind == "deferred"]
    assert [a.account for a in logged] == ["acct-3", "acct-4"]
    assert all("limit of 3 messages per 3600 s" in str(a.data["reason"]) and a.data["until"] for a in logged)
    context.send_rate = (3, timedelta(microseconds=1))  # the window has moved on
    assert await send_message(_params(3), context) == "sent"
    assert len(transcript.received) == 4


def test_two_workers_on_one_store_take_exactly_the_limit_between_them(stores: tuple[Store, Store]) -> None:
    now = datetime.now(UTC)
    window = timedelta(minutes=1)
    barrier = threading.Barrier(20)
    taken: list[bool] = []
    lock = threading.Lock()

    def worker(store: Store) -> None:
        barrier.wait()
        got = store.take_send_slot(now, 7, window) is None
        with lock:
            taken.append(got)

    threads = [threading.Thread(target=worker, args=(stores[i % 2],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert taken.count(True) == 7 and len(taken) == 20
    assert stores[1].take_send_slot(now + window, 7, window) is None  # a window later: free again
