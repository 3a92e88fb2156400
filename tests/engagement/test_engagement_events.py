"""`email_opened` and `email_clicked` are built-in events: known to the checker with their payload,
usable as triggers, waits, goals and exits, lowered to read their payload, accepted by ingestion
without a declaration, and never declared again."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

from dsl import ir
from dsl.project import compile_text
from dsl.scope import RESERVED_EVENTS
from engine.intake.ingestion import InputItem, normalize
from engine.store.reserved import ENGAGEMENT_EVENTS

MODEL = """\
account fields:
    name: text
    primary_contact: contact

events:
    signed
"""
_TEXT = ir.TemplateText(source="{% block subject %}Hi{% endblock %}{% block text %}Hi{% endblock %}")
TEMPLATES = {"invite": ir.Template(name="invite", channel="email", subject=_TEXT, text=_TEXT)}


def _compile(source: str) -> tuple[ir.Bundle | None, str]:
    compilation = compile_text(MODEL + textwrap.dedent(source), "test.play", TEMPLATES)
    return compilation.bundle, compilation.render()


def test_the_engagement_events_serve_as_trigger_wait_goal_and_exit_reading_their_payload() -> None:
    bundle, rendered = _compile("""
        playbook clicked "Clicked":
            trigger: event email_clicked where template == "invite" and url != ""
            goal: event email_clicked where template == "invite"
            exit: event email_opened where template == "other"

            send email invite
            wait until event email_clicked where template == "invite" or 3 days
        """)
    assert bundle is not None, rendered
    playbook = bundle.playbooks["clicked"]
    assert isinstance(playbook.trigger, ir.EventTrigger)
    wait = playbook.steps[0].body[1]
    assert isinstance(wait, ir.WaitUntil) and wait.where is not None
    condition = wait.where["email_clicked"]
    assert isinstance(condition, ir.Compare) and condition.left == ir.EventField(name="template")


def test_a_key_the_engagement_event_does_not_carry_is_an_error_and_it_cannot_be_declared() -> None:
    _, unknown_key = _compile("""
        playbook clicked "Clicked":
            trigger: event signed
            wait until event email_clicked where link == "x" or 3 days
        """)
    assert "test.play:10:42: 'link' is neither a payload key of event 'email_clicked'" in unknown_key
    _, declared = _compile("""
        events:
            email_clicked: url text
        """)
    assert "event 'email_clicked' is built in and cannot be declared" in declared


def test_the_engine_knows_the_engagement_events_as_the_language_declares_them() -> None:
    assert {name: dict(event.payload) for name, event in ENGAGEMENT_EVENTS.items()} == {
        name: payload for name, payload in RESERVED_EVENTS.items() if name.startswith("email_")}


def test_ingestion_takes_the_engagement_events_without_a_declaration_and_needs_their_template() -> None:
    now = datetime(2026, 4, 7, 15, 0, tzinfo=UTC)
    model = ir.Model()
    clicked = normalize({"account": "oak", "event": "email_clicked",
                         "data": {"template": "invite", "url": "https://acme.example/x"}}, model, now)
    assert isinstance(clicked, InputItem) and clicked.data["url"] == "https://acme.example/x"
    assert normalize({"account": "oak", "event": "email_opened", "data": {}}, model, now) == \
        "email_opened needs data.template (the email's template)"
    assert normalize({"account": "oak", "event": "email_clicked", "data": {"template": 3}}, model, now) == \
        "email_clicked needs data.template (the email's template)"
