"""`playbook preview`: a template rendered for an account is the message the engine records for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.preview import html_report, preview, preview_all, sample_snapshot, store_snapshot, text_report
from cli.main import main
from dsl import ir
from tests.api.conftest import offline_api, settings
from tests.insight.conftest import PUBLIC_URL, ROOT, UNSUBSCRIBE_SECRET, Ran


def test_every_message_the_engine_recorded_is_what_preview_renders_for_that_account(ran: Ran) -> None:
    messages = ran.store.messages()
    assert {(m.account, m.template) for m in messages} >= {("techcorp", "welcome"), ("nyco", "first_project"),
                                                           ("hooli", "trial_rescue"),
                                                           ("techcorp", "core_workflows_tutorial")}
    for message in messages:
        snap = store_snapshot(ran.store, ran.bundle, message.account, message.at)
        shown = preview(ran.bundle, snap, message.template, playbook=message.playbook, public_url=PUBLIC_URL,
                        unsubscribe_secret=UNSUBSCRIBE_SECRET, store=ran.store)
        assert (shown.to, shown.subject, shown.text, shown.html) == (message.to, message.subject, message.text,
                                                                     message.html), message.key


def test_preview_of_a_delivered_email_matches_the_mail_handed_to_the_mail_server(ran: Ran) -> None:
    [mail] = [m for m in ran.outbox if m.to == "kim@nyco.example"]
    snap = store_snapshot(ran.store, ran.bundle, "nyco", mail.at)
    shown = preview(ran.bundle, snap, "welcome", public_url=PUBLIC_URL, unsubscribe_secret=UNSUBSCRIBE_SECRET)
    assert (shown.subject, shown.text, shown.html, shown.unsubscribe_url) == (mail.subject, mail.text, mail.html,
                                                                              mail.unsubscribe_url)


def test_every_template_of_the_folder_renders_for_the_sample_account(bundle: ir.Bundle, tmp_path: Path) -> None:
    snap = sample_snapshot(bundle, datetime(2026, 3, 2, 9, tzinfo=UTC))
    previews = preview_all(bundle, snap, public_url=PUBLIC_URL, unsubscribe_secret=UNSUBSCRIBE_SECRET)
    assert [p.template for p in previews] == sorted(bundle.templates)
    assert [p.template for p in previews if p.error or p.not_sent] == []
    welcome = next(p for p in previews if p.template == "welcome")
    assert welcome.subject == "Welcome to Acme, Casey"
    assert welcome.to == "primary.contact@customer.example"
    premium = next(p for p in previews if p.template == "upgrade_prompt")
    assert premium.subject == "The sample feature feature is part of Acme Business"  # a sample event payload
    report = text_report(previews)
    assert all(f"{name}: " in report for name in bundle.templates)
    page = html_report(previews)
    assert page.count("<section") == len(bundle.templates)


def test_an_account_without_the_contact_gets_no_email_and_preview_says_why(bundle: ir.Bundle) -> None:
    snap = sample_snapshot(bundle, datetime(2026, 3, 2, tzinfo=UTC), {"name": "NoMail"}, "nomail")
    shown = preview(bundle, snap, "welcome", public_url=PUBLIC_URL, unsubscribe_secret=UNSUBSCRIBE_SECRET)
    assert shown.not_sent == "no recipient: primary_contact has no email address"
    assert shown.subject is None


def test_preview_command_renders_a_stored_account_as_sent(ran: Ran, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLAYBOOK_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("PLAYBOOK_UNSUBSCRIBE_SECRET", UNSUBSCRIBE_SECRET)
    [message] = [m for m in ran.store.messages("techcorp") if m.template == "welcome"]
    out_html = tmp_path / "welcome.html"
    args = ["preview", "welcome", "--account", "techcorp", "--at", message.at.isoformat(), "--database-url",
            ran.store.url, "--playbooks", str(ROOT / "playbooks")]
    assert main([*args, "--html", str(out_html)]) == 0
    out = capsys.readouterr().out
    assert "To:      ana@techcorp.example\nSubject: Welcome to Acme, Ana\n" in out
    assert message.text is not None and message.text.strip() in out
    assert out_html.read_text(encoding="utf-8") == message.html
    assert main([*args, "--json"]) == 0
    [body] = json.loads(capsys.readouterr().out)
    assert (body["subject"], body["text"], body["html"]) == (message.subject, message.text, message.html)


def test_preview_all_writes_one_page_for_review(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page = tmp_path / "all.html"
    assert main(["preview", "--all", "--playbooks", str(ROOT / "playbooks"), "--html", str(page)]) == 0
    assert "wrote 17 templates" in capsys.readouterr().out
    assert page.read_text(encoding="utf-8").count("<iframe") >= 1


def test_preview_command_with_traits_from_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    traits = tmp_path / "traits.json"
    traits.write_text(json.dumps({"id": "acme", "name": "Acme Labs",
                                  "primary_contact": {"email": "jo@acme.example", "name": "Jo"}}), encoding="utf-8")
    assert main(["preview", "welcome", "--traits", str(traits), "--playbooks", str(ROOT / "playbooks")]) == 0
    out = capsys.readouterr().out
    assert "Subject: Welcome to Acme, Jo" in out
    assert "glad to have Acme Labs on board" in out
    assert main(["preview", "nope", "--playbooks", str(ROOT / "playbooks")]) == 2


async def test_preview_route_renders_with_the_engines_unsubscribe_link(ran: Ran) -> None:
    [message] = [m for m in ran.store.messages("hooli") if m.template == "trial_rescue"]
    async with offline_api(ran.store, ran.bundle) as api:
        response = await api.get("/v1/preview/trial_rescue", params={"account": "hooli",
                                                                    "at": message.at.isoformat()})
        missing = await api.get("/v1/preview/nope")
    assert response.status_code == 200
    body = response.json()
    snap = store_snapshot(ran.store, ran.bundle, "hooli", message.at)
    expected = preview(ran.bundle, snap, "trial_rescue", public_url=settings().base_url,
                       unsubscribe_secret=settings().unsubscribe_secret.get_secret_value(), store=ran.store)
    assert (body["subject"], body["text"], body["html"]) == (expected.subject, expected.text, expected.html)
    assert body["subject"] == message.subject
    assert missing.status_code == 404
