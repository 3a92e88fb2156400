"""What each page of the dashboard shows, read from the store: plain data for the templates.

Synchronous, like the store; the routes call these on a worker thread. Scores are read by
`engine.read_model`, as the API reads them: "the score" of the account list is the primary score
(`engine.read_model.primary_score`: `health` when the bundle has one); an account's own page
shows every score of the bundle, the primary one first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dsl import ir
from dsl.ir_text import describe_trigger
from engine.insight.analytics import PlaybookStats, StepStats, playbook_stats
from engine.insight.story import JourneyState, StoryLine, tell
from engine.read_model import ScoreDetail, account_scores, primary_score
from engine.read_model.scores import latest_score, missing_inputs
from engine.read_model.tasks import is_overdue
from engine.records import TaskRecord
from engine.store import Store
from server.dashboard.chart import Chart, score_chart
from server.smtp_sink import SinkMessage, read_index

__all__ = [
    "UNSCORED",
    "AccountRow",
    "AccountView",
    "BandGroup",
    "FunnelStep",
    "OwnerColumn",
    "PlaybookView",
    "ScoreView",
    "SinkMessage",
    "TaskCard",
    "account_groups",
    "account_view",
    "outbox",
    "playbook_list",
    "playbook_view",
    "task_board",
    "task_owners",
    "trend",
]

UNSCORED = "unscored"
RECENT_LINES = 200  # the newest lines of an account's timeline
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def trend(values: list[float | None]) -> tuple[str | None, float | None]:
    """The direction of the last change of a score ("up", "down") and by how much.

    Recordings that repeat the latest value are passed over: the arrow says how the score last
    moved, however long ago. None when the score is unscored now or never moved.
    """
    if not values or values[-1] is None:
        return None, None
    latest = values[-1]
    for earlier in reversed(values[:-1]):
        if earlier is None:
            return None, None
        if earlier != latest:
            delta = latest - earlier
            return ("up" if delta > 0 else "down"), delta
    return None, None


def _person(value: Any) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("name")) or _text(value.get("email"))
    return _text(value)


# --------------------------------------------------------------------------- the account list


@dataclass
class AccountRow:
    id: str
    name: str
    segment: str | None
    csm: str | None
    score: float | None
    band: str | None
    trend: str | None  # "up", "down" or None
    delta: float | None
    updated: datetime | None
    open_tasks: int
    missing: list[str] = field(default_factory=list)


@dataclass
class BandGroup:
    band: str  # a band's name, or UNSCORED
    accounts: list[AccountRow]


def _band_order(bundle: ir.Bundle, score: str | None) -> list[str]:
    model = bundle.scores.get(score) if score else None
    if model is None:
        return []
    return [band.name for band in sorted(model.bands, key=lambda band: band.low)]  # the worst first


def account_groups(store: Store, bundle: ir.Bundle) -> list[BandGroup]:
    """Every account, grouped by the band of the score: the lowest band first, unscored last."""
    score = primary_score(bundle)
    model = bundle.scores.get(score) if score else None
    open_tasks: dict[str, int] = defaultdict(int)
    for task in store.tasks(status="open"):
        open_tasks[task.account] += 1
    rows: list[AccountRow] = []
    for account, fields in store.all_fields().items():
        at, state, history = latest_score(store, account, score)
        direction, delta = trend([s.value for _, s in history])
        missing = list(state.missing) if history else (missing_inputs(model, fields) if model is not None else [])
        rows.append(AccountRow(id=account, name=_text(fields.get("name")) or account,
                               segment=_text(fields.get("segment")), csm=_person(fields.get("csm")),
                               score=state.value, band=state.band, trend=direction, delta=delta, updated=at,
                               open_tasks=open_tasks[account], missing=missing if state.value is None else []))
    order = _band_order(bundle, score)
    bands = order + sorted({row.band for row in rows if row.band is not None and row.band not in order})
    groups = [BandGroup(band=band, accounts=sorted((row for row in rows if row.band == band),
                                                   key=lambda row: (row.score or 0.0, row.name.lower())))
              for band in bands]
    groups.append(BandGroup(band=UNSCORED, accounts=sorted((row for row in rows if row.band is None),
                                                           key=lambda row: row.name.lower())))
    return [group for group in groups if group.accounts]


# --------------------------------------------------------------------------- one account


@dataclass
class ComponentRow:
    name: str
    points: float | None
    max_points: float


@dataclass
class ScoreView:
    name: str
    title: str
    value: float | None
    band: str | None
    at: datetime | None
    trend: str | None
    delta: float | None
    components: list[ComponentRow]
    missing: list[str]
    chart: Chart


@dataclass
class TaskCard:
    task: TaskRecord
    account_name: str
    overdue: bool
    due_text: str  # "due in 2 days", "3 days overdue", "no due date"


@dataclass
class AccountView:
    id: str
    name: str
    summary: list[tuple[str, str]]  # a few fields a CSM looks for first
    fields: list[tuple[str, str]]  # every field, by name
    scores: list[ScoreView]
    journeys: list[JourneyState]
    timeline: list[StoryLine]  # actions and decisions, newest first
    tasks: list[TaskCard]  # open ones
    timezone: str


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _score_view(model: ir.ScoreModel, detail: ScoreDetail) -> ScoreView:
    direction, delta = trend([point.value for point in detail.history])
    components = [ComponentRow(name=c.name, points=detail.breakdown.get(c.name), max_points=c.max_points)
                  for c in model.components]
    chart = score_chart(model, [(point.at, point.value, point.band) for point in detail.history])
    return ScoreView(name=model.name, title=model.title or model.name, value=detail.value, band=detail.band,
                     at=detail.at, trend=direction, delta=delta, components=components, missing=detail.missing,
                     chart=chart)


def _days(seconds: float) -> str:
    hours = abs(seconds) / 3600
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        count = int(hours)
        return f"{count} hour" + ("" if count == 1 else "s")
    count = int(hours // 24)
    return f"{count} days"


def _card(task: TaskRecord, names: dict[str, str], now: datetime) -> TaskCard:
    overdue = is_overdue(task, now)
    if task.due is None:
        due_text = "no due date"
    elif overdue:
        due_text = f"{_days((now - task.due).total_seconds())} overdue"
    else:
        due_text = f"due in {_days((task.due - now).total_seconds())}"
    return TaskCard(task=task, account_name=names.get(task.account, task.account), overdue=overdue, due_text=due_text)


def _urgency(card: TaskCard) -> tuple[int, datetime, int, datetime, str]:
    due = card.task.due or datetime.max.replace(tzinfo=card.task.created_at.tzinfo)
    return (0 if card.overdue else 1, due, PRIORITY_ORDER.get(card.task.priority, 2), card.task.created_at,
            card.task.id)


def account_view(store: Store, bundle: ir.Bundle, account: str, now: datetime) -> AccountView | None:
    if account not in store.account_ids():
        return None
    fields = store.current_fields(account)
    name = _text(fields.get("name")) or account
    summary = [(label, _shown(fields[key])) for key, label in (
        ("segment", "Segment"), ("arr", "ARR"), ("renewal_date", "Renewal"), ("timezone", "Time zone"))
        if fields.get(key) is not None]
    for key, label in (("csm", "CSM"), ("primary_contact", "Primary contact")):
        person = fields.get(key)
        if isinstance(person, dict) and (person.get("name") or person.get("email")):
            shown = " ".join(str(part) for part in (person.get("name"), person.get("email") and
                                                    f"<{person['email']}>") if part)
            summary.append((label, shown))
    scores = [_score_view(bundle.scores[name], detail)
              for name, detail in account_scores(store, bundle, account, fields).items()]
    primary = primary_score(bundle)
    scores.sort(key=lambda view: view.name != primary)  # the list's score first
    story = tell(store, bundle, account, now=now)
    lines = [line for line in story.lines if line.kind != "next"]  # what comes next is on each journey
    tasks = sorted((_card(task, {account: name}, now) for task in store.tasks(account=account, status="open")),
                   key=_urgency)
    return AccountView(id=account, name=name, summary=summary,
                       fields=[(key, _shown(value)) for key, value in sorted(fields.items())],
                       scores=scores, journeys=list(reversed(story.journeys)),
                       timeline=list(reversed(lines))[:RECENT_LINES], tasks=tasks, timezone=story.timezone)


# --------------------------------------------------------------------------- the task board


@dataclass
class OwnerColumn:
    owner: str
    cards: list[TaskCard]

    @property
    def overdue(self) -> int:
        return sum(1 for card in self.cards if card.overdue)


def task_board(store: Store, now: datetime, owner: str | None = None) -> list[OwnerColumn]:
    """Open tasks by owner; in each, the overdue ones first, then by due time and priority.

    Owners with overdue tasks come first (most overdue tasks first), then the others by name.
    """
    names = {account: _text(fields.get("name")) or account for account, fields in store.all_fields().items()}
    by_owner: dict[str, list[TaskCard]] = defaultdict(list)
    for task in store.tasks(owner=owner, status="open"):
        by_owner[task.owner].append(_card(task, names, now))
    columns = [OwnerColumn(owner=name, cards=sorted(cards, key=_urgency)) for name, cards in by_owner.items()]
    return sorted(columns, key=lambda column: (-column.overdue, column.owner))


def task_owners(store: Store) -> list[str]:
    return sorted({task.owner for task in store.tasks(status="open")})


# --------------------------------------------------------------------------- playbooks


@dataclass
class FunnelStep:
    step: StepStats
    share: float  # of the journeys that entered, 0 to 1 (for the bar)


@dataclass
class PlaybookView:
    stats: PlaybookStats
    source: str  # the .play file
    trigger: str
    funnel: list[FunnelStep]


def playbook_list(store: Store, bundle: ir.Bundle) -> list[PlaybookStats]:
    return playbook_stats(store, bundle).playbooks


def playbook_view(store: Store, bundle: ir.Bundle, playbook: str) -> PlaybookView | None:
    """The playbook's funnel: for each step, the journeys that reached it.

    The counts come from the action log: every journey action is keyed
    `journey/<playbook>/<account>/<run>/<step path>`, and a journey reached a step when it logged
    anything under that step's path (`engine.insight.analytics`).
    """
    spec = bundle.playbooks.get(playbook)
    if spec is None:
        return None
    stats = playbook_stats(store, bundle, playbook).playbooks[0]
    top = max([stats.entered, *(step.reached for step in stats.steps)], default=0)
    funnel = [FunnelStep(step=step, share=step.reached / top if top else 0.0) for step in stats.steps]
    return PlaybookView(stats=stats, source=Path(spec.path).name if spec.path else "",
                        trigger=describe_trigger(spec.trigger), funnel=funnel)


# --------------------------------------------------------------------------- the outbox


def outbox(folder: Path) -> list[SinkMessage] | None:
    """The messages the dev stack's SMTP sink kept, newest first; None when there is no sink here."""
    if not folder.is_dir():
        return None
    return list(reversed(read_index(folder)))
