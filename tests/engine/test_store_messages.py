"""The outbox: suppression, frequency caps and idempotent keys, also under concurrent sends."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.store import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = 7 * 86400


def send(
    store: Store, key: str, at: datetime = T0, *, account: str = "techcorp", to: str | None = "ana@t.example",
    channel: str = "email", cap: int | None = 3,
) -> tuple[str, str | None]:
    return store.record_message(
        account=account, playbook="smb_onboarding", channel=channel, template="welcome", to=to,
        subject="Welcome", text="Hello", html=None, at=at, key=key, cap_count=cap,
        cap_seconds=WEEK if cap is not None else None,
    )


def test_a_message_is_recorded_as_sent(store: Store) -> None:
    assert send(store, "k1") == ("sent", None)
    [row] = store.messages("techcorp")
    assert (row.template, row.to, row.subject, row.status, row.key, row.at) == (
        "welcome", "ana@t.example", "Welcome", "sent", "k1", T0
    )


def test_the_same_key_twice_returns_the_first_outcome_without_a_second_row(store: Store) -> None:
    assert send(store, "k1") == ("sent", None)
    assert send(store, "k1", T0 + timedelta(hours=1)) == ("sent", None)
    assert len(store.messages()) == 1


def test_a_suppressed_outcome_is_also_kept_for_its_key(store: Store) -> None:
    store.suppress("ana@t.example", "unsubscribed", T0)
    assert send(store, "k1") == ("suppressed", "unsubscribed")
    store.suppress("ana@t.example", "bounced", T0)  # a retry of k1 keeps its first outcome
    assert send(store, "k1") == ("suppressed", "unsubscribed")
    assert [m.status for m in store.messages()] == ["suppressed"]


def test_a_suppressed_address_gets_no_email_whatever_its_case(store: Store) -> None:
    store.suppress(" Ana@T.example ", "bounced", T0)
    assert store.suppression("ana@t.example") == "bounced"
    assert send(store, "k1", to="ANA@t.example") == ("suppressed", "bounced")


def test_the_cap_suppresses_the_fourth_email_within_seven_days(store: Store) -> None:
    outcomes = [send(store, f"k{i}", T0 + timedelta(days=i)) for i in range(4)]
    assert outcomes[:3] == [("sent", None)] * 3
    assert outcomes[3] == ("suppressed", "frequency cap: at most 3 emails per 7 days")


def test_the_cap_window_excludes_its_start_and_includes_its_end(store: Store) -> None:
    for i in range(3):
        send(store, f"k{i}", T0 + timedelta(hours=i))
    # exactly 7 days after the first: that one has left the window (at - 7 days, at]
    assert send(store, "k3", T0 + timedelta(days=7)) == ("sent", None)
    assert send(store, "k4", T0 + timedelta(days=7)) == (
        "suppressed", "frequency cap: at most 3 emails per 7 days"
    )


def test_suppressed_messages_do_not_count_towards_the_cap(store: Store) -> None:
    for i in range(3):
        send(store, f"k{i}", T0)
    send(store, "k3", T0)  # suppressed
    assert send(store, "k4", T0 + timedelta(days=7, seconds=1)) == ("sent", None)


def test_the_cap_counts_per_account_and_channel(store: Store) -> None:
    for i in range(3):
        send(store, f"k{i}", T0)
    assert send(store, "other", T0, account="globex") == ("sent", None)
    assert send(store, "inapp", T0, channel="in_app", to=None) == ("sent", None)


def test_no_cap_means_no_limit(store: Store) -> None:
    assert {send(store, f"k{i}", T0, cap=None) for i in range(5)} == {("sent", None)}


def test_concurrent_sends_for_one_account_never_exceed_the_cap(store: Store) -> None:
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    outcomes: list[tuple[str, str | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait()
            outcome = send(store, f"race-{i}", T0)
            with lock:
                outcomes.append(outcome)
        except BaseException as error:  # reported below, with the test's failure
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(o[0] for o in outcomes) == ["sent"] * 3 + ["suppressed"] * (threads_count - 3)
    assert sum(m.status == "sent" for m in store.messages("techcorp")) == 3


def test_two_stores_on_one_file_share_the_cap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    stores = [Store.open(url), Store.open(url)]
    results: list[Any] = []

    def worker(i: int) -> None:
        try:
            results.append(send(stores[i % 2], f"k{i}", T0))
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for opened in stores:
            opened.close()
    assert sorted(map(str, results)) == ["('sent', None)"] * 3 + [
        "('suppressed', 'frequency cap: at most 3 emails per 7 days')"
    ] * 5


SENDER = """
import sys
from datetime import UTC, datetime
from engine.store import Store

store = Store.open(sys.argv[1])
for i in range(10):
    status, _ = store.record_message(
        account="techcorp", playbook=None, channel="email", template="t", to="ana@t.example",
        subject="s", text="x", html=None, at=datetime(2026, 1, 5, tzinfo=UTC),
        key=f"{sys.argv[2]}-{i}", cap_count=3, cap_seconds=604800,
    )
    print(status)
store.close()
"""


def test_processes_sending_at_once_share_the_cap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    Store.open(url).close()
    senders = [
        subprocess.Popen([sys.executable, "-c", SENDER, url, name], stdout=subprocess.PIPE, text=True)
        for name in ("one", "two", "three")
    ]
    printed = "".join(sender.communicate(timeout=120)[0] for sender in senders).split()
    assert all(sender.returncode == 0 for sender in senders)
    assert sorted(printed) == ["sent"] * 3 + ["suppressed"] * 27


def test_the_outbox_lists_messages_oldest_first(store: Store) -> None:
    send(store, "late", T0 + timedelta(days=1), cap=None)
    send(store, "early", T0, cap=None)
    send(store, "other", T0, account="globex", cap=None)
    assert [m.key for m in store.messages()] == ["early", "other", "late"]
    assert [m.key for m in store.messages("techcorp")] == ["early", "late"]
