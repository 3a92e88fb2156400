"""Drafts in the store, on SQLite and PostgreSQL: kept once per send key, answered once (an answer
and the deadline racing leave one fate), edited text dropping the HTML part, and withdrawn only
while pending."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from engine.records import ActionRecord, DraftRecord
from engine.store import DraftDecided, DraftNotFound, Store

T0 = datetime(2026, 1, 5, 10, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    yield request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")


def _keep(store: Store, id: str = "d-1", policy: Literal["send", "drop"] = "send") -> DraftRecord:
    draft = DraftRecord(id=id, key=f"k/{id}", account="acme", playbook="risk_note", journey="journey/risk_note/acme",
                        template="risk_note", to="ana@acme.example", subject="A note", text="Hi\n", html="<p>Hi</p>",
                        reviewer="sam@vendor.example", review_by=T0 + timedelta(days=1), policy=policy,
                        created_at=T0)
    return store.keep_draft(draft, ActionRecord(at=T0, account="acme", playbook="risk_note", kind="email_drafted",
                                                data={"draft": id}, key=f"k/{id}/draft"))


def test_a_draft_is_kept_once_per_send_key_and_an_edit_drops_the_html(any_store: Store) -> None:
    _keep(any_store)
    again = _keep(any_store)
    assert again.state == "pending"
    assert [a.kind for a in any_store.actions(account="acme")] == ["email_drafted"]
    edited = any_store.decide_draft("d-1", "approve", T0 + timedelta(hours=1), by="sam@vendor.example",
                                    text="Hello Ana\n")
    assert (edited.state, edited.text, edited.html) == ("edited", "Hello Ana\n", None)
    stored = any_store.draft("d-1")
    assert stored is not None and (stored.state, stored.text, stored.html, stored.subject) == (
        "edited", "Hello Ana\n", None, "A note")
    with pytest.raises(DraftDecided, match="is edited already"):
        any_store.decide_draft("d-1", "discard", T0 + timedelta(hours=2), reason="no")
    with pytest.raises(DraftNotFound):
        any_store.decide_draft("d-9", "approve", T0)
    assert any_store.withdraw_draft("d-1", T0 + timedelta(hours=3), "exited") == stored


def test_an_answer_racing_the_deadline_leaves_one_fate(any_store: Store) -> None:
    _keep(any_store, policy="drop")
    fates: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def answer(n: int) -> None:
        try:
            start.wait()
            if n % 2:
                any_store.decide_draft("d-1", "approve", T0 + timedelta(hours=n))
                fates.append("answered")
            else:
                settled = any_store.settle_draft("d-1", T0 + timedelta(days=1))
                assert settled is not None
                fates.append(settled.state)
        except DraftDecided:
            fates.append("refused")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = any_store.draft("d-1")
    assert final is not None and final.state in ("approved", "dropped_unreviewed")
    # one approval went through, or none (the deadline first); every settle saw the one fate
    assert fates.count("answered") == (1 if final.state == "approved" else 0)
    assert fates.count("answered") + fates.count("refused") == 4
    assert {fate for fate in fates if fate not in ("answered", "refused")} == {final.state}
