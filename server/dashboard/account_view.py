"""What an account's page shows, read from the store: its summary (ARR, renewal, segment, CSM),
contacts, scores with their components named for people, journeys, open work items, notes and
a page of the one timeline of everything that happened, filtered by kind
(`server.dashboard.timeline_view`, over `engine.read_model.timeline`).

Synchronous, like the store; the routes call `account_view` on a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dsl import ir
from engine.insight.story import JourneyState, tell
from engine.read_model import ScoreDetail, account_exists, account_scores, primary_score
from engine.store import Store
from engine.store.notes import Note
from server.dashboard.chart import Chart, score_chart
from server.dashboard.formatting import humane, money, on_day, plain
from server.dashboard.timeline_view import KINDS, TimelineView, timeline_view
from server.dashboard.views import TaskCard, card, text_of, trend, urgency

__all__ = ["KINDS", "AccountView", "ComponentRow", "Contact", "ScoreView", "account_view"]

NOTES_SHOWN = 50  # the newest notes shown


@dataclass
class ComponentRow:
    name: str  # as written in the score model
    label: str  # as people read it: `Login frequency`
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
class Contact:
    role: str  # `CSM`, `Primary contact`, `CSM's manager`
    name: str | None
    email: str | None


@dataclass
class AccountView:
    id: str
    name: str
    summary: list[tuple[str, str]]  # a few fields a CSM looks for first, written for people
    contacts: list[Contact]
    fields: list[tuple[str, str]]  # every field, by name
    scores: list[ScoreView]
    journeys: list[JourneyState]
    timeline: TimelineView  # a page of it, newest first, only the kinds asked for
    kinds: list[str]  # the kinds shown (every kind when none was asked for)
    tasks: list[TaskCard]  # open ones
    notes: list[Note]  # newest first
    timezone: str


def _score_view(model: ir.ScoreModel, detail: ScoreDetail) -> ScoreView:
    direction, delta = trend([point.value for point in detail.history])
    components = [ComponentRow(name=c.name, label=humane(c.name), points=detail.breakdown.get(c.name),
                               max_points=c.max_points) for c in model.components]
    chart = score_chart(model, [(point.at, point.value, point.band) for point in detail.history])
    return ScoreView(name=model.name, title=model.title or humane(model.name), value=detail.value, band=detail.band,
                     at=detail.at, trend=direction, delta=delta, components=components, missing=detail.missing,
                     chart=chart)


def contacts_of(model: ir.Model, fields: dict[str, Any]) -> list[Contact]:
    """The people of the account's owner and contact fields (and an owner's manager), in model order."""
    found: list[Contact] = []
    for name, kind in model.fields.items():
        if kind.type not in ("owner", "contact"):
            continue
        person = fields.get(name)
        if not isinstance(person, dict):
            continue
        role = humane(name)
        if person.get("name") or person.get("email"):
            found.append(Contact(role=role, name=text_of(person.get("name")), email=text_of(person.get("email"))))
        manager = person.get("manager")
        if isinstance(manager, dict) and (manager.get("name") or manager.get("email")):
            found.append(Contact(role=f"{role}'s manager", name=text_of(manager.get("name")),
                                 email=text_of(manager.get("email"))))
    return found


def _summary(fields: dict[str, Any]) -> list[tuple[str, str]]:
    summary: list[tuple[str, str]] = []
    if fields.get("arr") is not None:
        summary.append(("ARR", money(fields["arr"])))
    if fields.get("renewal_date") is not None:
        summary.append(("Renewal", on_day(str(fields["renewal_date"]))))
    if text_of(fields.get("segment")):
        summary.append(("Segment", humane(fields["segment"])))
    csm = fields.get("csm")
    if isinstance(csm, dict) and (csm.get("name") or csm.get("email")):
        summary.append(("CSM", str(csm.get("name") or csm.get("email"))))
    if text_of(fields.get("timezone")):
        summary.append(("Time zone", fields["timezone"]))
    return summary


def account_view(store: Store, bundle: ir.Bundle, account: str, now: datetime,
                 kinds: set[str] | None = None, cursor: str | None = None) -> AccountView | None:
    """The account's page, its timeline's page after `cursor` when given; None for no such account;
    `BadQuery` for a cursor the timeline did not hand out."""
    fields = store.current_fields(account)
    if not fields and not account_exists(store, account):  # a known account without fields is rare
        return None
    name = text_of(fields.get("name")) or account
    scores = [_score_view(bundle.scores[score], detail)
              for score, detail in account_scores(store, bundle, account, fields).items()]
    primary = primary_score(bundle)
    scores.sort(key=lambda view: view.name != primary)  # the list's score first
    story = tell(store, bundle, account, now=now)
    timeline = timeline_view(store, bundle, account, story.timezone, kinds, cursor)
    tasks = sorted((card(task, {account: name}, now) for task in store.tasks(account=account, status="open")),
                   key=urgency)
    contacts = contacts_of(bundle.model, fields)
    people = {person.email.lower(): person.name for person in contacts if person.email and person.name}
    for item in tasks:
        item.owner_name = people.get(item.task.owner.lower())
    return AccountView(id=account, name=name, summary=_summary(fields), contacts=contacts,
                       fields=[(key, plain(value)) for key, value in sorted(fields.items())],
                       scores=scores, journeys=list(reversed(story.journeys)), timeline=timeline,
                       kinds=timeline.kinds, tasks=tasks,
                       notes=list(reversed(store.notes(account, newest=NOTES_SHOWN))), timezone=story.timezone)
