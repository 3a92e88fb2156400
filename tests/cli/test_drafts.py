"""`playbook drafts`: the pending drafts for a reviewer, one shown as it would go, approved with an
edited text from a file, discarded with a reason (refused without one), and a second answer
refused with the reason; with the engine unreachable the answer is kept for the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsl import ir
from engine.records import ActionRecord, DraftRecord
from engine.store import Store
from tests.cli.test_views import TOKEN, offline_engine, playbook

T0 = datetime.now(UTC).replace(microsecond=0)


def _draft(store: Store, id: str, account: str, subject: str) -> None:
    draft = DraftRecord(id=id, key=f"k/{id}", account=account, playbook="risk_note",
                        journey=f"journey/risk_note/{account}", template="risk_note", to=f"ana@{account}.example",
                        subject=subject, text="Hi Ana,\n\nTalk soon?\n", html="<p>Hi Ana</p>",
                        reviewer="sam@vendor.example", review_by=T0 + timedelta(hours=20),
                        policy="send", created_at=T0)
    store.keep_draft(draft, ActionRecord(at=T0, account=account, playbook="risk_note", kind="email_drafted",
                                         data={"draft": id}, key=f"k/{id}/draft"))


async def test_drafts_list_show_approve_edited_and_discard(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    _draft(store, "d-acme", "acme", "Acme: a note from Sam")
    _draft(store, "d-globex", "globex", "Globex: a note from Sam")
    edit = tmp_path / "edit.txt"
    edit.write_text("Hi Ana,\n\nThursday at 10?\n\nSam\n", encoding="utf-8")
    async with offline_engine(store, bundle) as url:
        engine = ("--url", url, "--token", TOKEN)
        listed = await playbook("drafts", "--reviewer", "sam@vendor.example", *engine)
        table = capsys.readouterr().out
        shown = await playbook("drafts", "--show", "d-acme", *engine)
        show_out = capsys.readouterr().out
        approved = await playbook("drafts", "--approve", "d-acme", "--text-file", str(edit), *engine)
        approve_out = capsys.readouterr().out
        no_reason = await playbook("drafts", "--discard", "d-globex", *engine)
        discarded = await playbook("drafts", "--discard", "d-globex", "--reason", "called instead", *engine)
        again = await playbook("drafts", "--approve", "d-globex", *engine)
        captured = capsys.readouterr()
    assert (listed, shown, approved, no_reason, discarded, again) == (0, 0, 0, 2, 0, 1)
    assert "Acme: a note from Sam" in table and "Globex: a note from Sam" in table and "2 pending drafts" in table
    assert "Subject: Acme: a note from Sam\n" in show_out and "unanswered, it is sent." in show_out
    assert show_out.endswith("Hi Ana,\n\nTalk soon?\n")
    assert approve_out.startswith("d-acme: edited: it goes at its deadline (")  # the engine could not be told
    assert "--discard ID needs --reason TEXT" in captured.err
    assert "d-globex: discarded: it will not go" in captured.out
    assert "draft 'd-globex' is discarded already" in captured.err
    acme = store.draft("d-acme")
    assert acme is not None and acme.state == "edited" and acme.text == "Hi Ana,\n\nThursday at 10?\n\nSam\n"
