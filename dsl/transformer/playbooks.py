"""The rules of playbooks: clauses, triggers, steps and blocks."""

from __future__ import annotations

from typing import Any, Literal

from lark import Token

from dsl import ast
from dsl.transformer.places import Marker, RuleBase

__all__ = ["PlaybookRules"]


class PlaybookRules(RuleBase):
    """A playbook, its clauses and triggers, its steps and their blocks."""

    # ------------------------------------------------------------------ playbooks

    def playbook(self, pos: ast.Pos, children: list[Any]) -> ast.Playbook:
        name: ast.Name = children[0]
        rest = children[1:]
        title = rest.pop(0) if rest and isinstance(rest[0], ast.TextLit) else None
        return ast.Playbook(pos, name, title, tuple(rest))

    def trigger_clause(self, pos: ast.Pos, children: list[ast.Trigger]) -> ast.TriggerClause:
        return ast.TriggerClause(pos, children[0])

    def audience_clause(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.AudienceClause:
        return ast.AudienceClause(pos, children[0])

    def exit_clause(self, pos: ast.Pos, children: list[Any]) -> ast.ExitClause:
        return ast.ExitClause(pos, tuple(children))

    def goal_clause(self, pos: ast.Pos, children: list[Any]) -> ast.GoalClause:
        return ast.GoalClause(pos, tuple(children))

    def event_alternative(self, pos: ast.Pos, children: list[Any]) -> ast.EventAlternative:
        return ast.EventAlternative(pos, children[0], children[1] if len(children) > 1 else None)

    def reentry_never(self, pos: ast.Pos, children: list[Any]) -> ast.ReentryClause:
        return ast.ReentryClause(pos, "never")

    def reentry_after(self, pos: ast.Pos, children: list[ast.Duration]) -> ast.ReentryClause:
        return ast.ReentryClause(pos, "after", children[0])

    def send_policy_clause(self, pos: ast.Pos, children: list[ast.Name]) -> ast.SendPolicyClause:
        return ast.SendPolicyClause(pos, children[0])

    def priority_clause(self, pos: ast.Pos, children: list[ast.Name]) -> ast.PriorityClause:
        return ast.PriorityClause(pos, children[0])

    # ------------------------------------------------------------------ triggers

    def event_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.EventTrigger:
        where = children[1] if len(children) > 1 else None
        return ast.EventTrigger(pos, children[0], where)

    def becomes_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.BecomesTrigger:
        return ast.BecomesTrigger(pos, children[0], children[1])

    def change_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.ChangeTrigger:
        ends = {marker.kind: marker.value for marker in children[1:]}
        return ast.ChangeTrigger(pos, children[0], ends.get("from"), ends.get("to"))

    def change_from(self, pos: ast.Pos, children: list[ast.TriggerValue]) -> Marker:
        return Marker("from", pos, children[0])

    def change_to(self, pos: ast.Pos, children: list[ast.TriggerValue]) -> Marker:
        return Marker("to", pos, children[0])

    def condition_trigger(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.ConditionTrigger:
        return ast.ConditionTrigger(pos, children[0])

    def date_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.DateTrigger:
        amount, unit, direction, field, *at = children
        return ast.DateTrigger(
            pos, self._whole(amount, unit), _plural(unit), _before_after(direction), field, at[0] if at else None
        )

    def schedule_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.ScheduleTrigger:
        every: str = children[0]
        day: int | None = None
        weekday: ast.Name | None = None
        at: ast.TimeOfDay | None = None
        for child in children[1:]:
            if isinstance(child, ast.TimeOfDay):
                at = child
            elif isinstance(child, ast.Name):
                weekday = child
            else:
                day = child.value
        return ast.ScheduleTrigger(pos, str(every), day, weekday, at)  # type: ignore[arg-type]

    def month_day(self, pos: ast.Pos, children: list[Token]) -> Marker:
        return Marker("day", pos, self._whole(children[0], "days"))

    def weekday(self, pos: ast.Pos, children: list[ast.Name]) -> ast.Name:
        return children[0]

    def trend_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.TrendTrigger:
        metric, direction, percent, weeks = children
        return ast.TrendTrigger(
            pos, metric, "down" if direction == "down" else "up", self._percent(percent), self._whole(weeks, "weeks")
        )

    # ------------------------------------------------------------------ steps and blocks

    def day_step(self, pos: ast.Pos, children: list[Any]) -> ast.DayStep:
        at = children[1] if len(children) == 3 else None
        return ast.DayStep(pos, self._whole(children[0], "days"), children[-1], at)

    def date_step(self, pos: ast.Pos, children: list[Any]) -> ast.DateStep:
        amount, unit, direction, field, *rest = children
        at = rest[0] if len(rest) == 2 else None
        return ast.DateStep(
            pos, self._whole(amount, unit), _plural(unit), _before_after(direction), field, at, rest[-1]
        )

    def block(self, pos: ast.Pos, statements: list[ast.Statement]) -> tuple[ast.Statement, ...]:
        return tuple(statements)


def _before_after(word: str) -> Literal["before", "after"]:
    return "before" if word == "before" else "after"


def _plural(unit: str) -> Literal["days", "weeks"]:
    return "weeks" if unit.startswith("week") else "days"
