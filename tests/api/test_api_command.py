"""`playbook api` refuses to start, with a message, on a stale schema or an unreachable Temporal."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from cli.commands import api as api_command
from engine.store import Store
from engine.store.database import Database
from tests.api.conftest import ROOT, free_port


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="playbook")
    api_command.register(parser.add_subparsers())
    args = parser.parse_args(["api", str(ROOT / "playbooks"), *argv])
    return int(args.handler(args))


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder without playbook.toml; the database and Temporal come from the environment."""
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "store.db"
    monkeypatch.setenv("PLAYBOOK_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("PLAYBOOK_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    return database


def test_refuses_to_start_on_a_database_whose_schema_is_not_current(
        configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sqlite3.connect(configured).close()  # an empty database: no schema at all
    assert _run() == 1
    message = capsys.readouterr().err
    assert "has no schema yet" in message
    assert "needs revision" in message
    untouched = Store(Database(f"sqlite:///{configured}"))
    assert untouched.schema_is_current() is False  # the command did not migrate it
    untouched.close()


def test_refuses_to_start_when_temporal_is_unreachable(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store.open(f"sqlite:///{configured}").close()
    assert _run() == 1
    message = capsys.readouterr().err
    assert "cannot reach Temporal at 127.0.0.1:" in message
    assert "PLAYBOOK_TEMPORAL_ADDRESS" in message
