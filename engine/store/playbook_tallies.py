"""Counts of the journeys kept as they change, so that `playbook stats`, a playbook's funnel and the
list of playbooks read a few rows per playbook instead of every journey.

- `journey_counts`: journeys by (playbook, version, status, reason). Entering adds one `active`;
  ending moves one from `active` to how it ended (`completed`, `goal_reached`, `exited` with its
  reason, `failed`). A reason of `''` is none.
- `arm_counts`: the split decisions of journeys by (playbook, split path, arm, status of the
  journey now), for the results per arm. A split decision logged adds one under its journey's
  status (`active` when the journey is not recorded); the journey's ending moves its decisions.

Both change in the transaction that inserts or ends the journey, or logs the decision, and only
by `n = n + …` in the database (an upsert), so writers at once never lose a count. Erasing an
account takes its journeys and decisions out first (`uncount_account`); erasing actions takes out
the decisions among them (`uncount_actions`). `recount` fills both from the journeys and the log
(migration 0013).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, select

from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.schema import actions, arm_counts, journey_counts, journeys

__all__ = ["ArmCount", "JourneyTally", "PlaybookTallySection", "count_ended", "count_entered", "count_split",
           "recount", "split_arm", "uncount_account", "uncount_actions"]

JOURNEY_PREFIX = "journey/"

_JOURNEY_UPSERT = ("INSERT INTO journey_counts (playbook, version, status, reason, n) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (playbook, version, status, reason) DO UPDATE SET n = journey_counts.n + excluded.n")
_ARM_UPSERT = ("INSERT INTO arm_counts (playbook, path, label, status, n) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (playbook, path, label, status) DO UPDATE SET n = arm_counts.n + excluded.n")
_STATUS = "SELECT status FROM journeys WHERE workflow_id = ? AND run_id = ?"
_RUN_DECISIONS = ("SELECT account, playbook, key, data FROM actions "
                  "WHERE account = ? AND kind = 'decided' AND substr(key, 1, ?) = ?")


class JourneyTally(NamedTuple):
    playbook: str
    version: str
    status: str
    reason: str | None
    n: int


class ArmCount(NamedTuple):
    """Split decisions at `path` that chose `label`, of journeys that stand as `status`."""

    playbook: str
    path: str
    label: str
    status: str
    n: int


def split_arm(playbook: str | None, account: str, key: str | None, data: Any) -> tuple[str, str, str, str] | None:
    """(playbook, split path, arm label, run id) of a logged split decision; None for any other action.
    Its key: `journey/<playbook>/<account>/<run id>/<path>/split/<n>` (an account id may hold `/`)."""
    if playbook is None or not isinstance(data, dict) or data.get("what") != "split" or data.get("outcome") is None:
        return None
    journey = f"{JOURNEY_PREFIX}{playbook}/{account}/"
    if not key or not key.startswith(journey):
        return None
    run, _, rest = key.removeprefix(journey).partition("/")
    return playbook, rest.rsplit("/", 2)[0], str(data["outcome"]), run


def count_entered(driver: Driver, playbook: str, version: str) -> None:
    driver.execute(_JOURNEY_UPSERT, (playbook, version, "active", "", 1))


def _run_decisions(driver: Driver, playbook: str, account: str, run_id: str) -> list[tuple[str, str, str]]:
    prefix = f"{JOURNEY_PREFIX}{playbook}/{account}/{run_id}/"
    found = []
    for row in driver.execute(_RUN_DECISIONS, (account, len(prefix), prefix)).fetchall():
        arm = split_arm(row[1], row[0], row[2], driver.read_json(row[3]))
        if arm is not None and arm[3] == run_id:
            found.append(arm[:3])
    return sorted(found)


def count_ended(driver: Driver, playbook: str, account: str, version: str, run_id: str, status: str,
                reason: str | None) -> None:
    """Move an active journey that just ended, and its split decisions, to how it ended. Rows are
    changed in the order of their keys (journeys' counts first), as everywhere here, so that two
    transactions at once on PostgreSQL wait for each other rather than deadlock."""
    driver.execute(_JOURNEY_UPSERT, (playbook, version, "active", "", -1))
    driver.execute(_JOURNEY_UPSERT, (playbook, version, status, reason or "", 1))
    for book, path, label in _run_decisions(driver, playbook, account, run_id):
        driver.execute(_ARM_UPSERT, (book, path, label, "active", -1))
        driver.execute(_ARM_UPSERT, (book, path, label, status, 1))


def count_split(driver: Driver, playbook: str | None, account: str, key: str | None, data: Any) -> None:
    """Count a split decision just logged under its journey's status now."""
    arm = split_arm(playbook, account, key, data)
    if arm is None:
        return
    book, path, label, run = arm
    row = driver.execute(_STATUS, (f"{JOURNEY_PREFIX}{book}/{account}", run)).fetchone()
    driver.execute(_ARM_UPSERT, (book, path, label, str(row[0]) if row is not None else "active", 1))


def _arms(conn: Connection, where: list[Any]) -> dict[tuple[str, str, str, str], int]:
    """The split decisions `where` keeps, counted by (playbook, path, label, status of their journey)."""
    query = select(actions.c.account, actions.c.playbook, actions.c.key, actions.c.data).where(
        actions.c.kind == "decided", actions.c.key.like(JOURNEY_PREFIX + "%"), *where)
    found: dict[tuple[str, str, str, str], int] = {}
    runs: dict[tuple[str, str], str] = {}
    decisions = [(row.account, arm) for row in conn.execute(query)
                 if (arm := split_arm(row.playbook, row.account, row.key, row.data)) is not None]
    wanted = sorted({f"{JOURNEY_PREFIX}{arm[0]}/{account}" for account, arm in decisions})
    for first in range(0, len(wanted), 500):
        rows = conn.execute(select(journeys.c.workflow_id, journeys.c.run_id, journeys.c.status)
                            .where(journeys.c.workflow_id.in_(wanted[first:first + 500])))
        runs.update({(str(r.workflow_id), str(r.run_id)): str(r.status) for r in rows})
    for account, (book, path, label, run) in decisions:
        status = runs.get((f"{JOURNEY_PREFIX}{book}/{account}", run), "active")
        found[(book, path, label, status)] = found.get((book, path, label, status), 0) + 1
    return found


def _journeys(conn: Connection, where: list[Any]) -> list[Any]:
    return list(conn.execute(
        select(journeys.c.playbook, journeys.c.version, journeys.c.status, journeys.c.reason, func.count().label("n"))
        .where(*where).group_by(journeys.c.playbook, journeys.c.version, journeys.c.status, journeys.c.reason)))


def _add(conn: Connection, journey_rows: Iterable[Any], arms: dict[tuple[str, str, str, str], int], sign: int) -> None:
    driver = Driver(conn)
    totals: dict[tuple[str, str, str, str], int] = {}
    for row in journey_rows:  # a NULL reason and `''` are one count
        key = (str(row.playbook), str(row.version), str(row.status), str(row.reason or ""))
        totals[key] = totals.get(key, 0) + int(row.n)
    for (playbook, version, status, reason), n in sorted(totals.items()):
        driver.execute(_JOURNEY_UPSERT, (playbook, version, status, reason, sign * n))
    for (playbook, path, label, status), n in sorted(arms.items()):
        driver.execute(_ARM_UPSERT, (playbook, path, label, status, sign * n))


def uncount_account(conn: Connection, account: str) -> None:
    """Take an account's journeys and split decisions out of the counts, before they are deleted."""
    _add(conn, _journeys(conn, [journeys.c.account == account]), _arms(conn, [actions.c.account == account]), -1)


def uncount_actions(conn: Connection, where: list[Any]) -> None:
    """Take the split decisions among the actions `where` keeps out of the counts, before they are deleted."""
    _add(conn, [], _arms(conn, where), -1)


def recount(conn: Connection) -> None:
    """Count every journey and split decision afresh (in the caller's write transaction)."""
    conn.execute(delete(journey_counts))
    conn.execute(delete(arm_counts))
    _add(conn, _journeys(conn, []), _arms(conn, []), 1)


class PlaybookTallySection(StoreSection):
    def journey_tallies(self, playbooks: list[str] | None = None) -> list[JourneyTally]:
        """The journeys of these playbooks (all when None) by version, status and reason."""
        query = select(journey_counts).where(journey_counts.c.n != 0)
        if playbooks is not None:
            query = query.where(journey_counts.c.playbook.in_(playbooks))
        with self._db.read() as conn:
            return [JourneyTally(r.playbook, r.version, r.status, r.reason or None, int(r.n))
                    for r in conn.execute(query)]

    def arm_tallies(self, playbooks: list[str]) -> list[ArmCount]:
        """The split decisions of these playbooks' journeys by split path, arm and journey status."""
        query = select(arm_counts).where(arm_counts.c.n != 0, arm_counts.c.playbook.in_(playbooks))
        with self._db.read() as conn:
            return [ArmCount(r.playbook, r.path, r.label, r.status, int(r.n)) for r in conn.execute(query)]
