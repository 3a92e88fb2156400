"""A realistic event timeline for N accounts over D days, against the standard playbooks.

    .venv/bin/python bench/generate_timeline.py [--accounts 1000] [--days 30] [--seed 7]
                                                [--start 2026-01-05] [--logins-per-week 5]
                                                [--out FILE]

Writes JSON lines in the contract's event format (docs/events-and-actions.md), ordered by
`at`, to `--out` (default: stdout) and a summary to stderr. The same seed gives the same file.

What it holds, per account (ids `acct-00001` …):
- a first trait update with name, segment (smb 45%, mid_market 25%, trial 20%, enterprise 10%),
  arr by segment, an IANA time zone, contacts, a CSM with a manager, seats, a renewal date for
  paying accounts (about a third of them within 60 to 120 days, so `renewal` enrols some), and
  for about 40% the full set of health score inputs;
- the `signed` event, staggered over the first week (business hours in the account's zone);
- logins through the days (a few accounts fall week over week), `project_created` for most
  smb and trial accounts, some `payment_failed` (most followed by `payment_succeeded`),
  `nps_response`, `premium_feature_attempted`, a few `churned`;
- weekly trait updates (tasks completed, feature adoption, seats, usage), some of which cross
  the thresholds of the health, expansion, churn and advocacy playbooks.

Importable: `generate(accounts, days, seed, start)` returns the event dicts, `write(path, ...)`
writes a file and returns a `Summary`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_START", "Summary", "generate", "main", "write"]

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday

SEGMENTS = (("smb", 45), ("mid_market", 25), ("trial", 20), ("enterprise", 10))
ARR = {"smb": (3_000, 14_000), "mid_market": (15_000, 90_000), "enterprise": (100_000, 600_000), "trial": (0, 0)}
SEATS = {"smb": (3, 25), "mid_market": (20, 150), "enterprise": (100, 2_000), "trial": (1, 10)}
TIMEZONES = (
    ("UTC", 10), ("America/New_York", 20), ("America/Chicago", 8), ("America/Los_Angeles", 14),
    ("America/Sao_Paulo", 4), ("Europe/London", 10), ("Europe/Berlin", 12), ("Europe/Paris", 6),
    ("Asia/Kolkata", 5), ("Asia/Tokyo", 5), ("Asia/Singapore", 3), ("Australia/Sydney", 3),
)
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jon", "Kira", "Luis",
               "Mia", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Vik", "Wen", "Yara")
WORDS = ("Acme", "Blue", "Cedar", "Delta", "Echo", "Fable", "Granite", "Harbor", "Iris", "Juniper", "Kite",
         "Lumen", "Maple", "Nimbus", "Orbit", "Pine", "Quartz", "River", "Summit", "Tidal", "Umber", "Vertex")
SUFFIXES = ("Labs", "Systems", "Works", "Analytics", "Cloud", "Studio", "Logistics", "Health", "Foods", "Bank")
CSMS = tuple(
    {"email": f"{name.lower()}@vendor.example", "name": name,
     "manager": {"email": f"{boss.lower()}@vendor.example", "name": boss}}
    for name, boss in (("Sam", "Lee"), ("Alex", "Lee"), ("Robin", "Lee"), ("Jo", "Kim"), ("Max", "Kim"),
                       ("Noor", "Kim"), ("Pat", "Dana"), ("Kai", "Dana"), ("Lou", "Dana"), ("Ray", "Dana"))
)
PREMIUM_FEATURES = ("sso", "audit_log", "advanced_reports", "sandbox", "custom_roles")
NPS_COMMENTS = ("", "Great product", "Support was slow", "Love the reports", "Too expensive", "Easy to use")


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in pairs], weights=[weight for _, weight in pairs])[0]


@dataclass
class Summary:
    accounts: int
    days: int
    seed: int
    start: datetime
    events: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    segments: Counter[str] = field(default_factory=Counter)
    distinct_times: int = 0

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{name} {count:,}" for name, count in sorted(self.kinds.items()))
        segments = ", ".join(f"{name} {count:,}" for name, count in sorted(self.segments.items()))
        return [
            f"timeline: {self.accounts:,} accounts over {self.days} days from {self.start.isoformat()} "
            f"(seed {self.seed})",
            f"objects:  {self.events:,} at {self.distinct_times:,} distinct instants",
            f"kinds:    {kinds}",
            f"segments: {segments}",
        ]


class _Account:
    """One account's generated story; `emit` collects its objects."""

    def __init__(self, index: int, rng: random.Random, start: datetime, days: int) -> None:
        self.rng = rng
        self.start = start
        self.end = start + timedelta(days=days)
        self.id = f"acct-{index:05d}"
        self.segment = _weighted(rng, SEGMENTS)
        self.tz = _weighted(rng, TIMEZONES)
        self.zone = ZoneInfo(self.tz)
        self.objects: list[dict[str, Any]] = []
        self.serial = 0
        # the day (0-based) of sign-up: staggered over the first week (or fewer days)
        self.signup_day = rng.randrange(min(7, max(1, days)))
        self.signed_at = max(self.start + timedelta(minutes=5),
                             self.local(self.signup_day, rng.randint(8, 17), rng.randrange(60)))

    # ------------------------------------------------------------------ helpers

    def local(self, day: int, hour: int, minute: int) -> datetime:
        """The timeline's start date plus `day` days, at hour:minute in the account's zone, as UTC
        (never before the timeline's start)."""
        base = self.start.date() + timedelta(days=day)
        moment = datetime(base.year, base.month, base.day, hour, minute, tzinfo=self.zone)
        return max(self.start, moment.astimezone(UTC))

    def emit(self, at: datetime, *, event: str | None = None, data: dict[str, Any] | None = None,
             traits: dict[str, Any] | None = None) -> None:
        if self.objects and at < self.signed_at:  # nothing happens before the account signs
            at = self.signed_at + timedelta(minutes=self.rng.randint(1, 180))
        if at >= self.end:
            return
        self.serial += 1
        obj: dict[str, Any] = {"id": f"{self.id}-{self.serial}", "account": self.id,
                               "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if traits:
            obj["traits"] = traits
        if event:
            obj["event"] = event
            obj["data"] = data or {}
        self.objects.append(obj)

    # ------------------------------------------------------------------ story

    def story(self, logins_per_week: float) -> list[dict[str, Any]]:
        rng = self.rng
        company = f"{rng.choice(WORDS)} {rng.choice(SUFFIXES)}"
        contact = rng.choice(FIRST_NAMES)
        lo, hi = ARR[self.segment]
        seats_lo, seats_hi = SEATS[self.segment]
        seats = rng.randint(seats_lo, seats_hi)
        self.seats = seats
        self.seats_used = max(1, int(seats * rng.uniform(0.2, 0.7)))
        self.adoption = rng.randint(5, 45)
        self.tasks_done = 0
        traits: dict[str, Any] = {
            "name": company,
            "segment": self.segment,
            "arr": rng.randrange(lo, hi + 1, 500) if hi else 0,
            "timezone": self.tz,
            "primary_contact": {"email": f"{contact.lower()}@{self.id}.example", "name": contact},
            "csm": rng.choice(CSMS),
            "seats_licensed": seats,
            "seats_used": self.seats_used,
            "feature_adoption": self.adoption,
            "tasks_completed": 0,
            "api_calls_pct": rng.randint(5, 70),
            "data_volume_gb": rng.randint(1, 40),
            "tier_limit_gb": 50,
            "core_usage_trend": "stable",
        }
        if self.segment != "trial":
            soon = rng.random() < 0.33
            offset = rng.randint(60, 120) if soon else rng.randint(121, 400)
            traits["renewal_date"] = (self.start.date() + timedelta(days=offset)).isoformat()
        self.scored = self.segment != "trial" and rng.random() < 0.4
        if self.scored:
            self.dau = rng.randint(15, 85)
            traits.update({
                "dau_pct": self.dau,
                "qbr_attended": rng.random() < 0.6,
                "training_done": rng.random() < 0.7,
                "responsive": rng.random() < 0.75,
                "ticket_trend": rng.choice(("decreasing", "stable", "stable", "increasing")),
                "csat": round(rng.uniform(2.0, 5.0), 1),
                "exec_sponsor": rng.random() < 0.4,
                "champion": rng.random() < 0.6,
                "nps": rng.randint(3, 10),
                "payments_on_time": rng.random() < 0.9,
                "expanded_last_12m": rng.random() < 0.25,
            })
        # the first update comes a few minutes before the signature
        self.emit(self.signed_at - timedelta(minutes=5), traits=traits)
        self.emit(self.signed_at, event="signed")
        self._logins(logins_per_week)
        self._projects()
        self._payments()
        self._nps_and_premium()
        self._weekly_updates()
        self._signals()
        if self.segment in ("smb", "trial") and rng.random() < 0.02:
            day = self.signup_day + rng.randint(5, 25)
            self.emit(self.local(day, rng.randint(9, 17), rng.randrange(60)), event="churned")
        return self.objects

    def _days_after_signup(self) -> range:
        return range(self.signup_day, (self.end - self.start).days)

    def _logins(self, per_week: float) -> None:
        rng = self.rng
        falling = rng.random() < 0.04  # usage falls week over week: churn_login_drop
        weekly = max(1.0, rng.gauss(per_week, per_week / 3)) * (3 if falling else 1)
        for day in self._days_after_signup():
            week = (day - self.signup_day) // 7
            rate = weekly * (0.5 ** week if falling else 1.0) / 7
            local_day = self.start.date() + timedelta(days=day)
            if local_day.weekday() >= 5:
                rate *= 0.2
            count = sum(1 for _ in range(4) if rng.random() < rate / 4) if rate < 4 else round(rate)
            for _ in range(count):
                self.emit(self.local(day, rng.randint(7, 19), rng.randrange(60)), event="login")

    def _projects(self) -> None:
        rng = self.rng
        if self.segment in ("smb", "trial") and rng.random() < 0.6:
            day = self.signup_day + rng.randint(1, 10)
            self.emit(self.local(day, rng.randint(9, 18), rng.randrange(60)), event="project_created")

    def _payments(self) -> None:
        rng = self.rng
        if self.segment != "trial" and rng.random() < 0.06:
            day = self.signup_day + rng.randint(1, 20)
            failed = self.local(day, rng.randint(0, 23), rng.randrange(60))
            self.emit(failed, event="payment_failed", data={"amount": rng.randrange(100, 5_000, 50)})
            if rng.random() < 0.7:
                self.emit(failed + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 12)),
                          event="payment_succeeded")

    def _nps_and_premium(self) -> None:
        rng = self.rng
        if rng.random() < 0.2:
            day = self.signup_day + rng.randint(3, 25)
            score = rng.choices(range(11), weights=(1, 1, 1, 2, 2, 3, 4, 6, 8, 7, 5))[0]
            self.emit(self.local(day, rng.randint(9, 18), rng.randrange(60)), event="nps_response",
                      data={"score": score, "comment": rng.choice(NPS_COMMENTS)})
        if rng.random() < 0.1:
            day = self.signup_day + rng.randint(1, 25)
            self.emit(self.local(day, rng.randint(9, 18), rng.randrange(60)), event="premium_feature_attempted",
                      data={"feature": rng.choice(PREMIUM_FEATURES)})

    def _weekly_updates(self) -> None:
        """A weekly sync of usage traits (Mondays at 06:00 in the account's zone)."""
        rng = self.rng
        days = (self.end - self.start).days
        for day in range(self.signup_day + 1, days):
            if (self.start.date() + timedelta(days=day)).weekday() != 0:
                continue
            self.tasks_done += rng.randint(0, 6)
            self.adoption = max(0, min(100, self.adoption + rng.randint(-5, 12)))
            self.seats_used = max(1, min(self.seats, self.seats_used + rng.randint(-1, max(1, self.seats // 10))))
            traits: dict[str, Any] = {"tasks_completed": self.tasks_done, "feature_adoption": self.adoption,
                                      "seats_used": self.seats_used}
            if self.scored:
                self.dau = max(0, min(100, self.dau + rng.randint(-15, 15)))
                traits["dau_pct"] = self.dau
            self.emit(self.local(day, 6, rng.randrange(60)), traits=traits)

    def _signals(self) -> None:
        """Occasional changes that cross an expansion, churn or advocacy threshold."""
        rng = self.rng
        last = (self.end - self.start).days - 1

        def when() -> datetime:
            day = min(last, self.signup_day + rng.randint(2, 25))
            return self.local(day, rng.randint(8, 20), rng.randrange(60))

        if rng.random() < 0.05:
            self.emit(when(), traits={"api_calls_pct": rng.randint(90, 100)})
        if rng.random() < 0.04:
            self.emit(when(), traits={"data_volume_gb": rng.randint(51, 90)})
        if rng.random() < 0.03:
            self.emit(when(), traits={"core_usage_trend": "declining", "ticket_trend": "increasing"})
        if rng.random() < 0.02:
            self.emit(when(), traits={"engagement_high": True, "referrals_90d": rng.randint(3, 6)})
        if rng.random() < 0.02:
            self.emit(when(), traits={"community_answers_30d": rng.randint(5, 12)})


def generate(accounts: int = 1000, days: int = 30, seed: int = 7, start: datetime = DEFAULT_START,
             logins_per_week: float = 5.0) -> list[dict[str, Any]]:
    """The timeline's objects, ordered by `at` (and by account and serial within an instant)."""
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = []
    for index in range(1, accounts + 1):
        account = _Account(index, random.Random(rng.getrandbits(64)), start, days)
        objects.extend(account.story(logins_per_week))
    objects.sort(key=lambda obj: (obj["at"], obj["account"], int(obj["id"].rsplit("-", 1)[1])))
    return objects


def summarize(objects: list[dict[str, Any]], accounts: int, days: int, seed: int, start: datetime) -> Summary:
    summary = Summary(accounts=accounts, days=days, seed=seed, start=start, events=len(objects))
    for obj in objects:
        if "event" in obj:
            summary.kinds[obj["event"]] += 1
        if "traits" in obj:
            summary.kinds["(traits)"] += 1
            if "segment" in obj["traits"]:
                summary.segments[obj["traits"]["segment"]] += 1
    summary.distinct_times = len({obj["at"] for obj in objects})
    return summary


def _dump(objects: list[dict[str, Any]], out: TextIO) -> None:
    for obj in objects:
        out.write(json.dumps(obj, separators=(",", ":")))
        out.write("\n")


def write(path: Path, accounts: int = 1000, days: int = 30, seed: int = 7, start: datetime = DEFAULT_START,
          logins_per_week: float = 5.0) -> Summary:
    objects = generate(accounts, days, seed, start, logins_per_week)
    with path.open("w", encoding="utf-8") as out:
        _dump(objects, out)
    return summarize(objects, accounts, days, seed, start)


def _date(raw: str) -> datetime:
    value = datetime.fromisoformat(raw.replace("Z", "+00:00")) if "T" in raw else \
        datetime.combine(date.fromisoformat(raw), datetime.min.time())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=_date, default=DEFAULT_START, help="ISO date (default 2026-01-05)")
    parser.add_argument("--logins-per-week", type=float, default=5.0, help="mean logins per account and week")
    parser.add_argument("--out", type=Path, help="output file (default: stdout)")
    args = parser.parse_args(argv)
    objects = generate(args.accounts, args.days, args.seed, args.start, args.logins_per_week)
    if args.out:
        with args.out.open("w", encoding="utf-8") as out:
            _dump(objects, out)
    else:
        _dump(objects, sys.stdout)
    summary = summarize(objects, args.accounts, args.days, args.seed, args.start)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
