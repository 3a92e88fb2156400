"""A template cannot stop a worker: every render is a budget of steps, size and time, runs off the
event loop, and `check` refuses what is over the budget whatever the account holds."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest

from activities.context import ActivityContext
from activities.rendering import RenderError, render_text
from activities.sending import send_message
from activities.smtp_mailer import SmtpMailer
from activities.tasks import create_task, task_id_for
from dsl import ir
from dsl.project import compile_text
from engine.settings import Settings
from engine.store import Store
from engine.workflows.payloads import EmailParams, TaskParams
from tests.bad_input.conftest import UNSUBSCRIBE_SECRET, offline_starter
from tests.bad_input.test_mail_and_auth import Transcript, relay

__all__ = ["relay"]

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTEXT = {"account": {"id": "acme", "name": "Acme"}}

HOSTILE = {
    "nested loops printing nothing": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                                     "{% endfor %}",
    "nested loops within range": "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "range joined with lipsum": "{{ range(10000)|join(lipsum(50)) }}",
    "a macro calling itself twice": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}"
                                    "{{ f(40) }}",
    "a macro calling itself forever": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "doubling with +": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                       "{% endfor %}{{ ns.s|length }}",
    "a list of lists printed": "{% set a = range(10000)|list %}{% set b = [a] * 50 %}{% set c = [b] * 50 %}{{ c }}",
    "replace growing text": "{{ ('a' * 500000)|replace('a', 'aaaa')|length }}",
    "translate growing text": "{{ ('a' * 500000).translate({97: 'x' * 100000})|length }}",
    "indent by a long text": "{{ ('\\n' * 500000)|indent('x' * 500000)|length }}",
    "squaring an integer": "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
                           "{% endfor %}{{ ns.x > 0 }}",
    "keeping many large strings": "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
                                  "{% set ns.l = ns.l + [('x' * 500000) ~ i] %}{% endfor %}{{ ns.l|length }}",
    "a recursive loop": "{% for x in [range(10000)|list] recursive %}{{ loop(x|map('string')|map('list')) }}"
                        "{% endfor %}",
    "a format width in %": "{{ '%0999999999d' % 1 }}",
    "batch filled to a billion": "{{ [1]|batch(10 ** 9, 'x')|list|length }}",
}
REASON = re.compile(r"steps|MAX_RANGE|size cap|too large|too deep|at most|in all|longer than")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_template_is_refused_with_a_reason(name: str) -> None:
    with pytest.raises(RenderError) as refused:
        render_text(HOSTILE[name], CONTEXT, where="task title")
    assert str(refused.value).startswith("task title: ")
    assert REASON.search(str(refused.value)), refused.value


def test_a_loop_of_cheap_steps_still_renders_up_to_the_budget() -> None:
    source = "{% for i in range(300) %}{% for j in range(300) %}{% endfor %}{% endfor %}{{ account.name }}"
    assert render_text(source, CONTEXT) == "Acme"


MODEL = """\
account fields:
    name: text
    csm: owner

events:
    signed
"""


@pytest.mark.parametrize(("title", "reason"), [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "at most 10,000 items"),
    ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "1,000,000 iterations"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls itself"),
    ("{{ range(100000)|join(lipsum(50)) }}", "at most 10,000 items"),
])
def test_check_refuses_a_task_title_that_is_unbounded_whatever_the_account_holds(title: str, reason: str) -> None:
    playbook = f'playbook p "P":\n    trigger: event signed\n\n    create task "{title}" for csm due 1 day\n'
    compilation = compile_text(MODEL + "\n" + playbook, "p.play")
    assert not compilation.ok
    assert any(reason in error.message and error.span.line == 11 for error in compilation.errors), \
        compilation.render()


def test_check_accepts_a_bounded_loop() -> None:
    title = "{% for i in range(10) %}{{ i }}{% endfor %} {{ account.name }}"
    playbook = f'playbook p "P":\n    trigger: event signed\n\n    create task "{title}" for csm due 1 day\n'
    compilation = compile_text(MODEL + "\n" + playbook, "p.play")
    assert compilation.ok, compilation.render()


# A title whose every step is cheap to count but not to run: it renders until the time limit.
SLOW_TITLE = ("{% set s = 'x' * 500000 %}{% for i in range(10000) %}{% for j in range(20) %}"
              "{% if s.count('y') %}y{% endif %}{% endfor %}{% endfor %}")


async def test_the_worker_delivers_other_mail_while_a_hostile_task_title_renders(
        store: Store, relay: tuple[Transcript, int], minimal_bundle: ir.Bundle) -> None:
    transcript, port = relay
    for index in range(5):
        store.add_change(f"acct-{index}", AT, event=None, data={}, event_id=f"t-{index}", traits={
            "name": f"Account {index}", "csm": {"email": "csm@vendor.example", "name": "C"},
            "primary_contact": {"email": f"ana{index}@acct{index}.example", "name": "Ana"}})
    mailer = SmtpMailer(Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="CS <cs@vendor.example>"))
    context = ActivityContext(store=store, bundle=minimal_bundle, starter=await offline_starter(store),
                              mailer=mailer, public_url="http://api.test",
                              extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
    hostile = asyncio.create_task(create_task(TaskParams(
        account="acct-0", playbook="p", workflow_id="wf-hostile", key="wf-hostile/task", at=AT,
        title=SLOW_TITLE, owner=["csm"], due=None, priority="normal"), context))
    source = ("{% block subject %}Welcome{% endblock %}{% block text %}Hi {{ contact.name }}{% endblock %}"
              "{% block html %}<p>Hi</p>{% endblock %}")
    part = ir.TemplateText(source=source, path="welcome.email.jinja")
    template = ir.Template(name="welcome", channel="email", subject=part, text=part, html=part)
    sends = [send_message(EmailParams(account=f"acct-{index}", playbook="p", workflow_id=f"wf-{index}",
                                      key=f"wf-{index}/send", at=AT, channel="email", template=template,
                                      to=["primary_contact"]), context) for index in range(5)]
    assert await asyncio.gather(*sends) == ["sent"] * 5
    assert sorted(transcript.rcpts) == [f"ana{index}@acct{index}.example" for index in range(5)]
    assert not hostile.done(), "the hostile render ended before the other mail went out"
    with pytest.raises(RenderError, match="task title: rendering took longer than"):
        await hostile
    assert store.task(task_id_for("wf-hostile/task")) is None
