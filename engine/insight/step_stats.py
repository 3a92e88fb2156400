"""The SQL of `playbook stats`: aggregates over the action log, the journeys and the tasks.

Every journey effect and decision is logged under a key `journey/<playbook>/<account>/<run id>/<path>`
(the effect's step path, e.g. `day 7/0/then/0`; a decision adds `/<what>/<n>`, a failure
`/failed`). The queries cut the path out of the key in SQL (the playbook and account are columns
of the same row, so the prefix's length is known) and group by it, so the database returns a few
rows per statement of a playbook however many accounts ran it. `engine.insight.analytics` puts those
rows on the playbook's steps. Over the whole store (no `since`, no audience) the counts are those
the store keeps (`engine.insight.kept_counts`) and these queries are not run.

Portable between SQLite and PostgreSQL: the one function that differs by name (`instr` /
`strpos`) and the time difference in seconds are chosen by dialect.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Float, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from engine.store.action_tallies import JOURNEY_PREFIX, action_groups, position
from engine.store.schema import actions, journeys, tasks
from engine.store.types import to_utc

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["ActionCount", "ArmJourney", "Counts", "JourneyCount", "TaskCount", "read_arm_journeys", "read_counts"]



@dataclass(frozen=True)
class ActionCount:
    """How many journey actions of one kind were logged at one raw path (decisions keep their suffix)."""

    playbook: str
    path: str
    kind: str
    what: str | None  # a decision's `what`
    outcome: str | None  # a decision's structured outcome, for the kinds that name one (branch, split, …)
    block: str | None  # a branch's block that ran
    subject: str | None  # a split's arm as written
    detail: str | None  # the sentence of such a decision logged without structured fields (an older release)
    reason: str | None  # a suppression's reason
    count: int


@dataclass(frozen=True)
class TaskCount:
    playbook: str
    path: str
    opened: int
    completed: int
    median_seconds: float | None  # from opening to completion, over the completed ones
    outcomes: dict[str, int] = field(default_factory=dict)  # the completed ones by outcome, where given


@dataclass(frozen=True)
class JourneyCount:
    playbook: str
    status: str
    reason: str | None
    count: int


@dataclass
class Counts:
    actions: list[ActionCount]
    tasks: list[TaskCount]
    entered: dict[str, int]
    ended: list[JourneyCount]
    active: dict[str, int]
    refusals: dict[tuple[str, str], int]  # (playbook, what) of admission decisions


@contextmanager
def _reading(store: Store) -> Iterator[Connection]:
    # The store's read transaction: one consistent snapshot for every query below.
    with store._db.read() as conn:
        yield conn


def _scanned(dialect: str, column: Any) -> Any:
    """`column` as SQLite's planner cannot use an index on: a filter by playbook reads the table
    in order rather than looking up most of its rows one by one through the index (6x slower on a
    playbook that has most of the log)."""
    return column.concat("") if dialect == "sqlite" else column


def _seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _keyed(dialect: str, key: Any, playbook: Any, account: Any, *columns: Any,
           where: list[Any]) -> Any:
    """A subquery of journey-keyed rows with `run` and `path` cut out of the key."""
    # `journey/` + playbook + `/` + account + `/` is len(playbook) + len(account) + 10 characters
    rest = func.substr(key, func.length(playbook) + func.length(account) + 11).label("rest")
    inner = select(playbook.label("playbook"), *columns, rest).where(
        key.like(JOURNEY_PREFIX + "%"), playbook.is_not(None), *where).subquery()
    slash = position(dialect, inner.c.rest, "/")
    return select(
        *[column for column in inner.c if column.name != "rest"],
        func.substr(inner.c.rest, 1, slash - 1).label("run"),
        func.substr(inner.c.rest, slash + 1).label("path"),
    ).where(slash > 0).subquery()


def read_counts(store: Store, playbooks: list[str] | None = None, since: datetime | None = None,
                accounts: Collection[str] | None = None) -> Counts:
    """Every aggregate `playbook stats` shows, for these playbooks (all when None), since `since`,
    of these accounts (all when None: a named audience's, for `stats --audience`), counted from
    the log, the tasks and the journeys."""
    dialect = store.dialect
    start = to_utc(since) if since is not None else None
    action_where: list[Any] = []
    if playbooks is not None:
        action_where.append(_scanned(dialect, actions.c.playbook).in_(playbooks))
    if start is not None:
        action_where.append(actions.c.at >= start)
    if accounts is not None:
        action_where.append(actions.c.account.in_(sorted(accounts)))
    by_path = action_groups(dialect, action_where)

    task_where: list[Any] = []
    if playbooks is not None:
        task_where.append(tasks.c.playbook.in_(playbooks))
    if start is not None:
        task_where.append(tasks.c.created_at >= start)
    if accounts is not None:
        task_where.append(tasks.c.account.in_(sorted(accounts)))
    task_rows = _keyed(
        dialect, tasks.c.key, tasks.c.playbook, tasks.c.account,
        tasks.c.status.label("status"), tasks.c.outcome.label("outcome"),
        case((tasks.c.status == "done", _seconds_between(dialect, tasks.c.created_at, tasks.c.completed_at)),
             else_=None).label("seconds"),
        where=task_where,
    )
    task_totals = (select(task_rows.c.playbook, task_rows.c.path, func.count().label("opened"),
                          func.sum(case((task_rows.c.status == "done", 1), else_=0)).label("done"))
                   .group_by(task_rows.c.playbook, task_rows.c.path))
    done = select(
        task_rows.c.playbook, task_rows.c.path, task_rows.c.seconds,
        func.row_number().over(partition_by=(task_rows.c.playbook, task_rows.c.path),
                               order_by=task_rows.c.seconds).label("rank"),
        func.count().over(partition_by=(task_rows.c.playbook, task_rows.c.path)).label("total"),
    ).where(task_rows.c.seconds.is_not(None)).subquery()
    task_outcomes = (select(task_rows.c.playbook, task_rows.c.path, task_rows.c.outcome, func.count().label("n"))
                     .where(task_rows.c.outcome.is_not(None))
                     .group_by(task_rows.c.playbook, task_rows.c.path, task_rows.c.outcome))
    # the median: the middle row, or the mean of the two middle rows
    medians = (select(done.c.playbook, done.c.path, func.avg(done.c.seconds).label("median"))
               .where(done.c.rank.in_([(done.c.total + 1) // 2, (done.c.total + 2) // 2]))
               .group_by(done.c.playbook, done.c.path))

    journey_where: list[Any] = []
    if playbooks is not None:
        journey_where.append(journeys.c.playbook.in_(playbooks))
    if accounts is not None:
        journey_where.append(journeys.c.account.in_(sorted(accounts)))
    entered = select(journeys.c.playbook, func.count()).where(*journey_where).group_by(journeys.c.playbook)
    if start is not None:
        entered = entered.where(journeys.c.entered_at >= start)
    ended = (select(journeys.c.playbook, journeys.c.status, journeys.c.reason, func.count())
             .where(journeys.c.status != "active", *journey_where)
             .group_by(journeys.c.playbook, journeys.c.status, journeys.c.reason))
    if start is not None:
        ended = ended.where(journeys.c.ended_at >= start)
    active = (select(journeys.c.playbook, func.count()).where(journeys.c.status == "active", *journey_where)
              .group_by(journeys.c.playbook))
    with _reading(store) as conn:
        rows = conn.execute(by_path).all()
        counts = Counts(
            actions=[ActionCount(playbook=r.playbook, path=r.path, kind=r.kind, what=r.what, outcome=r.outcome,
                                 block=r.block, subject=r.subject, detail=r.detail, reason=r.reason, count=int(r.n))
                     for r in rows if r.path is not None and r.path not in ("enter", "end")],
            tasks=[],
            entered={str(r[0]): int(r[1]) for r in conn.execute(entered)},
            ended=[JourneyCount(playbook=r[0], status=r[1], reason=r[2], count=int(r[3]))
                   for r in conn.execute(ended)],
            active={str(r[0]): int(r[1]) for r in conn.execute(active)},
            refusals={(str(r.playbook), str(r.what)): int(r.n) for r in rows if r.path is None and r.kind == "decided"},
        )
        median = {(r.playbook, r.path): float(r.median) for r in conn.execute(medians)}
        ended_as: dict[tuple[str, str], dict[str, int]] = {}
        for r in conn.execute(task_outcomes):
            ended_as.setdefault((r.playbook, r.path), {})[str(r.outcome)] = int(r.n)
        counts.tasks = [TaskCount(playbook=r.playbook, path=r.path, opened=int(r.opened), completed=int(r.done or 0),
                                  median_seconds=median.get((r.playbook, r.path)),
                                  outcomes=ended_as.get((r.playbook, r.path), {}))
                        for r in conn.execute(task_totals)]
    return counts



@dataclass(frozen=True)
class ArmJourney:
    """One journey's pass through a split: which arm it took there, and how the journey stands."""

    playbook: str
    path: str  # the split's statement path: `entry/0`
    label: str
    status: str  # active, completed, goal_reached, exited, failed
    count: int = 1  # journeys alike (the kept counts stand for many)


def read_arm_journeys(store: Store, playbooks: list[str], since: datetime | None = None,
                      accounts: Collection[str] | None = None) -> list[ArmJourney]:
    """Every split decision of these playbooks' journeys with the journey's status, for the results
    per arm (`engine.insight.arm_results`)."""
    data = actions.c.data
    where: list[Any] = [actions.c.kind == "decided", data["what"].as_string() == "split",
                        actions.c.playbook.in_(playbooks)]
    journey_where: list[Any] = [journeys.c.playbook.in_(playbooks)]
    if since is not None:
        where.append(actions.c.at >= to_utc(since))
    if accounts is not None:
        where.append(actions.c.account.in_(sorted(accounts)))
        journey_where.append(journeys.c.account.in_(sorted(accounts)))
    decisions = select(actions.c.playbook, actions.c.account, actions.c.key,
                       data["outcome"].as_string().label("label")).where(*where)
    runs = select(journeys.c.workflow_id, journeys.c.run_id, journeys.c.status).where(*journey_where)
    with _reading(store) as conn:
        status = {f"{r.workflow_id}/{r.run_id}/": str(r.status) for r in conn.execute(runs)}
        rows = conn.execute(decisions).all()
    found: list[ArmJourney] = []
    for row in rows:
        # the key: `journey/<playbook>/<account>/<run id>/<path>/split/<n>` (an account id may hold `/`)
        journey = f"{JOURNEY_PREFIX}{row.playbook}/{row.account}/"
        key = str(row.key or "")
        if row.label is None or not key.startswith(journey):
            continue
        run, _, rest = key.removeprefix(journey).partition("/")
        path = rest.rsplit("/", 2)[0]
        found.append(ArmJourney(playbook=str(row.playbook), path=path, label=str(row.label),
                                status=status.get(f"{journey}{run}/", "active")))
    return found
