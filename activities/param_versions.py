"""Does a playbook's IR still fit the installed plugins? The parameter check of running versions.

A journey keeps the IR of the playbook version it entered with, parameters of its `do` steps
included; a plugin release that renames or adds a required parameter would fail the journey's
pending steps. `call_problems(registry, playbook)` lists, for each `do` of a playbook (however
deep), what the installed activity would refuse: the activity is gone, a parameter is neither
the model's nor an alias of one, or a required parameter is missing once the aliases are
applied. An activity with an `upgrade` hook is trusted with its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from activities.registry import Registry
from dsl import ir
from engine.semantics.ir_walk import walk

__all__ = ["CallProblem", "call_problems"]


@dataclass(frozen=True)
class CallProblem:
    step: str  # the statement's path, `day 3/0`
    activity: str
    problem: str

    def __str__(self) -> str:
        return f"{self.step}: do {self.activity}: {self.problem}"


def call_problems(registry: Registry, playbook: ir.Playbook) -> list[CallProblem]:
    problems: list[CallProblem] = []
    for step in playbook.steps:
        for path, statement in walk(step.body, step.name):
            if isinstance(statement, ir.Do):
                problems.extend(_problems(registry, path, statement))
    return problems


def _problems(registry: Registry, path: str, statement: ir.Do) -> list[CallProblem]:
    spec = registry.get(statement.activity)
    if spec is None or spec.internal:
        return [CallProblem(path, statement.activity, "the activity is not installed")]
    if spec.upgrade is not None:
        return []
    fields = spec.params.model_fields
    given = {spec.aliases.get(name, name) for name in statement.params}
    found = []
    unknown = sorted(name for name in statement.params if spec.aliases.get(name, name) not in fields)
    if unknown:
        found.append(CallProblem(path, statement.activity, f"no parameter {', '.join(unknown)} any more "
                                                           "(give the new name as an alias)"))
    missing = sorted(name for name, field in fields.items() if field.is_required() and name not in given)
    if missing:
        found.append(CallProblem(path, statement.activity, f"the required parameter {', '.join(missing)} "
                                                           "is not given"))
    return found
