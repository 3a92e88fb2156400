"""Time triggers: date fields, schedules and weekly trend checks, per account and in its time zone.

- A date trigger (`90 days before renewal_date`) fires at that date's `at` (09:00) account time,
  computed from the field's value as of that instant, and only if the value was present then.
- A schedule (`every month`, `every quarter`, `every week on monday`) fires at each of its
  instants in the account's zone, for accounts that existed at the instant, each account at its
  own offset within the spread window (`engine.semantics.spread`), so that a cadence shared by
  every account does not start all their journeys in the same second.
- A trend (`weekly_logins down 40% week over week for 3 weeks`) is checked Mondays at 09:00
  account time and fires on the edge: at a check where it holds after a check where it did not.
  The edge is a pure function of the account's events, so re-checking a past week gives the
  same answer.

`TimeTriggers.due(after, until)` finds the firings with instants in (after, until];
`next_due(after)` the earliest instant after `after` at which one might fire.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dsl import ir
from engine.semantics import calendar, metrics
from engine.semantics.spread import spread_offset
from engine.store.snapshots import account_timezone

if TYPE_CHECKING:
    from engine.store.reads import RoutingReads

__all__ = ["Firing", "TimeTriggers", "configured_spread"]

Firing = tuple[datetime, str, ir.Playbook]  # (instant, account, playbook)


@functools.cache
def configured_spread() -> timedelta:
    """The spread window of schedules (`PLAYBOOK_SCHEDULE_SPREAD`), read once per process."""
    from engine.settings import Settings

    return Settings().schedule_spread


class TimeTriggers:
    """The time triggers of a bundle's playbooks. `spread`: the window schedules are spread over
    (default: the configured one)."""

    def __init__(self, store: RoutingReads, bundle: ir.Bundle, *, spread: timedelta | None = None) -> None:
        self.store = store
        self.bundle = bundle
        self.spread = configured_spread() if spread is None else spread
        self.playbooks = [
            playbook for _, playbook in sorted(bundle.playbooks.items())
            if isinstance(playbook.trigger, ir.DateTrigger | ir.ScheduleTrigger | ir.TrendTrigger)
        ]

    # ------------------------------------------------------------------ due

    def firings(self, after: datetime, until: datetime, accounts: Iterable[str] | None = None) -> list[Firing]:
        """Every time trigger that fires in (after, until], ordered by instant, account, playbook.

        `accounts` limits the search to those accounts (see `engine.routing.time_index`); default: all.
        """
        found: list[Firing] = []
        if until <= after or not self.playbooks:
            return found
        for account in (self.store.account_ids() if accounts is None else accounts):
            known = [self.store.fields_at(account, after), self.store.fields_at(account, until)]
            for playbook in self.playbooks:
                trigger = playbook.trigger
                if isinstance(trigger, ir.DateTrigger):
                    instants = self._date_instants(account, trigger, after, until, known)
                else:
                    instants = self._repeating_instants(account, trigger, after, until, known[-1])
                found.extend((instant, account, playbook) for instant in instants)
        return sorted(found, key=lambda firing: (firing[0], firing[1], firing[2].id))

    def _date_instants(
        self, account: str, trigger: ir.DateTrigger, after: datetime, until: datetime,
        known: list[dict[str, Any]],
    ) -> list[datetime]:
        """Instants of the field's values at `after` and `until` that it still had at the instant."""
        candidates = {
            instant for fields in known
            if (instant := _date_instant(trigger, fields)) is not None and after < instant <= until
        }
        return [instant for instant in sorted(candidates)
                if _date_instant(trigger, self.store.fields_at(account, instant)) == instant]

    def _repeating_instants(
        self, account: str, trigger: ir.Trigger, after: datetime, until: datetime, fields: dict[str, Any],
    ) -> list[datetime]:
        """Schedule instants, or weekly checks where the trend starts, for an account existing then."""
        tz = account_timezone(fields)
        found = []
        offset = self.offset(account, trigger)
        instant = _next_instant(trigger, after, fields, tz, offset)
        while instant is not None and instant <= until:
            if isinstance(trigger, ir.TrendTrigger):
                fires = self._trend_starts(account, trigger, instant, tz)
            else:
                fires = self._known_at(account, instant)
            if fires:
                found.append(instant)
            instant = _next_instant(trigger, instant, fields, tz, offset)
        return found

    def offset(self, account: str, trigger: ir.Trigger) -> timedelta:
        """How long after a schedule's instant the account's firing comes (zero for other triggers)."""
        return spread_offset(account, self.spread) if isinstance(trigger, ir.ScheduleTrigger) else timedelta(0)

    def _known_at(self, account: str, at: datetime) -> bool:
        """Whether the account had any field or event at `at` (a schedule skips it before that)."""
        return bool(self.store.fields_at(account, at)) or bool(self.store.events_until(account, at))

    def _trend_starts(self, account: str, trigger: ir.TrendTrigger, check: datetime, tz: str) -> bool:
        metric = self.bundle.model.metrics.get(trigger.metric)
        if metric is None:
            return False
        events = self.store.events_until(account, check, names={metric.event})
        previous = metrics.weekly_checks(check, 1, tz)[1]
        holds = metrics.trend_holds(events, metric, trigger, check, tz)
        return holds and not metrics.trend_holds(events, metric, trigger, previous, tz)

    # ------------------------------------------------------------------ next_due

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest instant strictly after `after` at which a time trigger may fire.

        Date instants come from the fields' current values: after routing a change to a date
        field, ask again.
        """
        best: datetime | None = None
        if not self.playbooks:
            return None
        for account, fields in self.store.all_fields().items():
            instant = self.next_for(account, fields, after)
            if instant is not None and (best is None or instant < best):
                best = instant
        return best

    def next_for(self, account: str, fields: dict[str, Any], after: datetime) -> datetime | None:
        """The earliest instant strictly after `after` at which a trigger may fire for the account
        with these fields."""
        tz = account_timezone(fields)
        instants = [instant for playbook in self.playbooks
                    if (instant := _next_instant(playbook.trigger, after, fields, tz,
                                                 self.offset(account, playbook.trigger))) is not None]
        return min(instants, default=None)


def _date_instant(trigger: ir.DateTrigger, fields: dict[str, Any]) -> datetime | None:
    return calendar.date_instant(fields.get(trigger.field), trigger.offset_days, trigger.at,
                                 account_timezone(fields))


def _next_instant(trigger: ir.Trigger, after: datetime, fields: dict[str, Any], tz: str,
                  offset: timedelta) -> datetime | None:
    if isinstance(trigger, ir.DateTrigger):
        instant = _date_instant(trigger, fields)
        return instant if instant is not None and instant > after else None
    if isinstance(trigger, ir.ScheduleTrigger):  # the schedule's next instant, moved by the account's offset
        return calendar.next_schedule_instant(after - offset, trigger, tz) + offset
    if isinstance(trigger, ir.TrendTrigger):
        return calendar.next_weekly_check(after, tz, trigger.at)
    return None
