"""Work items declared once for a folder: the task types and the task templates."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.ast.literals import Duration, TextLit
from dsl.ast.places import Name, Path, Pos

__all__ = ["ChecklistStep", "Escalation", "TaskTemplate", "TaskTypes", "Team"]


@dataclass(frozen=True, slots=True)
class TaskTypes:
    """`task types: risk, expansion, renewal, onboarding, lifecycle`."""

    pos: Pos
    names: tuple[Name, ...]


@dataclass(frozen=True, slots=True)
class Team:
    """`team smb_csms: "ana@vendor.example", "ben@vendor.example"`: people a task can be assigned
    to in turn (`for smb_csms by round robin`) or by load (`by least loaded`)."""

    pos: Pos
    name: Name
    members: tuple[TextLit, ...]


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    """`step "Review the usage report", due 2 business days` (a line of a task template)."""

    pos: Pos
    title: TextLit
    due: Duration | None = None


@dataclass(frozen=True, slots=True)
class Escalation:
    """`escalate to manager after 1 business day`: an item still open that long after it became
    overdue goes to `to` (`manager`: the manager of the task's owner; or any owner field)."""

    pos: Pos
    to: Path
    after: Duration


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """`task template renewal_call:` with its lines: title, type, reason, description, due,
    priority and the checklist's steps. A `create task renewal_call for csm` takes them all; what
    the statement writes itself wins."""

    pos: Pos
    name: Name
    title: TextLit | None = None
    task_type: Name | None = None
    reason: Name | None = None
    description: TextLit | None = None
    due: Duration | None = None
    priority: Name | None = None
    steps: tuple[ChecklistStep, ...] = ()
    dedupe: Pos | None = None  # where `dedupe by type and reason` is written, if it is
    escalation: Escalation | None = None
