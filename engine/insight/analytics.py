"""Per-step analytics of playbooks: `playbook stats` and `GET /v1/playbooks/{id}/stats`.

The counts come from the store: over the whole store from the counts it keeps as journeys, tasks
and actions come (`engine.insight.kept_counts`), with `since` or an audience from a few SQL
aggregates (`engine.insight.step_stats`); this module lays them on each playbook's steps and
statements as the deployed IR has them, in the playbook's order: for every step the journeys
that reached it (and the date steps skipped), for every statement what it did (emails sent,
suppressed by reason, delayed by quiet hours; in-app messages shown; tasks opened, completed and
the median time to complete; how each `if`, `split` and `wait until` went), and for the playbook
the journeys that entered, ended (by status and reason) and are active now. Paths that journeys
of an older version logged and the deployed version no longer has are listed apart
(`other_paths`), so nothing counted is lost.

With `since`, every count is of what happened at or after that moment (entries, endings, actions,
tasks opened); `active` is always the state now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from dsl import ir
from dsl.ir_text import describe_statement
from engine.insight.arm_results import SplitResults, split_results
from engine.insight.engagement_stats import EngagementCount, lay_engagement, read_engagement
from engine.insight.kept_counts import kept_arm_journeys, kept_counts
from engine.insight.step_stats import ActionCount, ArmJourney, Counts, TaskCount, read_arm_journeys, read_counts
from engine.read_model.audiences import accounts_in_audience
from engine.semantics.ir_walk import walk

if TYPE_CHECKING:
    from engine.store import Store

__all__ = [
    "PlaybookStats",
    "StatementStats",
    "Stats",
    "StepStats",
    "describe_statement",
    "playbook_stats",
    "statement_path",
]


class StatementStats(BaseModel):
    """What one statement did. Only the counts that apply to its kind are set."""

    path: str  # `day 7/0/then/0`
    statement: str  # `send email first_project to primary_contact`
    sent: int | None = None  # emails
    emails_opened: int | None = None  # engagement tracking on: messages opened, clicked (each once)
    emails_clicked: int | None = None
    open_rate: float | None = None  # of the emails sent
    click_rate: float | None = None
    shown: int | None = None  # in-app messages
    suppressed: dict[str, int] | None = None  # by reason
    delayed_by_quiet_hours: int | None = None
    delayed_by_send_window: int | None = None  # emails held outside the send window
    deferred_over_cap: int | None = None  # times the cap deferred an email to its next slot
    opened: int | None = None  # tasks
    completed: int | None = None
    median_hours_to_complete: float | None = None
    outcomes: dict[str, int] | None = None  # if: ran / skipped; split: cohorts; wait until: how it ended
    done: int | None = None  # set, update score, do
    failed: int | None = None  # the effect failed (kind `failed`)


class StepStats(BaseModel):
    step: str  # `day 7`, `60 days before renewal_date`
    reached: int  # journeys that ran the step (counted on its first statement that logs a line)
    skipped: int = 0  # date steps skipped: the date was missing or had passed
    statements: list[StatementStats]


class PlaybookStats(BaseModel):
    id: str
    title: str
    version: str
    entered: int
    active: int  # now, whatever `since`
    completed: int
    goal_reached: int
    exited: dict[str, int]  # by reason
    failed: int
    not_admitted: int  # triggers refused by the audience
    already_active: int
    reentry_blocked: int
    steps: list[StepStats]
    other_paths: list[StatementStats] = []  # logged by an older version, absent from this one
    splits: list[SplitResults] = []  # the results per arm of each A/B split


class Stats(BaseModel):
    since: datetime | None = None  # the API leaves it out when it is not given
    audience: str | None = None  # counted only for the accounts in this named audience now
    audience_accounts: int | None = None  # how many accounts that audience holds
    playbooks: list[PlaybookStats]


# --------------------------------------------------------------------------- the IR's statements

_RECIPIENT = re.compile(r"to\d+")


def statement_path(kind: str, raw: str) -> str:
    """The statement path of a logged action's key path: decisions and failures carry a suffix."""
    parts = raw.split("/")
    if kind == "decided" and len(parts) >= 3:
        return "/".join(parts[:-2])  # `<path>/<what>/<n>`
    if kind == "deferred" and len(parts) >= 3 and parts[-2] == "deferred":
        return "/".join(parts[:-2])  # `<path>/deferred/<moment>`: one per time the cap deferred it
    if kind == "failed" and len(parts) >= 2 and parts[-1] == "failed":
        parts = parts[:-1]
    if kind in ("email", "suppressed", "failed", "held", "deferred") and len(parts) >= 2 \
            and _RECIPIENT.fullmatch(parts[-1]):
        return "/".join(parts[:-1])  # the second, third … recipient of one `send email`
    if kind == "failed":
        return "/".join(parts)
    return raw


# How a statement went, as `stats` counts it, by the decision's structured outcome.
_BLOCK_RAN = {"then": "ran", "else": "skipped", "skipped": "skipped", "none": "neither branch ran"}
_WAIT_ENDED = {"event": "event arrived", "task": "task done", "condition": "condition met", "timeout": "timed out"}


def _outcome(row: ActionCount) -> str | None:
    if row.outcome is None:  # logged by an older release, without structured fields: its sentence as it is
        return row.detail or None
    if row.what == "branch":
        ran = _BLOCK_RAN.get(row.block or "", row.block or "")
        return ran + (" (unknown)" if row.outcome == "unknown" else "")
    if row.what == "wait_ended":
        return _WAIT_ENDED.get(row.outcome, row.outcome)
    if row.what == "set_skipped":
        return "skipped: the value is unknown"
    return row.subject or row.outcome  # split: `arm control (50%)`


def _add(target: dict[str, int] | None, key: str, count: int) -> dict[str, int]:
    result = dict(target or {})
    result[key] = result.get(key, 0) + count
    return result


def _empty(path: str, statement: ir.Statement | None) -> StatementStats:
    stats = StatementStats(path=path, statement=describe_statement(statement) if statement is not None else "")
    if isinstance(statement, ir.SendEmail):
        stats.sent, stats.suppressed, stats.delayed_by_quiet_hours = 0, {}, 0
        stats.delayed_by_send_window, stats.deferred_over_cap = 0, 0
    elif isinstance(statement, ir.SendInApp):
        stats.shown, stats.suppressed = 0, {}
    elif isinstance(statement, ir.CreateTask):
        stats.opened, stats.completed = 0, 0
    elif isinstance(statement, ir.If | ir.Split | ir.WaitUntil):
        stats.outcomes = {}
    elif isinstance(statement, ir.SetField | ir.UpdateScore | ir.Do):
        stats.done = 0
    return stats


def _count(stats: StatementStats, row: ActionCount) -> None:
    if row.kind == "email":
        stats.sent = (stats.sent or 0) + row.count
    elif row.kind == "in_app":
        stats.shown = (stats.shown or 0) + row.count
    elif row.kind == "suppressed":
        stats.suppressed = _add(stats.suppressed, row.reason or "suppressed", row.count)
    elif row.kind == "task":
        pass  # counted from the tasks themselves, with their completion
    elif row.kind == "failed":
        stats.failed = (stats.failed or 0) + row.count
    elif row.kind == "decided" and row.what == "quiet_hours":
        stats.delayed_by_quiet_hours = (stats.delayed_by_quiet_hours or 0) + row.count
    elif row.kind == "decided" and row.what == "send_window":
        stats.delayed_by_send_window = (stats.delayed_by_send_window or 0) + row.count
    elif row.kind == "deferred":
        stats.deferred_over_cap = (stats.deferred_over_cap or 0) + row.count
    elif row.kind == "decided":
        outcome = _outcome(row)
        if outcome is not None:
            stats.outcomes = _add(stats.outcomes, outcome, row.count)
    else:  # set, score, call
        stats.done = (stats.done or 0) + row.count


def _tasks(stats: StatementStats, row: TaskCount) -> None:
    stats.opened = (stats.opened or 0) + row.opened
    stats.completed = (stats.completed or 0) + row.completed
    if row.median_seconds is not None:
        stats.median_hours_to_complete = round(row.median_seconds / 3600, 2)
    for outcome, count in sorted(row.outcomes.items()):  # how the completed ones ended, where told
        stats.outcomes = _add(stats.outcomes, outcome, count)


def _first_logged(step: ir.Step) -> str | None:
    """The path of the step's first statement that logs exactly one line per journey running it.

    A send logs `email`, `in_app` or `suppressed`; a task `task`; an `if` or a `split` its decision;
    `set` its value or its skip; `do` its call; a `wait until` how it ended (once it ended); any
    failing effect logs `failed`. A plain `wait` and `update score` log nothing of their own.
    """
    for index, statement in enumerate(step.body):
        if not isinstance(statement, ir.Wait | ir.UpdateScore):
            return f"{step.name}/{index}"
    return None


def _reached(playbook: ir.Playbook, rows: list[ActionCount]) -> dict[str, tuple[int, int]]:
    """(journeys that reached, journeys that skipped) per step, counted on each step's first logged
    statement: one line per journey there, so a sum rather than a count of distinct journeys."""
    result: dict[str, tuple[int, int]] = {}
    for step in playbook.steps:
        first = _first_logged(step)
        reached = sum(row.count for row in rows if first is not None and statement_path(row.kind, row.path) == first
                      and row.kind != "deferred"
                      and not (row.kind == "decided" and row.what in ("quiet_hours", "send_window")))
        skipped = sum(row.count for row in rows if row.kind == "decided" and row.what == "step_skipped"
                      and statement_path(row.kind, row.path) == step.name)
        result[step.name] = (reached, skipped)
    return result


def _playbook(playbook: ir.Playbook, version: str, counts: Counts, arms: list[ArmJourney],
              engaged: list[EngagementCount]) -> PlaybookStats:
    statements: dict[str, StatementStats] = {}
    steps: list[tuple[ir.Step, list[str]]] = []
    templates: dict[str, str] = {}  # the template each send statement sends, by path
    for step in playbook.steps:
        paths = []
        for path, statement in walk(step.body, step.name):
            if isinstance(statement, ir.Wait):
                continue  # a plain wait logs nothing
            statements[path] = _empty(path, statement)
            paths.append(path)
            if isinstance(statement, ir.SendEmail | ir.SendInApp):
                templates[path] = statement.template
        steps.append((step, paths))
    others: dict[str, StatementStats] = {}
    for row in counts.actions:
        if row.playbook != playbook.id or (row.kind == "decided" and row.what == "step_skipped"):
            continue
        if row.kind == "set" and row.path.endswith("/record"):
            continue  # `split … record arm as FIELD`: the split's decision counts the arms already
        path = statement_path(row.kind, row.path)
        target = statements.get(path) or others.setdefault(path, _empty(path, None))
        _count(target, row)
    for task in counts.tasks:
        if task.playbook == playbook.id:
            _tasks(statements.get(task.path) or others.setdefault(task.path, _empty(task.path, None)), task)
    def sent_at(raw: str) -> StatementStats:  # each recipient's message counts on its `send email`
        return statements.get(path := statement_path("email", raw)) or others.setdefault(path, _empty(path, None))

    lay_engagement(engaged, playbook.id, sent_at, lambda: [*statements.values(), *others.values()])
    reached = _reached(playbook, [row for row in counts.actions if row.playbook == playbook.id])
    ended = [row for row in counts.ended if row.playbook == playbook.id]
    exited: dict[str, int] = {}
    for ending in ended:
        if ending.status == "exited":
            exited = _add(exited, ending.reason or "", ending.count)

    def total(status: str) -> int:
        return sum(row.count for row in ended if row.status == status)

    def refused(what: str) -> int:
        return counts.refusals.get((playbook.id, what), 0)

    return PlaybookStats(
        id=playbook.id, title=playbook.title, version=version,
        entered=counts.entered.get(playbook.id, 0), active=counts.active.get(playbook.id, 0),
        completed=total("completed"), goal_reached=total("goal_reached"), exited=exited, failed=total("failed"),
        not_admitted=refused("not_admitted"), already_active=refused("already_active"),
        reentry_blocked=refused("reentry_blocked"),
        splits=split_results(playbook, arms, {
            path: {template: (statements[path].sent or 0) + (statements[path].shown or 0)}
            for path, template in templates.items()}),
        steps=[StepStats(step=step.name, reached=reached.get(step.name, (0, 0))[0],
                         skipped=reached.get(step.name, (0, 0))[1],
                         statements=[statements[path] for path in paths]) for step, paths in steps],
        other_paths=[others[path] for path in sorted(others)],
    )


def playbook_stats(store: Store, bundle: ir.Bundle, playbook: str | None = None,
                   since: datetime | None = None, audience: str | None = None,
                   at: datetime | None = None) -> Stats:
    """The stats of one playbook of the bundle (all of them when None), from the store; with
    `audience`, of the accounts in that named audience at `at` (now when None) only.

    Raises `KeyError` for a playbook or an audience the bundle does not have.
    """
    if playbook is not None and playbook not in bundle.playbooks:
        raise KeyError(playbook)
    chosen = [bundle.playbooks[playbook]] if playbook is not None else [
        bundle.playbooks[name] for name in sorted(bundle.playbooks)]
    members = (accounts_in_audience(store, bundle, audience, at or datetime.now(UTC))
               if audience is not None else None)
    ids = [p.id for p in chosen]
    whole = since is None and members is None  # the counts kept as things happen answer it
    counts = kept_counts(store, ids) if whole else read_counts(store, ids, since, members)
    splitting = [p.id for p in chosen if any(isinstance(statement, ir.Split)
                                             for step in p.steps for _, statement in walk(step.body, step.name))]
    arms = [] if not splitting else kept_arm_journeys(store, splitting) if whole else read_arm_journeys(
        store, splitting, since, members)
    engaged = read_engagement(store, ids, since, members)
    return Stats(since=since, audience=audience, audience_accounts=len(members) if members is not None else None,
                 playbooks=[_playbook(p, bundle.versions.get(p.id, ""), counts, arms, engaged) for p in chosen])
