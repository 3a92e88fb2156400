"""`playbook stats` over the whole store from the counts the store keeps as things happen: the
action log's tallies (`engine.store.action_tallies`), the journeys by status and the split
decisions by arm (`engine.store.playbook_tallies`), the tasks by statement with their times to
complete (`engine.store.task_tallies`). A read costs a few rows per playbook and statement,
however many journeys, tasks and actions there are. The same `Counts` and `ArmJourney`s as the
queries of `engine.insight.step_stats` give, which count afresh (for `since` or an audience).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.insight.step_stats import ActionCount, ArmJourney, Counts, JourneyCount, TaskCount

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["kept_arm_journeys", "kept_counts"]


def _ending_order(item: tuple[tuple[str, str, str | None], int]) -> tuple[str, str, bool, str]:
    (playbook, status, reason), _ = item  # no reason first
    return playbook, status, reason is not None, reason or ""


def kept_counts(store: Store, playbooks: list[str] | None = None) -> Counts:
    """Every aggregate `playbook stats` shows over the whole store, for these playbooks (all when None)."""
    rows = store.tallied_actions(playbooks)
    counts = Counts(
        actions=[ActionCount(playbook=r.playbook, path=r.path, kind=r.kind, what=r.what, outcome=r.outcome,
                             block=r.block, subject=r.subject, detail=r.detail, reason=r.reason, count=int(r.n))
                 for r in rows if r.path is not None and r.path not in ("enter", "end")],
        tasks=[TaskCount(playbook=t.playbook, path=t.path, opened=t.opened, completed=t.completed,
                         median_seconds=t.median_seconds, outcomes=t.outcomes) for t in store.task_tallies(playbooks)],
        entered={}, ended=[], active={},
        refusals={(str(r.playbook), str(r.what)): int(r.n) for r in rows if r.path is None and r.kind == "decided"},
    )
    ended: dict[tuple[str, str, str | None], int] = {}
    for row in store.journey_tallies(playbooks):  # summed over versions
        counts.entered[row.playbook] = counts.entered.get(row.playbook, 0) + row.n
        if row.status == "active":
            counts.active[row.playbook] = counts.active.get(row.playbook, 0) + row.n
        else:
            ended[(row.playbook, row.status, row.reason)] = ended.get((row.playbook, row.status, row.reason), 0) + row.n
    counts.ended = [JourneyCount(playbook=playbook, status=status, reason=reason, count=n)
                    for (playbook, status, reason), n in sorted(ended.items(), key=_ending_order)]
    return counts


def kept_arm_journeys(store: Store, playbooks: list[str]) -> list[ArmJourney]:
    """The split decisions of these playbooks' journeys by split, arm and journey status, each
    `ArmJourney` standing for `count` of them."""
    return [ArmJourney(playbook=row.playbook, path=row.path, label=row.label, status=row.status, count=row.n)
            for row in store.arm_tallies(playbooks)]
