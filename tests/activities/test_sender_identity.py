"""`send email X from csm`: the email goes out as the owner only when the owner's address is on a
configured sender domain (or is an allowed address); otherwise from the engine's own address with
Reply-To the owner. An owner's address from account data that is not one plain address is not used."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from activities.context import OutgoingMail
from activities.sender_identity import SenderIdentity, sender_identity
from activities.smtp_mailer import build_message
from dsl.project import compile_folder
from simulation.simulate import simulate

ALLOWED = ("vendor.example", "*.cs.vendor.example", "founder@other.example")


def _owner(email: str, name: str = "Sam Doe") -> dict[str, Any]:
    return {"csm": {"email": email, "name": name}}


@pytest.mark.parametrize(("email", "expected"), [
    ("sam@vendor.example", SenderIdentity(name="Sam Doe", address="sam@vendor.example")),
    ("sam@eu.cs.vendor.example", SenderIdentity(name="Sam Doe", address="sam@eu.cs.vendor.example")),
    ("founder@other.example", SenderIdentity(name="Sam Doe", address="founder@other.example")),
    ("sam@other.example", SenderIdentity(name="Sam Doe", reply_to="sam@other.example")),
    ("sam@vendor.example.evil.test", SenderIdentity(name="Sam Doe", reply_to="sam@vendor.example.evil.test")),
])
def test_an_owner_is_the_from_only_on_an_allowed_domain(email: str, expected: SenderIdentity) -> None:
    assert sender_identity(_owner(email), ["csm"], ALLOWED) == expected


@pytest.mark.parametrize("email", [
    "sam@vendor.example\r\nBcc: all@victims.example", "Eve <eve@vendor.example>", "a@b@vendor.example",
    "sam@vendor.example, eve@vendor.example", "", "no-at-sign", 42,
])
def test_an_owner_address_that_is_not_one_plain_address_is_not_used(email: object) -> None:
    assert sender_identity({"csm": {"email": email, "name": "Sam"}}, ["csm"], ALLOWED) is None


def test_the_wire_message_carries_the_owner_as_from_or_as_reply_to() -> None:
    base = OutgoingMail(key="k/1", to="ana@acme.example", to_name="Ana", subject="Hi", text="Hi\n", html=None,
                        unsubscribe_url=None, at=datetime(2026, 3, 2, 10, tzinfo=UTC))
    as_owner = build_message(replace(base, from_address="sam@vendor.example", from_name="Sam Doe"),
                             "Acme <cs@acme-mail.example>")
    answer_owner = build_message(replace(base, reply_to="sam@other.example"), "Acme <cs@acme-mail.example>")
    assert (as_owner["From"], as_owner["Reply-To"]) == ("Sam Doe <sam@vendor.example>", None)
    assert (answer_owner["From"], answer_owner["Reply-To"]) == ("Acme <cs@acme-mail.example>", "sam@other.example")


async def test_a_journey_sends_as_the_owner_only_where_the_policy_allows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_SENDER_DOMAINS", "vendor.example")
    root = tmp_path / "playbooks"
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text("account fields:\n    name: text\n    csm: owner\n"
                                     "    primary_contact: contact\n\nevents:\n    signed\n")
    (root / "p.play").write_text('playbook p "P":\n    trigger: event signed\n\n'
                                 "    send email hello to primary_contact from csm\n")
    (root / "templates" / "hello.email.jinja").write_text(
        "{% block subject %}Hi{% endblock %}{% block text %}Hi{% endblock %}{% block html %}<p>Hi</p>{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, compilation.render()
    at = "2026-03-02T10:00:00Z"
    lines = []
    for account, csm in (("inside", "sam@vendor.example"), ("outside", "sam@gmail.example")):
        lines.append({"account": account, "at": at, "traits": {
            "name": account, "csm": {"email": csm, "name": "Sam"},
            "primary_contact": {"email": f"ana@{account}.example", "name": "Ana"}}})
        lines.append({"account": account, "at": at, "event": "signed"})
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(compilation.bundle, events, days=1)
    sent = {a.account: {key: a.data.get(key) for key in ("from", "reply_to")} for a in result.actions
            if a.kind == "email"}
    assert sent == {"inside": {"from": "sam@vendor.example", "reply_to": None},
                    "outside": {"from": None, "reply_to": "sam@gmail.example"}}
