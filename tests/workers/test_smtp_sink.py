"""The dev stack's SMTP sink keeps every message it receives, and `playbook outbox` lists them."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from activities.context import OutgoingMail
from activities.smtp_mailer import SmtpMailer
from cli import main as cli
from cli.main import main
from engine.settings import Settings
from server.smtp_sink import INDEX, SmtpSink, outbox_folder, read_message


@pytest.fixture(autouse=True)
def outbox_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """`playbook outbox` is dispatched like every command listed in `COMMANDS` (idempotent once listed)."""
    monkeypatch.setattr(cli, "COMMANDS", tuple(dict.fromkeys((*cli.COMMANDS, "outbox"))))


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(outbox_folder(tmp_path / "state"), "127.0.0.1", 0) as running:
        yield running


def mail(key: str, to: str = "ann@example.com", subject: str = "Welcome aboard") -> OutgoingMail:
    return OutgoingMail(key=key, to=to, to_name="Ann Example", subject=subject, text=f"Hello from {key}.\n",
                        html=f"<p>Hello from {key}.</p>", unsubscribe_url="http://127.0.0.1:8000/u?t=1",
                        at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def mailer_for(sink: SmtpSink) -> SmtpMailer:
    return SmtpMailer(Settings(smtp_host=sink.host, smtp_port=sink.port))


def test_port_zero_gets_a_free_port_and_stop_releases_it(tmp_path: Path) -> None:
    sink = SmtpSink(tmp_path / "outbox", "127.0.0.1", 0)
    sink.start()
    assert sink.running and sink.port > 0
    sink.stop()
    assert not sink.running
    sink.stop()  # stopping twice is harmless


async def test_the_sink_keeps_each_message_as_received_with_an_index_line(sink: SmtpSink) -> None:
    await mailer_for(sink).deliver(mail("step-1"))

    [kept] = sink.messages()
    assert kept.sender == "success@acme.example"
    assert kept.to == ["ann@example.com"]
    assert kept.subject == "Welcome aboard"
    assert kept.message_id.startswith("<") and kept.message_id.endswith("@acme.example>")
    assert kept.received_at.tzinfo is not None
    assert (sink.folder / kept.file).suffix == ".eml"
    message = read_message(sink.folder, kept)
    assert message.get_content_type() == "multipart/alternative"
    line = json.loads((sink.folder / INDEX).read_text(encoding="utf-8").splitlines()[0])
    assert set(line) == {"received_at", "sender", "to", "subject", "message_id", "file"}


async def test_the_sink_dedupes_nothing_so_a_redelivery_shows_twice_with_one_message_id(sink: SmtpSink) -> None:
    mailer = mailer_for(sink)
    await mailer.deliver(mail("step-1"))
    await mailer.deliver(mail("step-1"))
    await mailer.deliver(mail("step-2", to="bob@example.com"))

    kept = sink.messages()
    assert len(kept) == 3
    assert kept[0].message_id == kept[1].message_id != kept[2].message_id
    assert len({entry.file for entry in kept}) == 3


def test_the_index_names_the_envelope_recipients_not_the_headers(sink: SmtpSink) -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "shown@example.com"
    message["Subject"] = "Envelope first"
    message.set_content("hi\n")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.send_message(message, to_addrs=["real@example.com", "other@example.com"])

    [kept] = sink.messages()
    assert kept.to == ["real@example.com", "other@example.com"]
    assert kept.message_id == ""


def test_a_sink_restarted_on_the_same_folder_keeps_appending(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    for subject in ("first", "second"):
        with SmtpSink(folder, "127.0.0.1", 0) as running, smtplib.SMTP(running.host, running.port) as client:
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: {subject}\r\n\r\nbody\r\n")
    assert [entry.subject for entry in SmtpSink(folder).messages()] == ["first", "second"]


def test_an_empty_or_missing_folder_has_no_messages(tmp_path: Path) -> None:
    assert SmtpSink(tmp_path / "nowhere").messages() == []


async def test_playbook_outbox_lists_what_the_sink_kept(sink: SmtpSink, capsys: pytest.CaptureFixture[str]) -> None:
    mailer = mailer_for(sink)
    await mailer.deliver(mail("step-1", subject="Welcome aboard"))
    await mailer.deliver(mail("step-2", to="bob@example.com", subject="Your first week"))
    await mailer.deliver(mail("step-1", subject="Welcome aboard"))  # a retried step
    state_dir = sink.folder.parent

    assert main(["outbox", "--state-dir", str(state_dir)]) == 0
    out = capsys.readouterr().out
    for expected in ("received", "to", "subject", "ann@example.com", "bob@example.com", "Welcome aboard",
                     "Your first week", "duplicate of #1", "3 messages in"):
        assert expected in out

    assert main(["outbox", "--state-dir", str(state_dir), "--to", "BOB@example.com"]) == 0
    out = capsys.readouterr().out
    assert "Your first week" in out and "Welcome aboard" not in out and "1 message in" in out


async def test_playbook_outbox_show_prints_one_messages_text_part(
        sink: SmtpSink, capsys: pytest.CaptureFixture[str]) -> None:
    mailer = mailer_for(sink)
    await mailer.deliver(mail("step-1"))
    await mailer.deliver(mail("step-2", subject="Second"))

    assert main(["outbox", "--state-dir", str(sink.folder.parent), "--show", "2"]) == 0
    out = capsys.readouterr().out
    assert "Subject: Second" in out
    assert "To: Ann Example <ann@example.com>" in out
    assert "Hello from step-2." in out
    assert "<p>" not in out and "step-1" not in out


def test_playbook_outbox_show_of_a_missing_number_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "--state-dir", str(tmp_path), "--show", "1"]) == 2
    assert "no message 1" in capsys.readouterr().err


def test_playbook_outbox_with_nothing_kept_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "--state-dir", str(tmp_path)]) == 0
    assert "no messages in" in capsys.readouterr().out
