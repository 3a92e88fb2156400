"""`send email X to a, b, c`: one message to each recipient, each suppressed on its own (a missing
address, an unsubscribe), one person named twice (two fields, one address) mailed once and the
skip recorded; `stats` counts the messages under the one statement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsl.project import compile_folder
from engine.insight.analytics import playbook_stats
from engine.store import Store
from simulation.simulate import simulate

MODEL = """\
account fields:
    name: text
    primary_contact: contact
    exec_contact: contact
    champion_contact: contact

events:
    qbr_booked
"""

PLAYBOOK = """\
playbook qbr "QBR invitation":
    trigger: event qbr_booked

    send email invite to exec_contact, champion_contact, primary_contact
"""


async def test_each_recipient_gets_one_message_and_is_judged_on_its_own(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "playbooks"
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "qbr.play").write_text(PLAYBOOK)
    (root / "templates" / "invite.email.jinja").write_text(
        "{% block subject %}QBR{% endblock %}{% block text %}Hi {{ contact.name }}{% endblock %}"
        "{% block html %}<p>Hi</p>{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, compilation.render()
    at = "2026-03-02T10:00:00Z"
    people = {"primary_contact": {"email": "ana@acme.example", "name": "Ana"},
              "exec_contact": {"email": "Ana@Acme.example", "name": "Ana"},  # the same person
              "champion_contact": {"email": "cy@acme.example", "name": "Cy"}}
    lines: list[dict[str, Any]] = [
        {"account": "acme", "at": at, "traits": {"name": "Acme", **people}},
        {"account": "birch", "at": at, "traits": {"name": "Birch", "primary_contact": {"email": "bo@birch.example"},
                                                  "exec_contact": {"email": "eve@birch.example"}}},
        {"account": "birch", "at": at, "event": "unsubscribed", "data": {"email": "eve@birch.example"}},
        {"account": "acme", "at": "2026-03-02T11:00:00Z", "event": "qbr_booked"},
        {"account": "birch", "at": "2026-03-02T11:00:00Z", "event": "qbr_booked"},
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(compilation.bundle, events, days=1, store=store)

    def sent(account: str) -> list[tuple[str, str]]:
        return [(a.kind, str(a.data["to"] if a.kind == "email" else a.data["reason"])) for a in result.actions
                if a.account == account and a.kind in ("email", "suppressed")]

    assert sent("acme") == [("email", "Ana@Acme.example"), ("email", "cy@acme.example")]
    assert sent("birch") == [("suppressed", "unsubscribed"),
                             ("suppressed", "no recipient: champion_contact has no email address"),
                             ("email", "bo@birch.example")]
    [skipped] = [a for a in result.actions if a.data.get("what") == "send_skipped"]
    assert skipped.data["detail"] == ("send email invite to primary_contact: the same address as exec_contact "
                                      "(ana@acme.example), sent once")
    [statement] = playbook_stats(store, compilation.bundle, "qbr").playbooks[0].steps[0].statements
    assert statement.statement == "send email invite to exec_contact, champion_contact, primary_contact"
    assert (statement.sent, statement.suppressed) == (3, {
        "unsubscribed": 1, "no recipient: champion_contact has no email address": 1})
