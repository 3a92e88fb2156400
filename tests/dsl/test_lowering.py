"""Lowering: each construct of the language means the IR the engine runs."""

from __future__ import annotations

from textwrap import dedent

import pytest

from dsl import ir
from dsl.lowering import lower
from dsl.parser import parse

MODEL = """\
account fields:
    segment: one of enterprise, mid_market, smb, trial
    arr: money
    seats_used: number
    seats_licensed: number
    feature_adoption: percent
    tasks_completed: number
    renewal_date: date
    signed_date: date
    lifecycle_stage: text
    engagement_high: boolean
    csm: owner
    primary_contact: contact

events:
    signed
    churned
    login
    project_created
    upgraded
    nps_response: score number, comment text

metric weekly_logins = count login over 7 days

score health "Account health":
    component usage max 100:
        100 if feature_adoption >= 60% and arr > 10k
        50 if exactly 1 of (feature_adoption >= 60%, arr > 10k)
        0 otherwise
    bands:
        green: 80 to 100
        yellow: 50 to 79
        red: 0 to 49

policy:
    quiet hours 20:00 to 08:00 account time
    at most 3 emails per account per 7 days
"""


def bundle_of(text: str) -> ir.Bundle:
    files = [parse(MODEL, "model.play"), parse(dedent(text), "playbook.play")]
    return lower(files, {})


def playbook_of(body: str, trigger: str = "event signed") -> ir.Playbook:
    lines = "".join(f"    {line}\n" for line in dedent(body).splitlines())
    return bundle_of(f'playbook p "P":\n    trigger: {trigger}\n{lines}').playbooks["p"]


def audience_of(text: str) -> ir.Expr:
    audience = playbook_of(f"audience: {text}").audience
    assert audience is not None
    return audience


def field(*path: str) -> ir.FieldRef:
    return ir.FieldRef(path=path)


def number(value: float, kind: ir.ValueType = "number") -> ir.Literal_:
    return ir.Literal_(type=kind, value=value)


# --------------------------------------------------------------------------- model, scores, policy


def test_the_model_holds_fields_events_and_metrics() -> None:
    model = bundle_of("").model
    assert model.fields["segment"] == ir.FieldType(type="enum", values=("enterprise", "mid_market", "smb", "trial"))
    assert model.fields["arr"] == ir.FieldType(type="money")
    assert model.events["nps_response"].payload == {
        "score": ir.FieldType(type="number"),
        "comment": ir.FieldType(type="text"),
    }
    assert model.events["signed"].payload == {}
    assert model.metrics["weekly_logins"] == ir.MetricDef(
        name="weekly_logins", event="login", window=ir.Duration(amount=7, unit="days")
    )


def test_a_score_model_keeps_rules_in_order_bands_and_the_fields_it_reads() -> None:
    score = bundle_of("").scores["health"]
    assert score.title == "Account health"
    (component,) = score.components
    assert component.max_points == 100 and component.inputs == ("feature_adoption", "arr")
    first, second, last = component.rules
    assert first.points == 100 and first.when == ir.Logic(
        op="and",
        args=(
            ir.Compare(op=">=", left=field("feature_adoption"), right=number(60, "percent")),
            ir.Compare(op=">", left=field("arr"), right=number(10_000, "money")),
        ),
    )
    assert isinstance(second.when, ir.CountTrue) and (second.when.op, second.when.count) == ("exactly", 1)
    assert last == ir.PointRule(points=0, when=None)
    assert [(b.name, b.low, b.high) for b in score.bands] == [("green", 80, 100), ("yellow", 50, 79), ("red", 0, 49)]


def test_the_policy_has_quiet_hours_and_caps() -> None:
    policy = bundle_of("").policy
    assert policy.quiet_hours == ir.QuietHours(start="20:00", end="08:00")
    assert policy.caps == (ir.FrequencyCap(channel="email", count=3, per=ir.Duration(amount=7, unit="days")),)


# --------------------------------------------------------------------------- triggers


def test_event_trigger_where_reads_payload_keys_first() -> None:
    trigger = playbook_of("send email thanks", trigger="event nps_response where score >= 9 and arr > 5k").trigger
    assert trigger == ir.EventTrigger(
        event="nps_response",
        where=ir.Logic(
            op="and",
            args=(
                ir.Compare(op=">=", left=ir.EventField(name="score"), right=number(9)),
                ir.Compare(op=">", left=field("arr"), right=number(5000, "money")),
            ),
        ),
    )


def test_becomes_is_an_edge_trigger_on_the_band() -> None:
    trigger = playbook_of("send email x", trigger="health becomes red").trigger
    assert trigger == ir.ConditionTrigger(condition=ir.BandIs(score="health", band="red"))


def test_a_condition_trigger_with_percent_of() -> None:
    trigger = playbook_of("send email x", trigger="seats_used >= 80% of seats_licensed").trigger
    assert trigger == ir.ConditionTrigger(
        condition=ir.Compare(
            op=">=",
            left=field("seats_used"),
            right=ir.PercentOf(percent=number(80, "percent"), of=field("seats_licensed")),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90 days before renewal_date", ir.DateTrigger(field="renewal_date", offset_days=-90, at="09:00")),
        ("14 days after signed_date at 10:00", ir.DateTrigger(field="signed_date", offset_days=14, at="10:00")),
        ("2 weeks before renewal_date", ir.DateTrigger(field="renewal_date", offset_days=-14, at="09:00")),
        ("every month", ir.ScheduleTrigger(every="month", day=1, at="10:00")),
        ("every month on day 15 at 11:00", ir.ScheduleTrigger(every="month", day=15, at="11:00")),
        ("every quarter", ir.ScheduleTrigger(every="quarter", day=1, at="10:00")),
        ("every week on wednesday at 09:00", ir.ScheduleTrigger(every="week", day=3, at="09:00")),
        (
            "weekly_logins down 40% week over week for 3 weeks",
            ir.TrendTrigger(metric="weekly_logins", direction="down", percent=40, weeks=3),
        ),
    ],
)
def test_date_schedule_and_trend_triggers(text: str, expected: ir.Trigger) -> None:
    assert playbook_of("send email x", trigger=text).trigger == expected


# --------------------------------------------------------------------------- header clauses


def test_exit_gives_one_rule_per_alternative() -> None:
    playbook = playbook_of("exit: event churned or health is red")
    assert playbook.exits == (
        ir.ExitRule(event="churned"),
        ir.ExitRule(condition=ir.BandIs(score="health", band="red")),
    )


def test_goal_puts_events_aside_and_joins_conditions_with_or() -> None:
    playbook = playbook_of("goal: event upgraded or feature_adoption >= 30% or tasks_completed > 10")
    assert playbook.goal_events == ("upgraded",)
    assert playbook.goal == ir.Logic(
        op="or",
        args=(
            ir.Compare(op=">=", left=field("feature_adoption"), right=number(30, "percent")),
            ir.Compare(op=">", left=field("tasks_completed"), right=number(10)),
        ),
    )


def test_a_single_goal_condition_is_kept_as_is() -> None:
    playbook = playbook_of("goal: feature_adoption >= 30%")
    assert playbook.goal == ir.Compare(op=">=", left=field("feature_adoption"), right=number(30, "percent"))
    assert playbook.goal_events == ()


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("", ir.Reentry(mode="after_end")),
        ("reentry: never", ir.Reentry(mode="never")),
        ("reentry: after 30 days", ir.Reentry(mode="after", after=ir.Duration(amount=30, unit="days"))),
    ],
)
def test_reentry(clause: str, expected: ir.Reentry) -> None:
    assert playbook_of(f"{clause}\nsend email x").reentry == expected


def test_audience_with_money_and_text() -> None:
    assert audience_of('segment == "smb" and arr < 25k') == ir.Logic(
        op="and",
        args=(
            ir.Compare(op="==", left=field("segment"), right=ir.Literal_(type="text", value="smb")),
            ir.Compare(op="<", left=field("arr"), right=number(25_000, "money")),
        ),
    )


# --------------------------------------------------------------------------- steps


def test_day_steps_are_offsets_from_entry() -> None:
    playbook = playbook_of("day 0:\n    send email welcome\nday 7:\n    send email first_project")
    assert [(s.name, s.anchor, s.offset) for s in playbook.steps] == [
        ("day 0", "entry", ir.Duration(amount=0, unit="days")),
        ("day 7", "entry", ir.Duration(amount=7, unit="days")),
    ]


def test_date_steps_follow_their_field_at_nine_unless_told() -> None:
    playbook = playbook_of(
        "60 days before renewal_date:\n    send email a\n1 day after renewal_date at 14:30:\n    send email b",
        trigger="90 days before renewal_date",
    )
    first, second = playbook.steps
    assert (first.name, first.anchor, first.offset_days, first.at) == (
        "60 days before renewal_date",
        "renewal_date",
        -60,
        "09:00",
    )
    assert (second.name, second.offset_days, second.at) == ("1 day after renewal_date", 1, "14:30")


def test_statements_under_the_playbook_form_a_first_entry_step() -> None:
    playbook = playbook_of("send email welcome\nwait 2 days\nsend email nudge\nday 7:\n    send email later")
    entry, day7 = playbook.steps
    assert entry.name == "entry" and entry.anchor == "entry" and entry.offset == ir.Duration(amount=0, unit="days")
    assert entry.body == (
        ir.SendEmail(template="welcome"),
        ir.Wait(duration=ir.Duration(amount=2, unit="days")),
        ir.SendEmail(template="nudge"),
    )
    assert day7.name == "day 7"


# --------------------------------------------------------------------------- statements


def body_of(text: str) -> tuple[ir.Statement, ...]:
    return playbook_of(text).steps[0].body


def test_send_statements() -> None:
    assert body_of("send email welcome to csm.manager\nsend email hello\nsend in_app tour") == (
        ir.SendEmail(template="welcome", to=("csm", "manager")),
        ir.SendEmail(template="hello", to=("primary_contact",)),
        ir.SendInApp(template="tour"),
    )


def test_create_task_with_defaults_and_options() -> None:
    first, second = body_of(
        'create task "Outreach: {{ account.name }}" for csm.manager due 48h priority urgent\n'
        'create task "Check-in" for csm'
    )
    assert first == ir.CreateTask(
        title="Outreach: {{ account.name }}",
        owner=("csm", "manager"),
        due=ir.Duration(amount=48, unit="hours"),
        priority="urgent",
    )
    assert second == ir.CreateTask(title="Check-in", owner=("csm",), due=None, priority="normal")


def test_set_update_and_do() -> None:
    set_field, update, call = body_of(
        'set lifecycle_stage = "adopting"\nupdate score health\n'
        'do slack.notify channel="#cs" text="Red: {{ account.name }}" count=-2 loud=true to=csm.email'
    )
    assert set_field == ir.SetField(field="lifecycle_stage", value=ir.Literal_(type="text", value="adopting"))
    assert update == ir.UpdateScore(score="health")
    assert call == ir.Do(
        activity="slack.notify",
        params={
            "channel": ir.ParamValue(kind="literal", value="#cs"),
            "text": ir.ParamValue(kind="template", value="Red: {{ account.name }}"),
            "count": ir.ParamValue(kind="literal", value=-2),
            "loud": ir.ParamValue(kind="literal", value=True),
            "to": ir.ParamValue(kind="field", path=("csm", "email")),
        },
    )


def test_waits() -> None:
    assert body_of(
        "wait 2 business days\nwait until event project_created or event login or 7 days\nwait until task done or 48h"
    ) == (
        ir.Wait(duration=ir.Duration(amount=2, unit="business_days")),
        ir.WaitUntil(events=("project_created", "login"), timeout=ir.Duration(amount=7, unit="days")),
        ir.WaitUntil(task_done=True, timeout=ir.Duration(amount=48, unit="hours")),
    )


def test_unless_is_a_negated_if_that_keeps_its_line() -> None:
    (statement,) = body_of("unless seen project_created:\n    send email first_project")
    assert statement == ir.If(
        condition=ir.Not(arg=ir.Seen(event="project_created")),
        then=(ir.SendEmail(template="first_project"),),
        negated=True,
        line=3,
    )


def test_if_else_and_task_state() -> None:
    (statement,) = body_of("if task open:\n    send email a\nelse:\n    send email b")
    assert statement == ir.If(
        condition=ir.TaskState(state="open"),
        then=(ir.SendEmail(template="a"),),
        otherwise=(ir.SendEmail(template="b"),),
        line=3,
    )


def test_split_pairs_each_share_with_its_block() -> None:
    (statement,) = body_of("split 30% / 70%:\n    a:\n        send email short\n    b:\n        send email long")
    assert statement == ir.Split(
        arms=(
            ir.SplitArm(percent=30, body=(ir.SendEmail(template="short"),), label="a"),
            ir.SplitArm(percent=70, body=(ir.SendEmail(template="long"),), label="b"),
        )
    )


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("health > 50", ir.Compare(op=">", left=ir.ScoreRef(score="health"), right=number(50))),
        ("health.score > 50", ir.Compare(op=">", left=ir.ScoreRef(score="health"), right=number(50))),
        (
            'health.band == "red"',
            ir.Compare(
                op="==", left=ir.ScoreRef(score="health", part="band"), right=ir.Literal_(type="text", value="red")
            ),
        ),
        ("health is not red", ir.Not(arg=ir.BandIs(score="health", band="red"))),
        (
            "segment is smb",
            ir.Compare(op="==", left=field("segment"), right=ir.Literal_(type="text", value="smb")),
        ),
        (
            "segment is not trial",
            ir.Compare(op="!=", left=field("segment"), right=ir.Literal_(type="text", value="trial")),
        ),
        ("weekly_logins < 3", ir.Compare(op="<", left=ir.MetricRef(metric="weekly_logins"), right=number(3))),
        (
            "csm.manager.email == csm.email",
            ir.Compare(op="==", left=field("csm", "manager", "email"), right=field("csm", "email")),
        ),
        ("seen login within 7 days", ir.Seen(event="login", within=ir.Duration(amount=7, unit="days"))),
        ("seen signed more than 30 days ago", ir.Seen(event="signed", older_than=ir.Duration(amount=30, unit="days"))),
        ("seen signed since entry", ir.Seen(event="signed", since_entry=True)),
        ("not engagement_high", ir.Not(arg=field("engagement_high"))),
        ("(engagement_high)", field("engagement_high")),
        (
            "at least 2 of (engagement_high, arr > 1m, seats_used >= 10)",
            ir.CountTrue(
                op="at_least",
                count=2,
                args=(
                    field("engagement_high"),
                    ir.Compare(op=">", left=field("arr"), right=number(1_000_000, "money")),
                    ir.Compare(op=">=", left=field("seats_used"), right=number(10)),
                ),
            ),
        ),
        (
            "seats_used * 2 - 1 > -seats_licensed",
            ir.Compare(
                op=">",
                left=ir.Arith(
                    op="-", left=ir.Arith(op="*", left=field("seats_used"), right=number(2)), right=number(1)
                ),
                right=ir.Arith(op="-", left=number(0), right=field("seats_licensed")),
            ),
        ),
        (
            "renewal_date < 2026-04-15",
            ir.Compare(op="<", left=field("renewal_date"), right=ir.Literal_(type="date", value="2026-04-15")),
        ),
        ("arr > 1.5k", ir.Compare(op=">", left=field("arr"), right=number(1500, "money"))),
        ("arr > -5", ir.Compare(op=">", left=field("arr"), right=number(-5))),
    ],
)
def test_expressions(text: str, expected: ir.Expr) -> None:
    assert audience_of(text) == expected


# --------------------------------------------------------------------------- the bundle


def test_each_playbook_lists_its_templates_and_path_and_has_a_version() -> None:
    bundle = bundle_of(
        """\
        playbook p:
            trigger: event signed
            send email welcome
            day 3:
                if arr > 5:
                    send in_app tour
                else:
                    send email welcome
                split 50% / 50%:
                    a:
                        send email a_version
                    b:
                        wait 1 day
        """
    )
    playbook = bundle.playbooks["p"]
    assert playbook.templates == ("welcome", "tour", "a_version")
    assert playbook.path == "playbook.play"
    assert bundle.versions == {"p": playbook.content_hash(bundle)}


def test_a_version_changes_with_the_playbook_and_not_with_its_path() -> None:
    first = bundle_of("playbook p:\n    trigger: event signed\n    send email a\n")
    again = lower(
        [parse(MODEL, "m.play"), parse("playbook p:\n    trigger: event signed\n    send email a\n", "x.play")]
    )
    changed = bundle_of("playbook p:\n    trigger: event signed\n    send email b\n")
    assert first.versions["p"] == again.versions["p"]
    assert first.versions["p"] != changed.versions["p"]


def test_a_version_changes_with_a_template_it_uses() -> None:
    files = [parse(MODEL, "m.play"), parse("playbook p:\n    trigger: event signed\n    send email a\n", "p.play")]

    def template(text: str) -> ir.Template:
        return ir.Template(
            name="a", channel="email", subject=ir.TemplateText(source="Hi"), text=ir.TemplateText(source=text)
        )

    assert lower(files, {"a": template("one")}).versions != lower(files, {"a": template("two")}).versions


def test_the_bundle_round_trips_through_json() -> None:
    bundle = bundle_of("playbook p:\n    trigger: health becomes red\n    send email a\n")
    assert ir.Bundle.from_json(bundle.to_json()) == bundle
