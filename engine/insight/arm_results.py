"""The results of an A/B split, per arm: journeys entered, what each arm sent, goals reached, and the
difference in goal conversion between each arm and the first, with a 95% confidence interval.

The interval is Newcombe's hybrid score interval for a difference of two proportions (built from
each arm's Wilson interval), which stays sensible for small counts and rates near 0% or 100%. Below
`MIN_PER_ARM` journeys in either arm there is no verdict, only "not enough data" with the counts:
a difference seen on a handful of accounts is noise more often than not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pydantic import BaseModel

from dsl import ir
from dsl.ir_text import describe_statement
from engine.insight.step_stats import ArmJourney
from engine.semantics.ir_walk import walk

__all__ = ["MIN_PER_ARM", "ArmComparison", "ArmResult", "SplitResults", "split_results", "wilson"]

MIN_PER_ARM = 30  # journeys per arm below which a comparison says "not enough data"
_Z = 1.959964  # two-sided 95%


class ArmResult(BaseModel):
    label: str
    percent: float  # its share of the split
    entered: int  # journeys the split put in this arm
    goal_reached: int  # of those, journeys that reached the playbook's goal
    conversion: float | None  # goal_reached / entered, 0 to 1 (None: none entered)
    sent: dict[str, int] = {}  # emails and in-app messages sent in the arm, by template


class ArmComparison(BaseModel):
    arm: str
    baseline: str  # the split's first arm
    difference: float | None = None  # conversion of `arm` minus the baseline's, in percentage points
    low: float | None = None  # 95% confidence interval of the difference, in points
    high: float | None = None
    verdict: str  # words for people: "not enough data (…)", "no clear difference", "converts better"


class SplitResults(BaseModel):
    path: str  # the split's statement path
    statement: str  # as written: `split 50% / 50% record arm as trial_offer`
    arms: list[ArmResult]
    comparisons: list[ArmComparison]


def wilson(successes: int, total: int) -> tuple[float, float]:
    """The Wilson score interval (95%) of a proportion."""
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    denominator = 1 + _Z * _Z / total
    centre = (p + _Z * _Z / (2 * total)) / denominator
    half = _Z * math.sqrt(p * (1 - p) / total + _Z * _Z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _compare(arm: ArmResult, baseline: ArmResult) -> ArmComparison:
    if min(arm.entered, baseline.entered) < MIN_PER_ARM:
        return ArmComparison(arm=arm.label, baseline=baseline.label,
                             verdict=f"not enough data ({arm.entered} and {baseline.entered} journeys; "
                                     f"{MIN_PER_ARM} per arm needed)")
    p1, p2 = arm.goal_reached / arm.entered, baseline.goal_reached / baseline.entered
    l1, u1 = wilson(arm.goal_reached, arm.entered)
    l2, u2 = wilson(baseline.goal_reached, baseline.entered)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    if low > 0:
        verdict = f"{arm.label} converts better than {baseline.label}"
    elif high < 0:
        verdict = f"{arm.label} converts worse than {baseline.label}"
    else:
        verdict = "no clear difference"
    return ArmComparison(arm=arm.label, baseline=baseline.label, difference=round(difference * 100, 1),
                         low=round(low * 100, 1), high=round(high * 100, 1), verdict=verdict)


def split_results(playbook: ir.Playbook, journeys: Iterable[ArmJourney],
                  sent: dict[str, dict[str, int]]) -> list[SplitResults]:
    """The results of every split of the playbook. `sent` holds the sends counted per statement path
    (`{path: {template: count}}`), which an arm's sends are summed from."""
    taken: dict[tuple[str, str], dict[str, int]] = {}  # (path, label) -> journeys by status
    for journey in journeys:
        if journey.playbook == playbook.id:
            statuses = taken.setdefault((journey.path, journey.label), {})
            statuses[journey.status] = statuses.get(journey.status, 0) + journey.count
    results: list[SplitResults] = []
    for step in playbook.steps:
        for path, statement in walk(step.body, step.name):
            if not isinstance(statement, ir.Split):
                continue
            arms: list[ArmResult] = []
            for number, arm in enumerate(statement.arms, start=1):
                label = arm.label or str(number)
                statuses = taken.get((path, label), {})
                goals, entered = statuses.get("goal_reached", 0), sum(statuses.values())
                inside = f"{path}/arm{number}/"
                totals: dict[str, int] = {}
                for where, templates in sent.items():
                    if where.startswith(inside):
                        for template, count in templates.items():
                            totals[template] = totals.get(template, 0) + count
                arms.append(ArmResult(label=label, percent=arm.percent, entered=entered, goal_reached=goals,
                                      conversion=round(goals / entered, 4) if entered else None,
                                      sent=dict(sorted(totals.items()))))
            comparisons = [_compare(arm, arms[0]) for arm in arms[1:]]
            results.append(SplitResults(path=path, statement=describe_statement(statement), arms=arms,
                                        comparisons=comparisons))
    return results
