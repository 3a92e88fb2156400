"""Every main read of the cockpit is served by an index: the plan of each statement it runs
(captured as it runs, then explained) reads no table of accounts, cards, actions, events, scores
or tasks from end to end. On SQLite a plain `SCAN <table>` is a full scan (a scan *using* an
index walks it in order and stops at the page's end); on PostgreSQL, with sequential scans
priced out, a `Seq Scan` is one no index could serve. The account lists of a CSM are also read
in their index's order: on SQLite no `TEMP B-TREE FOR ORDER BY` sorts every account of the CSM."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from engine.insight.kept_counts import kept_counts
from engine.read_model import account_page, account_timeline, account_totals, work_page
from engine.read_model.account_pages import csm_list
from engine.read_model.action_log import action_log_page
from engine.read_model.renewals import renewing_soon
from engine.read_model.work import team_owners
from engine.read_model.work_counts import open_work_count
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store

NOW = datetime(2026, 6, 1, tzinfo=UTC)
WATCHED = ("accounts", "account_cards", "actions", "events", "score_history", "tasks", "journeys", "account_notes")
IN_INDEX_ORDER = ("accounts of a CSM", "my accounts by name", "my red accounts by ARR")


def _seed(store: Store) -> None:
    for number in range(3):
        account = f"a{number}"
        store.add_change(account, NOW, event="signed", data={}, event_id=f"e{number}", traits={
            "name": f"A {number}", "arr": 10.0 * number, "segment": "smb",
            "csm": {"email": "ana@example.com", "manager": {"email": "max@example.com"}}})
        store.record_score(account, ScoreState(name="health", value=20.0, band="red"), NOW)
        store.log_action(ActionRecord(at=NOW, account=account, playbook="p", kind="email", data={}, key=f"k{number}"))
        store.create_task(TaskRecord(id=f"t{number}", account=account, playbook="p", title="T", owner="ana@example.com",
                                     due=NOW, priority="normal", created_at=NOW), f"journey/p/{account}/r/d/{number}",
                          f"journey/p/{account}")


def _reads(store: Store) -> list[tuple[str, Callable[[], Any]]]:
    first = account_page(store, None, NOW, limit=1)
    reads: list[tuple[str, Callable[[], Any]]] = [
        ("accounts, page 2", lambda: account_page(store, None, NOW, limit=1, cursor=first.next_cursor)),
        ("accounts by band and ARR", lambda: account_page(store, None, NOW, band="red", sort="-arr")),
        ("accounts of a CSM", lambda: account_page(store, None, NOW, csm="ana@example.com", band="red")),
        ("my accounts by name", lambda: account_page(store, None, NOW, csm="ana@example.com", totals=True)),
        ("my red accounts by ARR", lambda: account_page(store, None, NOW, csm="ana@example.com", band="red",
                                                        sort="-arr")),
        ("red accounts renewing soon (home)", lambda: renewing_soon(store, "red", NOW.date())),
        ("the CSMs", lambda: csm_list(store)),
        ("a manager's CSMs", lambda: team_owners(store, "max@example.com")),
        ("open and overdue counts (home)", lambda: open_work_count(store, NOW, owner="ana@example.com",
                                                                   overdue=True)),
        ("accounts of a segment", lambda: account_page(store, None, NOW, segment="smb", sort="renewal")),
        ("accounts by name prefix", lambda: account_page(store, None, NOW, q="a 1")),
        ("totals", lambda: account_totals(store, None, NOW)),
        ("timeline", lambda: account_timeline(store, "a1", limit=2)),
        ("timeline of work items and notes", lambda: account_timeline(store, "a1", kind="work_item,note")),
        ("timeline but decisions", lambda: account_timeline(store, "a1", kind="event,message,action")),
        ("work of an owner", lambda: work_page(store, NOW, owner="ana@example.com", limit=1)),
        ("overdue work of a team", lambda: work_page(store, NOW + timedelta(days=1), manager="max@example.com",
                                                     overdue=True)),
        ("every overdue item", lambda: work_page(store, NOW + timedelta(days=1), overdue=True)),
        ("an account's log", lambda: action_log_page(store, account="a1")),
        ("tallies", lambda: store.tallied_actions(["p"])),
        ("a playbook's counts (stats, funnel)", lambda: kept_counts(store, ["p"])),
    ]
    def by(sort: str) -> Callable[[], Any]:
        return lambda: account_page(store, None, NOW, sort=sort, limit=1)

    for sort in ("name", "-name", "arr", "-arr", "renewal", "-renewal", "score", "-score"):
        reads.append((f"accounts by {sort}", by(sort)))
    return reads


@contextmanager
def _captured(store: Store) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") or statement.lstrip().upper().startswith("WITH"):
            statements.append((statement, parameters))

    engine = store.database.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _full_scans(store: Store, statements: list[tuple[str, Any]], ordered: bool = False) -> list[str]:
    found: list[str] = []
    with store.database.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            if store.dialect == "sqlite":
                plan = " | ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
                pattern = rf"\bSCAN ({'|'.join(WATCHED)})\b(?! USING)"
                pattern += r"|TEMP B-TREE FOR ORDER BY" if ordered else ""
            else:
                cursor = raw.cursor()
                cursor.execute(f"EXPLAIN {statement}", parameters)
                plan = " | ".join(row[0] for row in cursor.fetchall())
                pattern = rf"Seq Scan on ({'|'.join(WATCHED)})\b"
            if re.search(pattern, plan):
                found.append(f"{statement.split()[0:12]} … -> {plan}")
    return found


def _check(store: Store) -> None:
    _seed(store)
    for name, read in _reads(store):
        with _captured(store) as statements:
            read()
        assert statements, name
        assert _full_scans(store, statements, ordered=name in IN_INDEX_ORDER) == [], name


def test_every_main_read_of_the_cockpit_is_served_by_an_index_on_sqlite(store: Store) -> None:
    _check(store)


def test_every_main_read_of_the_cockpit_is_served_by_an_index_on_postgresql(pg_store: Store) -> None:
    _check(pg_store)


def test_the_check_sees_a_full_scan_when_there_is_one(store: Store) -> None:
    _seed(store)
    with _captured(store) as statements, store.database.read() as conn:
        conn.execute(text("SELECT count(*) FROM actions WHERE kind = 'email'"))
    assert len(_full_scans(store, statements)) == 1
