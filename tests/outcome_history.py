"""A generated year of customer history for retention figures: `generate_year(store, accounts=1000)`.

Each account signs (most before the year starts, some during it) with an ARR by segment and a CSM,
renews on the anniversary of its signing, and along the way may expand or contract (mid-term and
at renewal) and may churn. Its health band (`health` in `score_history`) is planted at signing and
may change once during the year; the chance of churning at a renewal is the planted rate of its band
90 days before the renewal date (`RENEWAL_RATES`), so a calibration on this history should find
those rates again. Journeys are planted too: `health_red` when an account turns red, and `renewal`
90 days before each renewal with an A/B split (arm `call` lowers the chance to churn).

Traits and events go through the store's own intake (`Store.add_changes`); scores, journeys, split
decisions and open tasks are inserted in bulk. The same seed gives the same history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.records import ActionRecord, ScoreState
from engine.store import Store
from engine.store.rows import NewChange
from engine.store.schema import actions, journeys, score_history, tasks

__all__ = ["RENEWAL_RATES", "GeneratedYear", "enter", "generate_year", "record", "score"]

START = datetime(2026, 1, 1, tzinfo=UTC)
RENEWAL_RATES = {"green": 0.95, "yellow": 0.80, "red": 0.50}
BAND_VALUES = {"green": 88.0, "yellow": 64.0, "red": 31.0}
SEGMENTS = (("enterprise", 0.1, 80_000, 300_000), ("mid_market", 0.3, 20_000, 80_000), ("smb", 0.6, 3_000, 20_000))
CSMS = {"enterprise": ("ava", "ben"), "mid_market": ("cam", "dee", "eli"), "smb": ("fay", "gus", "hal")}
MID_TERM_CHURN = 0.04  # accounts that leave between two renewals
CALL_ARM_SAVES = 0.5  # arm `call` halves the chance to churn at that renewal
CHUNK = 5000


@dataclass
class GeneratedYear:
    start: datetime
    end: datetime  # "now" for the generated store: a year after the start
    accounts: int
    changes: list[NewChange] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


def _band(rng: random.Random) -> str:
    roll = rng.random()
    return "green" if roll < 0.5 else "yellow" if roll < 0.8 else "red"


class _Account:
    def __init__(self, year: GeneratedYear, rng: random.Random, number: int) -> None:
        self.year, self.rng, self.id = year, rng, f"acct-{number:06d}"
        roll, cumulative = rng.random(), 0.0
        for name, share, low, high in SEGMENTS:
            cumulative += share
            if roll < cumulative or name == "smb":
                self.segment, self.arr = name, float(round(rng.uniform(low, high), -2))
                break
        self.bands: list[tuple[datetime, str]] = []
        self.churned = False

    def change(self, at: datetime, event: str | None = None, **traits: Any) -> None:
        self.year.changes.append(NewChange(account=self.id, at=at, event=event, traits=traits, source="generated"))

    def band_at(self, at: datetime) -> str:
        return next((band for when, band in reversed(self.bands) if when <= at), self.bands[0][1])

    def score(self, at: datetime, band: str) -> None:
        self.bands.append((at, band))
        value = BAND_VALUES[band] + self.rng.uniform(-4, 4)
        self.year.scores.append({"account": self.id, "score": "health", "at": at, "value": round(value, 1),
                                 "band": band, "breakdown": {}, "missing": []})
        if band == "red":
            self.journey("health_red", at, "v1" if at < self.year.start + timedelta(days=180) else "v2")

    def journey(self, playbook: str, at: datetime, version: str, arm: str | None = None) -> None:
        run = f"run-{len(self.year.journeys)}"
        workflow = f"journey/{playbook}/{self.id}"
        self.year.journeys.append({"workflow_id": workflow, "run_id": run, "playbook": playbook, "account": self.id,
                                   "version": version, "entered_at": at, "ended_at": None, "status": "completed",
                                   "reason": None})
        if arm is not None:
            self.year.decisions.append({"at": at, "account": self.id, "playbook": playbook, "kind": "decided",
                                        "data": {"what": "split", "outcome": arm},
                                        "key": f"{workflow}/{run}/90 days before renewal_date/0/split/0"})

    def live(self) -> None:
        rng, start, end = self.rng, self.year.start, self.year.end
        signed = start - timedelta(days=rng.uniform(1, 700)) if rng.random() < 0.85 \
            else start + timedelta(days=rng.uniform(0, 330))
        renewal = signed + timedelta(days=365)
        while renewal < signed + timedelta(days=1) or renewal <= start - timedelta(days=30):
            renewal += timedelta(days=365)
        self.change(signed, "signed", name=f"Account {self.id}", segment=self.segment, arr=self.arr,
                    csm={"email": f"{rng.choice(CSMS[self.segment])}@vendor.example"},
                    renewal_date=renewal.date().isoformat())
        self.score(signed, _band(rng))
        if rng.random() < 0.25:  # one change of band during the year
            self.score(max(signed, start) + timedelta(days=rng.uniform(1, 300)), _band(rng))
        if rng.random() < 0.15:  # a mid-term change of plan
            at = max(signed, start) + timedelta(days=rng.uniform(5, 300))
            factor = rng.uniform(1.1, 1.5) if rng.random() < 0.7 else rng.uniform(0.6, 0.9)
            self.arr = float(round(self.arr * factor, -2))
            self.change(at, arr=self.arr)
        if rng.random() < MID_TERM_CHURN:  # leaves between renewals, with no renewal journey before
            at = max(signed, start) + timedelta(days=rng.uniform(5, 330))
            if at < end and not any(at - timedelta(days=100) <= r <= at + timedelta(days=10)
                                    for r in (renewal + timedelta(days=365 * k) for k in range(3))):
                self.churned = True
                self.change(at, "churned")
        while renewal < end + timedelta(days=200) and not self.churned:
            self._renew(renewal)
            renewal += timedelta(days=365)
        if self.bands[-1][1] == "red" and not self.churned and rng.random() < 0.5:
            self.year.tasks.append({"id": f"task-{self.id}", "account": self.id, "playbook": "health_red",
                                    "title": "Outreach", "owner": "csm@vendor.example", "priority": "urgent",
                                    "status": "open", "created_at": end - timedelta(days=2),
                                    "key": f"generated/{self.id}"})

    def _renew(self, renewal: datetime) -> None:
        rng, at_day = self.rng, renewal.replace(hour=0, minute=0, second=0, microsecond=0)
        runway = at_day - timedelta(days=90)
        arm = rng.choice(("email", "call"))
        if runway < self.year.end:
            self.journey("renewal", runway + timedelta(hours=9), "v1", arm)
        if at_day >= self.year.end:  # the forecast's future: nothing decided yet
            return
        rate = RENEWAL_RATES[self.band_at(runway)]
        loss = (1 - rate) * (CALL_ARM_SAVES if arm == "call" else 1.0)
        if rng.random() < loss:
            self.churned = True
            self.change(at_day - timedelta(days=rng.uniform(0, 20)), "churned")
            return
        factor = rng.uniform(1.05, 1.3) if rng.random() < 0.3 else rng.uniform(0.7, 0.95) if rng.random() < 0.15 \
            else 1.0
        self.arr = float(round(self.arr * factor, -2))
        self.change(at_day + timedelta(hours=12), arr=self.arr,
                    renewal_date=(at_day + timedelta(days=365)).date().isoformat())


def generate_year(store: Store | None, accounts: int = 1000, seed: int = 7, start: datetime = START) -> GeneratedYear:
    """A year of history for `accounts` accounts from `start`, written into `store` (if given)."""
    rng = random.Random(seed)
    year = GeneratedYear(start=start, end=start + timedelta(days=365), accounts=accounts)
    for number in range(accounts):
        _Account(year, rng, number).live()
    if store is not None:
        write(store, year)
    return year


def write(store: Store, year: GeneratedYear) -> None:
    changes = sorted(year.changes, key=lambda change: change.at)
    for index in range(0, len(changes), CHUNK):
        store.add_changes(changes[index:index + CHUNK], received_at=year.end)
    with store.database.write() as conn:
        for table, rows in ((score_history, year.scores), (journeys, year.journeys), (actions, year.decisions),
                            (tasks, year.tasks)):
            for index in range(0, len(rows), CHUNK):
                if rows[index:index + CHUNK]:
                    conn.execute(table.insert(), rows[index:index + CHUNK])


def record(store: Store, rows: list[tuple[str, str, str | None, dict[str, Any]]]) -> None:
    """Store hand-written history: (account, ISO date or time, event or None, traits) per row."""
    changes = []
    for account, when, event, traits in rows:
        at = datetime.fromisoformat(when if "T" in when else f"{when}T00:00:00").replace(tzinfo=UTC)
        changes.append(NewChange(account=account, at=at, event=event, traits=traits, source="test"))
    store.add_changes(changes)


def score(store: Store, account: str, when: str, band: str, value: float | None = None) -> None:
    """Record the account's `health` score at `when` (a date) in `band`."""
    at = datetime.fromisoformat(f"{when}T00:00:00").replace(tzinfo=UTC)
    store.record_score(account, ScoreState(name="health", value=BAND_VALUES.get(band, 50.0) if value is None
                                           else value, band=band), at)


def enter(store: Store, account: str, playbook: str, when: str, version: str = "v1", arm: str | None = None) -> None:
    """Record that the account entered the playbook at `when` (a date), in `arm` of a split if given."""
    at = datetime.fromisoformat(f"{when}T09:00:00").replace(tzinfo=UTC)
    run = f"run-{account}-{playbook}-{when}"
    workflow = f"journey/{playbook}/{account}"
    store.journey_entered(workflow, run, playbook, account, version, at)
    if arm is not None:
        store.log_action(ActionRecord(at=at, account=account, playbook=playbook, kind="decided",
                                      data={"what": "split", "outcome": arm},
                                      key=f"{workflow}/{run}/day 0/0/split/0"))
