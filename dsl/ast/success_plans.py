"""Success plans: milestones an account should reach in its first weeks, declared once for a folder
and started from a playbook (`start plan onboarding`)."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.ast.expressions import Expr
from dsl.ast.literals import Duration, TextLit
from dsl.ast.places import Name, Pos
from dsl.ast.statements import EventAlternative

__all__ = ["Milestone", "SuccessPlan"]


@dataclass(frozen=True, slots=True)
class Milestone:
    """`milestone first_project when event project_created within 14 days`, or `when CONDITION`:
    reached by the event (with its `where`) or the condition, due `within` from the plan's start."""

    pos: Pos
    name: Name
    event: EventAlternative | None
    condition: Expr | None
    within: Duration


@dataclass(frozen=True, slots=True)
class SuccessPlan:
    """`success plan onboarding "Onboarding":` and its milestones."""

    pos: Pos
    name: Name
    title: TextLit | None
    milestones: tuple[Milestone, ...]
