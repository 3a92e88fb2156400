"""A journey's decisions, kept until the journey next logs them.

Every `if`, `split`, wait and timing call of a journey is a structured `Decision` (its sentence
from `engine.decision_text`) with a key `<workflow id>/<run id>/<path>/<what>/<n>`, `n`
numbering the decisions since the last time they were logged. The log holds them until the
journey next acts (an effect's activity logs those taken before it), waits (those of the steps
that finished) or ends (all of them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine import decision_text
from engine.records import Decision
from engine.workflows.journey_state import JourneyState

__all__ = ["DecisionLog"]


class DecisionLog:
    def __init__(self, state: JourneyState) -> None:
        self._state = state
        self._decisions: list[Decision] = []
        self._keys: list[str] = []
        self._due = 0  # decisions to log before the journey next waits (those of finished steps)
        self._counter = 0  # numbers the keys: the decisions since the last flush

    def decide(self, at: datetime, what: str, path: str, reads: dict[str, Any], *, outcome: str | None = None,
               block: str | None = None, subject: str | None = None, until: datetime | None = None,
               reason: str | None = None, **facts: Any) -> None:
        """Take a decision (`facts`: what its sentence quotes that is no field of it)."""
        inp = self._state.inp
        decision = Decision(at=at, account=inp.account, playbook=inp.playbook.id, what=what, reads=reads,
                            path=path, outcome=outcome, block=block, subject=subject, until=until, reason=reason)
        self._decisions.append(decision_text.decided(decision, **facts))
        self._keys.append(f"{self._state.key(path)}/{what}/{self._counter}")
        self._counter += 1

    def restart_count(self) -> None:
        """The decisions taken from now on go with a new statement's effect, or a new step."""
        self._counter = 0

    def step_done(self) -> None:
        """A step has run: its decisions are logged before the journey next waits or acts."""
        self._due = len(self._decisions)
        self._counter = 0

    def due(self, *, flush: bool) -> int:
        """How many decisions to log now: all of them with `flush`, else those of finished steps."""
        if flush:
            self._counter = 0
            return len(self._decisions)
        return self._due

    def take(self, count: int | None = None) -> tuple[list[Decision], list[str]]:
        """The first `count` decisions (all when None) and their keys, no longer kept."""
        count = len(self._decisions) if count is None else count
        decisions, keys = self._decisions[:count], self._keys[:count]
        del self._decisions[:count], self._keys[:count]
        self._due = 0
        return decisions, keys
