"""What a playbook depends on (for re-evaluation and signals), and triggers rendered as written."""

from __future__ import annotations

import pytest

from dsl import ir
from dsl.ir_text import describe_trigger
from engine.routing.dependencies import expression_reads, playbook_inputs

HEALTH = ir.ScoreModel(
    name="health",
    components=(
        ir.Component(name="c", max_points=10, inputs=("dau_pct", "nps"), rules=(ir.PointRule(points=10),)),
    ),
    bands=(ir.Band(name="red", low=0, high=10),),
)
BUNDLE = ir.Bundle(
    model=ir.Model(
        metrics={
            "weekly_logins": ir.MetricDef(
                name="weekly_logins", event="login", window=ir.Duration(amount=7, unit="days")
            )
        }
    ),
    scores={"health": HEALTH},
)
WEEK = ir.Duration(amount=7, unit="days")


def test_reads_count_scores_as_their_inputs_and_metrics_as_their_events() -> None:
    expr = ir.Logic(
        op="or",
        args=(
            ir.BandIs(score="health", band="red"),
            ir.Compare(
                op="<", left=ir.MetricRef(metric="weekly_logins"), right=ir.Literal_(type="number", value=2)
            ),
            ir.Not(arg=ir.Seen(event="project_created")),
            ir.Compare(
                op=">=",
                left=ir.FieldRef(path=("seats_used",)),
                right=ir.PercentOf(
                    percent=ir.Literal_(type="percent", value=80), of=ir.FieldRef(path=("csm", "seats"))
                ),
            ),
        ),
    )
    reads = expression_reads(expr, BUNDLE)
    assert reads.fields == {"dau_pct", "nps", "seats_used", "csm"}
    assert reads.events == {"login", "project_created"}


def test_journeys_listen_to_exit_goal_and_wait_events_and_watch_exit_goal_and_date_fields() -> None:
    playbook = ir.Playbook(
        id="p",
        trigger=ir.EventTrigger(event="signed"),
        exits=(ir.ExitRule(event="churned"), ir.ExitRule(condition=ir.BandIs(score="health", band="red"))),
        goal=ir.Compare(
            op=">=", left=ir.FieldRef(path=("feature_adoption",)), right=ir.Literal_(type="percent", value=30)
        ),
        goal_events=("upgraded",),
        steps=(
            ir.Step(
                name="day 1",
                offset=ir.Duration(amount=1, unit="days"),
                body=(
                    ir.If(
                        condition=ir.FieldRef(path=("segment",)),
                        then=(ir.WaitUntil(events=("project_created",), timeout=WEEK),),
                    ),
                ),
            ),
            ir.Step(
                name="60 days before renewal_date",
                anchor="renewal_date",
                offset_days=-60,
                body=(
                    ir.Split(
                        arms=(
                            ir.SplitArm(
                                percent=100,
                                body=(
                                    ir.WaitUntil(task_done=True, timeout=WEEK),
                                    ir.WaitUntil(events=("replied",), timeout=WEEK),
                                ),
                            ),
                        )
                    ),
                ),
            ),
        ),
    )
    inputs = playbook_inputs(playbook, BUNDLE)
    assert inputs.listened_events == {"churned", "upgraded", "project_created", "replied"}
    assert inputs.watched_fields == {"dau_pct", "nps", "feature_adoption", "renewal_date"}
    assert inputs.trigger.fields == set() and inputs.trigger.events == set()


@pytest.mark.parametrize(
    ("trigger", "shown"),
    [
        (ir.EventTrigger(event="signed"), "event signed"),
        (
            ir.EventTrigger(
                event="nps_response",
                where=ir.Compare(
                    op=">=", left=ir.EventField(name="score"), right=ir.Literal_(type="number", value=9)
                ),
            ),
            "event nps_response where score >= 9",
        ),
        (ir.ConditionTrigger(condition=ir.BandIs(score="health", band="red")), "health becomes red"),
        (
            ir.ConditionTrigger(
                condition=ir.Compare(
                    op=">=",
                    left=ir.FieldRef(path=("api_calls_pct",)),
                    right=ir.Literal_(type="percent", value=90),
                )
            ),
            "api_calls_pct >= 90%",
        ),
        (ir.DateTrigger(field="renewal_date", offset_days=-90), "90 days before renewal_date"),
        (
            ir.DateTrigger(field="signed_date", offset_days=14, at="10:00"),
            "14 days after signed_date at 10:00",
        ),
        (ir.ScheduleTrigger(every="month"), "every month"),
        (ir.ScheduleTrigger(every="month", day=15, at="11:00"), "every month on day 15 at 11:00"),
        (ir.ScheduleTrigger(every="quarter"), "every quarter"),
        (ir.ScheduleTrigger(every="week", day=1, at="09:00"), "every week on monday at 09:00"),
        (
            ir.TrendTrigger(metric="weekly_logins", direction="down", percent=40, weeks=3),
            "weekly_logins down 40% week over week for 3 weeks",
        ),
    ],
)
def test_triggers_are_described_as_written(trigger: ir.Trigger, shown: str) -> None:
    assert describe_trigger(trigger) == shown
