"""The store on PostgreSQL, as production runs it: ingestion, the frequency cap under concurrent
senders (threads, separate connection pools, separate processes), journeys, tasks, the action
log, routing marks and migrations.

Complements `tests/engine/test_store_postgres.py`. Runs when `PLAYBOOK_TEST_POSTGRES_URL` is set
(`bash .ci/postgres.sh` prints one); skipped, saying so, otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from dsl import ir
from engine.intake.ingestion import Ingestor
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import NewChange, Store, StoreUnavailable, TaskKeyConflict
from engine.store.migrate import head_revision
from engine.store.schema import metadata
from tests.operations.conftest import ROOT

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WEEK = 7 * 86400

MODEL = ir.Model(
    fields={
        "segment": ir.FieldType(type="enum", values=("enterprise", "mid_market", "smb", "trial")),
        "arr": ir.FieldType(type="money"),
        "dau_pct": ir.FieldType(type="percent"),
        "renewal_date": ir.FieldType(type="date"),
        "csm": ir.FieldType(type="owner"),
    },
    events={
        "signed": ir.EventDef(name="signed"),
        "login": ir.EventDef(name="login"),
        "nps_response": ir.EventDef(name="nps_response", payload={"score": ir.FieldType(type="number")}),
    },
)


def run_together(count: int, job: Callable[[int], Any]) -> list[Any]:
    """Run `job(0..count-1)` on as many threads, released at the same instant; results or errors."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(i: int) -> None:
        barrier.wait()
        try:
            results[i] = job(i)
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting: a deadlock?"
    return results


def errors_in(results: list[Any]) -> list[Exception]:
    return [result for result in results if isinstance(result, Exception)]


def send(store: Store, key: str, at: datetime = T0, account: str = "techcorp", to: str = "ana@t.example",
         cap: int | None = 3) -> tuple[str, str | None]:
    return store.record_message(account=account, playbook="onboarding", channel="email", template="welcome",
                                to=to, subject="Welcome", text="Hello", html=None, at=at, key=key,
                                cap_count=cap, cap_seconds=WEEK if cap is not None else None)


def lines(*objects: object) -> str:
    import json

    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


# --------------------------------------------------------------------------- migrations


def test_the_migrations_build_exactly_the_schema_module_on_postgresql(postgres_url: str) -> None:
    Store.open(postgres_url).close()
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
            tables = set(inspect(conn).get_table_names())
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert differences == []
    assert set(metadata.tables) | {"alembic_version"} <= tables
    assert revision == head_revision(postgres_url)


def test_workers_starting_at_once_on_an_empty_database_migrate_it_once(postgres_url: str) -> None:
    results = run_together(6, lambda _: Store.open(postgres_url))
    stores = [result for result in results if isinstance(result, Store)]
    try:
        assert errors_in(results) == []
        assert all(store.schema_is_current() for store in stores)
    finally:
        for store in stores:
            store.close()


def test_an_unmigrated_database_is_refused_until_playbook_migrate_runs(postgres_url: str) -> None:
    from cli.main import main

    with pytest.raises(StoreUnavailable, match="outdated schema: run `playbook migrate` first"):
        Store.open(postgres_url, migrate=False)
    assert main(["migrate", "--database-url", postgres_url]) == 0
    store = Store.open(postgres_url, migrate=False)  # what `playbook worker` does
    try:
        assert store.schema_is_current()
    finally:
        store.close()


def test_the_api_refuses_an_unmigrated_database_and_says_what_to_do(postgres_url: str) -> None:
    from cli.commands.api import StartupError, open_store

    with pytest.raises(StartupError, match="has no schema yet") as raised:
        open_store(postgres_url)
    assert "postgresql+psycopg://" in str(raised.value)
    Store.open(postgres_url).close()
    open_store(postgres_url).close()


def test_a_password_never_appears_in_the_refusal(postgres_url: str) -> None:
    from sqlalchemy.engine import make_url

    wrong = make_url(postgres_url).set(password="not-the-password-42", database="no_such_database_here")
    with pytest.raises(StoreUnavailable) as raised:
        Store.open(wrong.render_as_string(hide_password=False))
    assert "not-the-password-42" not in str(raised.value)


# --------------------------------------------------------------------------- ingestion


def test_a_batch_stores_the_good_lines_and_reports_each_bad_one(pg_store: Store) -> None:
    ingestor = Ingestor(pg_store, MODEL)
    result = ingestor.ingest(lines(
        {"id": "e-1", "account": "techcorp", "at": "2026-01-05T09:00:00Z", "event": "signed",
         "traits": {"arr": 12000, "segment": "smb"}},
        "{not json",
        {"account": "techcorp", "traits": {"arr": "a lot"}},
        {"account": "techcorp", "event": "exploded"},
        {"id": "e-2", "account": "globex", "at": "2026-01-05T10:00:00Z", "traits": {"dau_pct": 40}},
    ), NOW)
    assert [(c.event_id, c.account) for c in result.accepted] == [("e-1", "techcorp"), ("e-2", "globex")]
    assert [r.line for r in result.rejected] == [2, 3, 4]
    assert pg_store.current_fields("techcorp") == {"arr": 12000, "segment": "smb"}
    assert pg_store.current_fields("globex") == {"dau_pct": 40}
    assert pg_store.account_ids() == ["globex", "techcorp"]


def test_a_batch_sent_twice_is_stored_once(pg_store: Store) -> None:
    ingestor = Ingestor(pg_store, MODEL)
    batch = lines(
        {"id": "e-1", "account": "a", "at": "2026-01-05T09:00:00Z", "event": "signed"},
        {"id": "e-2", "account": "a", "at": "2026-01-05T09:00:00Z", "traits": {"arr": 1}},
        {"id": "e-1", "account": "a", "at": "2026-01-05T09:00:00Z", "event": "signed"},
    )
    first = ingestor.ingest(batch, NOW)
    second = ingestor.ingest(batch, NOW)
    assert (len(first.accepted), first.duplicates) == (2, 1)
    assert (len(second.accepted), second.duplicates) == (0, 3)
    assert len(pg_store.events_until("a", NOW)) == 1


def test_segment_calls_and_reserved_events_are_applied(pg_store: Store) -> None:
    pg_store.create_task(TaskRecord(id="t1", account="techcorp", playbook="health_red", title="Call",
                                    owner="sam@v.example", due=None, priority="high", created_at=T0), "k1", None)
    result = Ingestor(pg_store, MODEL).ingest(lines(
        {"type": "group", "groupId": "techcorp", "messageId": "g-1", "timestamp": "2026-01-05T09:00:00Z",
         "traits": {"segment": "smb"}},
        {"type": "track", "event": "signed", "messageId": "t-1", "timestamp": "2026-01-05T09:00:00Z",
         "context": {"groupId": "techcorp"}},
        {"account": "techcorp", "event": "unsubscribed", "data": {"email": "Ana@T.example"}},
        {"account": "techcorp", "event": "task_completed", "data": {"playbook": "health_red"}},
    ), NOW)
    assert result.rejected == []
    assert pg_store.current_fields("techcorp") == {"segment": "smb"}
    assert pg_store.suppression("ana@t.example") == "unsubscribed"
    assert result.accepted[-1].closed_tasks == ["t1"]
    assert [t.status for t in pg_store.tasks(account="techcorp")] == ["done"]


def test_json_values_times_and_text_round_trip(pg_store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    traits = {"flag": True, "count": 1, "ratio": 0.25, "name": "Zoë — 株式会社", "tags": ["a", "b"],
              "nested": {"k": [1, {"x": None}]}}
    change = pg_store.add_change("acc/1", datetime(2026, 1, 5, 10, 0, tzinfo=paris), event="nps_response",
                                 data={"score": 9, "comment": "très bien"}, traits=traits, event_id="e")
    assert change is not None and change.at == T0
    assert pg_store.current_fields("acc/1") == traits
    [(name, at, data)] = pg_store.events_until("acc/1", T0)
    assert (name, at, data) == ("nps_response", T0, {"score": 9, "comment": "très bien"})
    assert at.utcoffset() == timedelta(0)
    again = pg_store.add_change("acc/1", T0 + timedelta(hours=1), event=None, data={},
                                traits={"flag": 1, "count": 1.0}, event_id=None)
    assert again is not None and again.traits == {"flag": 1}  # 1 is not True; 1.0 is 1


def test_trait_history_reads_a_logical_time_and_keeps_late_values_out_of_the_present(pg_store: Store) -> None:
    pg_store.add_change("a", T0, event=None, data={}, traits={"arr": 1}, event_id=None)
    pg_store.add_change("a", T0 + timedelta(days=2), event=None, data={}, traits={"arr": 3}, event_id=None)
    late = pg_store.add_change("a", T0 + timedelta(days=1), event=None, data={}, traits={"arr": 2}, event_id=None)
    assert late is not None and late.traits == {}
    assert pg_store.current_fields("a") == {"arr": 3}
    assert pg_store.fields_at("a", T0 + timedelta(days=1, hours=1)) == {"arr": 2}
    pg_store.add_change("a", T0 + timedelta(days=3), event=None, data={}, traits={"arr": None}, event_id=None)
    assert pg_store.current_fields("a") == {}
    assert pg_store.fields_at("a", T0 + timedelta(days=3)) == {}


def test_events_filter_by_time_and_name_in_time_order(pg_store: Store) -> None:
    pg_store.add_changes([
        NewChange(account="a", at=T0 + timedelta(hours=2), event="login"),
        NewChange(account="a", at=T0, event="signed"),
        NewChange(account="a", at=T0 + timedelta(hours=1), event="login"),
        NewChange(account="b", at=T0, event="login"),
    ])
    assert [n for n, _, _ in pg_store.events_until("a", T0 + timedelta(hours=1))] == ["signed", "login"]
    assert len(pg_store.events_until("a", T0 + timedelta(days=1), {"login"})) == 2


def test_many_senders_creating_one_new_account_at_once_store_every_event(pg_store: Store) -> None:
    results = run_together(12, lambda i: pg_store.add_change(
        "fresh", T0 + timedelta(minutes=i), event="login", data={}, traits={"dau_pct": i}, event_id=f"e-{i}"))
    assert errors_in(results) == []
    assert pg_store.account_ids() == ["fresh"]
    assert len(pg_store.events_until("fresh", T0 + timedelta(hours=1))) == 12
    assert pg_store.current_fields("fresh") == {"dau_pct": 11}  # the latest observation wins


def test_the_same_event_id_sent_at_once_is_stored_once(pg_store: Store) -> None:
    results = run_together(8, lambda i: pg_store.add_change(
        "a", T0, event="signed", data={}, traits={"arr": i}, event_id="dup"))
    assert errors_in(results) == []
    assert sum(result is not None for result in results) == 1
    assert len(pg_store.events_until("a", T0)) == 1


def test_batches_locking_accounts_in_opposite_orders_do_not_deadlock(pg_store: Store) -> None:
    def batch(i: int) -> None:
        names = ["x", "y", "z"] if i % 2 else ["z", "y", "x"]
        for round_ in range(5):
            pg_store.add_changes([NewChange(account=name, at=T0, event="login", event_id=f"{i}-{round_}-{name}")
                                  for name in names])

    assert errors_in(run_together(8, batch)) == []
    assert all(len(pg_store.events_until(name, T0)) == 40 for name in ("x", "y", "z"))


def test_unrouted_changes_are_listed_until_marked_routed(pg_store: Store) -> None:
    changes = pg_store.add_changes([NewChange(account="a", at=T0, event="signed", event_id="e-1"),
                                    NewChange(account="b", at=T0, event="login", event_id="e-2")])
    seqs = [change.seq for change in changes if change is not None]
    assert [c.event_id for c in pg_store.unrouted()] == ["e-1", "e-2"]
    pg_store.mark_routed(seqs[:1], NOW)
    assert [c.event_id for c in pg_store.unrouted()] == ["e-2"]
    assert pg_store.unrouted(received_before=datetime(2000, 1, 1, tzinfo=UTC)) == []


# --------------------------------------------------------------------------- the cap race


def test_threads_sending_at_once_never_exceed_the_cap(pg_store: Store) -> None:
    results = run_together(16, lambda i: send(pg_store, f"k{i}"))
    assert errors_in(results) == []
    assert sorted(status for status, _ in results) == ["sent"] * 3 + ["suppressed"] * 13
    assert {reason for status, reason in results if status == "suppressed"} == {
        "frequency cap: at most 3 emails per 7 days"}
    assert sum(m.status == "sent" for m in pg_store.messages("techcorp")) == 3


def test_separate_connection_pools_share_the_cap(pg_store: Store) -> None:
    others = [Store.open(pg_store.url, migrate=False) for _ in range(3)]
    try:
        results = run_together(12, lambda i: send(others[i % 3], f"k{i}"))
    finally:
        for other in others:
            other.close()
    assert errors_in(results) == []
    assert sorted(status for status, _ in results) == ["sent"] * 3 + ["suppressed"] * 9


def test_the_same_key_sent_at_once_is_recorded_once(pg_store: Store) -> None:
    results = run_together(8, lambda _: send(pg_store, "same-key", cap=None))
    assert errors_in(results) == []
    assert results == [("sent", None)] * 8
    assert len(pg_store.messages()) == 1


def test_the_cap_counts_per_account_under_concurrency(pg_store: Store) -> None:
    results = run_together(12, lambda i: send(pg_store, f"k{i}", account=f"acc{i % 3}"))
    assert errors_in(results) == []
    for account in ("acc0", "acc1", "acc2"):
        assert sum(m.status == "sent" for m in pg_store.messages(account)) == 3


SENDER = """
import sys
from datetime import UTC, datetime
from engine.store import Store

store = Store.open(sys.argv[1], migrate=False)
for i in range(10):
    status, _ = store.record_message(
        account="techcorp", playbook=None, channel="email", template="t", to="ana@t.example",
        subject="s", text="x", html=None, at=datetime(2026, 1, 5, tzinfo=UTC),
        key=f"{sys.argv[2]}-{i}", cap_count=3, cap_seconds=604800,
    )
    print(status)
store.close()
"""


def test_worker_processes_sending_at_once_share_the_cap(pg_store: Store) -> None:
    senders = [
        subprocess.Popen([sys.executable, "-c", SENDER, pg_store.url, name], stdout=subprocess.PIPE, text=True,
                         cwd=ROOT)
        for name in ("one", "two", "three")
    ]
    printed = "".join(sender.communicate(timeout=120)[0] for sender in senders).split()
    assert all(sender.returncode == 0 for sender in senders)
    assert sorted(printed) == ["sent"] * 3 + ["suppressed"] * 27


def test_a_suppressed_address_and_a_failed_send_on_postgresql(pg_store: Store) -> None:
    pg_store.suppress("Bob@T.example", "bounced", T0)
    assert send(pg_store, "k0", to="bob@t.example") == ("suppressed", "bounced")
    assert send(pg_store, "k1") == ("sent", None)
    assert not pg_store.delivered("k1")
    pg_store.mark_delivered("k1", T0)
    assert pg_store.delivered("k1")
    for i in range(2, 4):
        send(pg_store, f"k{i}")
    pg_store.mark_failed("k3", "550 no such user")
    assert send(pg_store, "k4") == ("sent", None)  # a failed send no longer counts against the cap
    assert send(pg_store, "k5")[0] == "suppressed"


# --------------------------------------------------------------------------- journeys


def test_journeys_enter_end_once_and_answer_the_routers_questions(pg_store: Store) -> None:
    pg_store.journey_entered("journey/health_red/a", "r1", "health_red", "a", "v1", T0)
    pg_store.journey_entered("journey/health_red/a", "r1", "health_red", "a", "v1", T0 + timedelta(hours=1))
    pg_store.journey_entered("journey/onboarding/a", "r2", "onboarding", "a", "v7", T0 + timedelta(minutes=5))
    assert [j.playbook for j in pg_store.active_journeys("a")] == ["health_red", "onboarding"]
    active = pg_store.active_journey("health_red", "a")
    assert active is not None and (active.entered_at, active.version) == (T0, "v1")

    pg_store.journey_ended("journey/health_red/a", "r1", T0 + timedelta(days=1), "goal_reached", "health green")
    pg_store.journey_ended("journey/health_red/a", "r1", T0 + timedelta(days=2), "exited", "churned")
    [ended] = pg_store.journeys(playbook="health_red")
    assert (ended.status, ended.reason, ended.ended_at) == ("goal_reached", "health green", T0 + timedelta(days=1))
    assert pg_store.active_journey("health_red", "a") is None

    pg_store.journey_entered("journey/health_red/a", "r3", "health_red", "a", "v2", T0 + timedelta(days=10))
    last = pg_store.last_entry("health_red", "a")
    assert last == T0 + timedelta(days=10) and last.utcoffset() == timedelta(0)
    assert pg_store.ever_entered("health_red", "a") and not pg_store.ever_entered("renewal", "a")
    with pytest.raises(ValueError, match="not 'paused'"):
        pg_store.journey_ended("journey/health_red/a", "r3", T0, "paused", None)


def test_a_run_recorded_at_once_by_retried_activities_is_one_row(pg_store: Store) -> None:
    results = run_together(8, lambda _: pg_store.journey_entered("journey/p/a", "r1", "p", "a", "v1", T0))
    assert errors_in(results) == []
    assert len(pg_store.journeys(account="a")) == 1


def test_scores_and_conditions_keep_their_history(pg_store: Store) -> None:
    for day, (value, band) in enumerate([(80, "green"), (55, "yellow"), (30, "red")]):
        pg_store.record_score("a", ScoreState(name="health", value=value, band=band, breakdown={"usage": value},
                                              missing=["nps"] if band == "red" else []), T0 + timedelta(days=day))
    assert [s.band for _, s in pg_store.score_history("a", "health")] == ["green", "yellow", "red"]
    at_day_one = pg_store.score_at("a", "health", T0 + timedelta(days=1, hours=3))
    assert at_day_one is not None and at_day_one.value == 55
    assert pg_store.latest_scores("a")["health"].missing == ["nps"]
    assert pg_store.get_condition("a", "health red") is None
    pg_store.set_condition("a", "health red", True, T0)
    pg_store.set_condition("a", "health red", None, T0)
    assert pg_store.get_condition("a", "health red") is None


# --------------------------------------------------------------------------- tasks and actions


def task(id: str, account: str = "a", playbook: str | None = "health_red", owner: str = "sam@v.example") -> TaskRecord:
    return TaskRecord(id=id, account=account, playbook=playbook, title=f"Call {account}", owner=owner,
                      due=T0 + timedelta(days=2), priority="high", created_at=T0)


def test_a_task_opens_once_per_key_even_when_retried_at_once(pg_store: Store) -> None:
    results = run_together(8, lambda i: pg_store.create_task(task(f"t{i}"), "journey/p/a:r1:day 3/0", "journey/p/a"))
    assert errors_in(results) == []
    assert sum(created for _, created in results) == 1
    assert len({stored.id for stored, _ in results}) == 1
    assert len(pg_store.tasks(account="a")) == 1
    with pytest.raises(TaskKeyConflict):
        pg_store.create_task(results[0][0], "another key", None)


def test_tasks_filter_and_complete_per_account(pg_store: Store) -> None:
    pg_store.create_task(task("t1"), "k1", "journey/health_red/a")
    pg_store.create_task(task("t2", playbook="renewal", owner="kim@v.example"), "k2", None)
    pg_store.create_task(task("t3", account="b"), "k3", None)
    assert [t.id for t in pg_store.tasks(owner="kim@v.example")] == ["t2"]
    assert pg_store.task_journey("t1") == "journey/health_red/a"
    closed = pg_store.complete_tasks("a", T0 + timedelta(days=1), playbook="health_red")
    assert [t.id for t in closed] == ["t1"]
    assert [t.id for t in pg_store.tasks(status="open")] == ["t2", "t3"]
    done = pg_store.task("t1")
    assert done is not None and done.completed_at == T0 + timedelta(days=1)


def test_the_action_log_is_ordered_filtered_and_idempotent(pg_store: Store) -> None:
    def action(kind: str, at: datetime, key: str | None, account: str = "a", **data: object) -> ActionRecord:
        return ActionRecord(at=at, account=account, playbook="onboarding", kind=kind, data=data, key=key)

    assert pg_store.log_action(action("email_sent", T0 + timedelta(hours=1), "k2", template="welcome"))
    assert pg_store.log_action(action("enrolled", T0, "k1", due=T0.isoformat()))
    assert pg_store.log_action(action("note", T0, None))
    assert pg_store.log_action(action("note", T0, None))  # no key: every one is kept
    assert pg_store.log_action(action("enrolled", T0, "k3", account="b"))
    assert not pg_store.log_action(action("enrolled", T0, "k1", account="b"))  # a key is logged once, whoever
    results = run_together(6, lambda _: pg_store.log_action(action("email_sent", T0, "k-race")))
    assert errors_in(results) == [] and sum(results) == 1

    kinds = [(a.kind, a.at) for a in pg_store.actions(account="a")]
    assert kinds == [("enrolled", T0), ("note", T0), ("note", T0), ("email_sent", T0),
                     ("email_sent", T0 + timedelta(hours=1))]
    assert [a.kind for a in pg_store.actions(since=T0 + timedelta(hours=1))] == ["email_sent"]
    assert pg_store.actions(account="a")[0].data == {"due": T0.isoformat()}
    assert len(pg_store.actions(playbook="onboarding")) == 6
