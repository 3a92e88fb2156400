"""The rules of success plans: `success plan NAME "Title":`, its milestones, and `start plan NAME`."""

from __future__ import annotations

from typing import Any

from dsl import ast
from dsl.transformer.places import RuleBase

__all__ = ["SuccessPlanRules"]


class SuccessPlanRules(RuleBase):
    def success_plan(self, pos: ast.Pos, children: list[Any]) -> ast.SuccessPlan:
        name, *rest = children
        title = rest[0] if rest and isinstance(rest[0], ast.TextLit) else None
        milestones = tuple(child for child in rest if isinstance(child, ast.Milestone))
        return ast.SuccessPlan(pos, name, title, milestones)

    def milestone(self, pos: ast.Pos, children: list[Any]) -> ast.Milestone:
        name, test, within = children
        if isinstance(test, ast.EventAlternative):
            if test.since_entry:
                self._fail(test.pos, "a milestone counts from the plan's start: 'since entry' does not apply",
                           code="syntax")
            return ast.Milestone(pos, name, test, None, within)
        return ast.Milestone(pos, name, None, test, within)

    def start_plan(self, pos: ast.Pos, children: list[ast.Name]) -> ast.StartPlan:
        return ast.StartPlan(pos, children[0])
