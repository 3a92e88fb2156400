"""The story's lines about work: a work item's SLA, a drafted email's review, a success plan's
progress, each action told in words (`playbook why`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.insight.story_values import shown_time

__all__ = ["WORK_KINDS", "work_text"]

WORK_KINDS = frozenset({"task_overdue", "task_escalated", "email_drafted", "draft_approved", "draft_edited",
                        "draft_discarded", "draft_dropped", "draft_withdrawn"})


def work_text(kind: str, data: dict[str, Any], where: str, tz: str) -> str:
    """The line of one action of these kinds (a plan's: `plan_…`, `milestone_…`)."""
    if kind.startswith(("plan_", "milestone_")):
        return _plan_text(kind, data)
    if kind == "task_overdue":
        return f'task "{data.get("title")}" of {data.get("owner")} was not done by its due time: it is overdue.'
    if kind == "task_escalated":
        manager = data.get("to")
        if manager:
            return f'task "{data.get("title")}" was still open: escalated to {manager} ({data.get("role")}).'
        return f'task "{data.get("title")}" was still open but could not be escalated: {data.get("reason")}.'
    if kind == "email_drafted":
        by = data.get("review_by")
        shown = shown_time(datetime.fromisoformat(by), tz) if isinstance(by, str) else str(by)
        unanswered = "sent" if data.get("then") == "send" else "dropped"
        return (f"{where}drafted email {data.get('template')} to {data.get('to')} for {data.get('reviewer')} to "
                f"review by {shown} (unanswered: {unanswered}).")
    if kind in ("draft_dropped", "draft_withdrawn"):
        return f"draft {data.get('draft')} of email {data.get('template')} was not sent: {data.get('reason')}."
    verb = kind.removeprefix("draft_")
    by = f" by {data['by']}" if data.get("by") else ""
    why = f": {data['reason']}" if data.get("reason") else ""
    return f"draft {data.get('draft')} of email {data.get('template')} was {verb}{by}{why}."


def _plan_text(kind: str, data: dict[str, Any]) -> str:
    plan, milestone = data.get("plan"), data.get("milestone")
    status = str(data.get("status", "")).replace("_", " ")
    if kind == "plan_started":
        count = len(data.get("milestones") or [])
        return f"started success plan {plan}: {count} milestone{'' if count == 1 else 's'}."
    if kind == "milestone_reached":
        return f"reached milestone {milestone} of plan {plan}{' late' if data.get('late') else ''}."
    if kind == "milestone_late":
        return f"milestone {milestone} of plan {plan} was not reached by its due time: it is late."
    if kind == "plan_status_changed":
        return f"plan {plan} is now {status} (was {str(data.get('previous', '')).replace('_', ' ')})."
    missed = data.get("missed") or []
    return f"plan {plan} closed {status}" + (f"; missed: {', '.join(missed)}." if missed else ".")
