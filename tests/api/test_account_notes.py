"""Account notes: `POST /v1/accounts/{id}/notes`, `playbook note`, and the notes in `playbook why`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cli.main import main
from dsl import ir
from engine.insight.story import tell
from engine.settings import Settings
from engine.store import Store
from engine.store.notes import MAX_NOTE_CHARS, NoAccount, NoteTooLong
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import TOKEN, UNSUBSCRIBE_SECRET, offline_api
from tests.live_api import offline_starter, served

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _account(store: Store, account: str = "initech") -> None:
    store.add_change(account, T0, event=None, data={}, event_id=None, traits={"name": "Initech"})


async def test_a_note_posted_is_stored_with_its_author_and_listed_newest_first(store: Store, bundle: ir.Bundle) -> None:
    _account(store)
    async with offline_api(store, bundle) as client:
        first = await client.post("/v1/accounts/initech/notes", json={"text": "  Called Bill: all fine. ",
                                                                      "author": "sam@vendor.example"})
        second = await client.post("/v1/accounts/initech/notes", json={"text": "Renewal call booked"})
        listed = await client.get("/v1/accounts/initech/notes")
    assert first.status_code == 201, first.text
    assert first.json()["text"] == "Called Bill: all fine."
    assert first.json()["author"] == "sam@vendor.example"
    assert second.json()["author"] is None
    assert [note["text"] for note in listed.json()] == ["Renewal call booked", "Called Bill: all fine."]


async def test_an_empty_a_too_long_or_an_orphan_note_is_refused_with_the_reason(
        store: Store, bundle: ir.Bundle) -> None:
    _account(store)
    async with offline_api(store, bundle) as client:
        blank = await client.post("/v1/accounts/initech/notes", json={"text": "   "})
        long = await client.post("/v1/accounts/initech/notes", json={"text": "x" * (MAX_NOTE_CHARS + 1)})
        orphan = await client.post("/v1/accounts/nobody/notes", json={"text": "hello"})
        unknown = await client.get("/v1/accounts/nobody/notes")
    assert blank.status_code == 400 and "empty" in blank.json()["detail"]
    assert long.status_code == 400 and f"at most {MAX_NOTE_CHARS}" in long.json()["detail"]
    assert orphan.status_code == 404 and unknown.status_code == 404
    assert store.notes("initech") == []


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Store:
    found = request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")
    assert isinstance(found, Store)
    return found


def test_the_store_refuses_a_note_without_an_account_and_forgetting_the_account_deletes_its_notes(
        any_store: Store) -> None:
    store = any_store
    _account(store)
    store.add_note("initech", "first", None, T0)
    store.add_note("initech", "second", None, T0 + timedelta(hours=1))
    assert [note.text for note in store.notes("initech", newest=1)] == ["second"]
    assert [note.text for note in store.notes("initech", until=T0)] == ["first"]
    with pytest.raises(NoAccount):
        store.add_note("nobody", "hello", None, T0)
    with pytest.raises(NoteTooLong):
        store.add_note("initech", "", None, T0)
    store.add_note("initech", "Bill is leaving in May", "sam", T0)
    removed = store.forget_account("initech", T0 + timedelta(days=1))
    assert removed["notes"] == 3
    assert store.notes("initech") == []


def test_why_tells_the_notes_in_time_order_as_of_its_moment(store: Store, bundle: ir.Bundle) -> None:
    _account(store)
    store.add_note("initech", "Bill is leaving\nin May", "sam@vendor.example", T0 + timedelta(hours=1))
    store.add_note("initech", "Later note", None, T0 + timedelta(days=2))
    story = tell(store, bundle, "initech", now=T0 + timedelta(days=1))
    notes = [line for line in story.lines if line.kind == "note"]
    assert [line.text for line in notes] == ['Note by sam@vendor.example: "Bill is leaving in May"']
    assert tell(store, bundle, "initech", "health_red", now=T0 + timedelta(days=3)).lines == []  # not a playbook's


async def test_playbook_note_goes_through_the_api_and_playbook_why_shows_it(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _account(store)
    settings = Settings(api_token=TOKEN, unsubscribe_secret=UNSUBSCRIBE_SECRET, public_url="http://api.test")
    app = create_app(settings, store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=2))
    async with served(app) as url:
        status = await asyncio.to_thread(main, ["note", "initech", "Champion left; new contact is Ana",
                                                "--author", "sam@vendor.example", "--url", url, "--token", TOKEN])
        assert status == 0
        assert await asyncio.to_thread(main, ["why", "initech", "--url", url, "--token", TOKEN]) == 0
        refused = await asyncio.to_thread(main, ["note", "nobody", "hello", "--url", url, "--token", TOKEN])
    out, err = capsys.readouterr()
    assert "noted on initech" in out
    assert 'Note by sam@vendor.example: "Champion left; new contact is Ana"' in out
    assert refused == 1 and "no account 'nobody'" in err


def test_playbook_note_writes_the_store_directly_and_refuses_a_note_too_long(
        store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    _account(store)
    assert main(["note", "initech", "QBR moved to June", "--database-url", store.database.url]) == 0
    assert [note.text for note in store.notes("initech")] == ["QBR moved to June"]
    assert main(["note", "initech", "x" * (MAX_NOTE_CHARS + 1), "--database-url", store.database.url]) == 2
    assert f"at most {MAX_NOTE_CHARS}" in capsys.readouterr().err
