"""What a journey hands the task activity about a work item: its type, reason, description and
the due time of each step of its checklist, counted from the moment the task is created.

Pure: the times come from the journey's cursor and the account's time zone (business days skip
weekends as the due time of the task does), so a simulation and a live run give the same times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dsl.ir as ir
from engine.semantics import calendar
from engine.workflows.payloads import TaskStepParams

__all__ = ["work_item_params"]


def work_item_params(st: ir.CreateTask, cursor: datetime, timezone: str, path: str) -> dict[str, Any]:
    """The work-item keys of `TaskParams` for this task, created at `cursor` by statement `path`."""
    steps = [TaskStepParams(title=step.title,
                            due=calendar.add_duration(cursor, step.due, timezone) if step.due else None)
             for step in st.checklist]
    return {"task_type": st.task_type, "reason": st.reason, "description": st.description, "checklist": steps,
            "dedupe": st.dedupe, "assign": st.assign, "path": path}
