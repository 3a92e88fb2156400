"""A whole `.play` file: its top-level items and its comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.ast.declarations import AccountFields, Events, Metric, NamedAudience, Policy, Score
from dsl.ast.places import Comment, Pos
from dsl.ast.playbooks import Playbook
from dsl.ast.success_plans import SuccessPlan
from dsl.ast.work_items import TaskTemplate, TaskTypes, Team

__all__ = [
    "File",
    "FileItem",
]


FileItem = (AccountFields | Events | NamedAudience | Metric | Score | Policy | Playbook | TaskTypes | TaskTemplate
            | Team | SuccessPlan)


@dataclass(slots=True)
class File:
    """A whole `.play` file: its top-level items in order, and every comment in it."""

    pos: Pos
    path: str
    items: tuple[FileItem, ...]
    comments: list[Comment] = field(default_factory=list)
    line_count: int = 0
