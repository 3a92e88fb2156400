"""What a journey tells a simulation's timeline about when it next acts: its plan.

A simulation's timeline holds a *plan* for each journey (the moments it may next act at), so it
knows how far it may take events in one go without overtaking the journey. The starter notes
the entry; the journey reports a new plan only when it is about to wait for a moment its plan
does not list first (waiting as planned needs no report). Outside simulations
(`report_agenda` false) there is nothing to report and every plan is empty.
"""

from __future__ import annotations

from datetime import datetime

import dsl.ir as ir
from engine.semantics import calendar
from engine.workflows.payloads import JourneyInput

__all__ = ["SimulationAgenda"]


class SimulationAgenda:
    def __init__(self, inp: JourneyInput) -> None:
        self._reporting = inp.report_agenda
        self._entry_at = inp.entry_at
        self._plan: list[datetime] = [inp.entry_at]  # as the timeline holds it
        self._later: list[datetime] = []  # the moments of the entry-anchored steps to come

    def at_step(self, steps: tuple[ir.Step, ...], index: int, timezone: str) -> None:
        """The journey is at step `index`: the entry-anchored steps after it are still to come
        (a `day N at HH:MM` step at that time in the account's `timezone` at entry)."""
        if self._reporting:
            self._later = [calendar.entry_step_instant(self._entry_at, later.offset, later.day_at, timezone)
                           for later in steps[index + 1:] if later.anchor == "entry"]

    def replan(self, agenda: datetime | None, now: datetime, held: list[datetime]) -> list[datetime]:
        """The plan to report before the journey waits until `agenda` (its held emails going out
        at `held`), or empty when there is none to report."""
        if agenda is None or not self._reporting:
            return []
        first = min([agenda, *held])  # a held email acts before the journey's next step
        if [t for t in self._plan if t > now][:1] == [first]:
            return []
        return sorted({first, agenda, *(t for t in [*self._later, *held] if t > first)})

    def reported(self, plan: list[datetime]) -> None:
        """The timeline now holds `plan` (nothing changes for an empty one)."""
        if plan:
            self._plan = plan
