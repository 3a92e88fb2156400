"""Parsing: every construct of the language gives the syntax tree it means, with its places."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from dsl import ast, parse

DOCS = Path(__file__).resolve().parents[2] / "docs" / "language.md"


def parse_text(text: str) -> ast.File:
    return parse(dedent(text), "test.play")


def playbook_items(body: str) -> tuple[ast.PlaybookItem, ...]:
    """The items of a playbook whose body (without indentation) is `body`."""
    lines = "".join(f"    {line}\n" if line else "\n" for line in dedent(body).splitlines())
    tree = parse(f"playbook p:\n{lines}", "test.play")
    playbook = tree.items[0]
    assert isinstance(playbook, ast.Playbook)
    return playbook.items


def trigger_of(text: str) -> ast.Trigger:
    item = playbook_items(f"trigger: {text}")[0]
    assert isinstance(item, ast.TriggerClause)
    return item.trigger


def expr_of(text: str) -> ast.Expr:
    item = playbook_items(f"audience: {text}")[0]
    assert isinstance(item, ast.AudienceClause)
    return item.condition


def statement_of(text: str) -> ast.Statement:
    item = playbook_items(text)[0]
    assert not isinstance(item, ast.TriggerClause | ast.DayStep | ast.DateStep)
    return item  # type: ignore[return-value]


def names(path: ast.Path) -> tuple[str, ...]:
    return path.names


# --------------------------------------------------------------------------- the account model


def test_account_fields_declare_names_with_types_and_enumerations() -> None:
    tree = parse_text(
        """\
        account fields:
            name: text
            segment: one of enterprise, mid_market, smb, trial
            csm: owner
        """
    )
    block = tree.items[0]
    assert isinstance(block, ast.AccountFields)
    assert [decl.name.text for decl in block.fields] == ["name", "segment", "csm"]
    first = block.fields[0].type
    assert isinstance(first, ast.NamedType) and first.name.text == "text"
    segment = block.fields[1].type
    assert isinstance(segment, ast.EnumType)
    assert [value.text for value in segment.values] == ["enterprise", "mid_market", "smb", "trial"]


def test_event_declarations_carry_their_payload_keys() -> None:
    tree = parse_text(
        """\
        events:
            signed
            payment_failed: amount money
            nps_response: score number, comment text
        """
    )
    block = tree.items[0]
    assert isinstance(block, ast.Events)
    signed, failed, nps = block.events
    assert signed.name.text == "signed" and signed.payload == ()
    assert [(k.name.text, k.type.name.text) for k in failed.payload] == [("amount", "money")]
    assert [(k.name.text, k.type.name.text) for k in nps.payload] == [("score", "number"), ("comment", "text")]


def test_metric_counts_an_event_over_a_window() -> None:
    metric = parse_text("metric weekly_logins = count login over 7 days\n").items[0]
    assert isinstance(metric, ast.Metric)
    assert (metric.name.text, metric.event.text, metric.aggregate) == ("weekly_logins", "login", "count")
    assert (metric.window.amount, metric.window.unit) == (7, "days")


def test_keywords_work_as_names_where_a_name_is_expected() -> None:
    tree = parse_text(
        """\
        account fields:
            score: number
            day: number
            event: text
            signed: boolean
        events:
            login: score number
        """
    )
    fields = tree.items[0]
    assert isinstance(fields, ast.AccountFields)
    assert [decl.name.text for decl in fields.fields] == ["score", "day", "event", "signed"]


# --------------------------------------------------------------------------- score models


def test_score_model_has_components_with_point_rules_and_bands() -> None:
    tree = parse_text(
        """\
        score health "Account health":
            component product_usage max 40:
                40 if dau_pct >= 70% and feature_adoption >= 60%
                0 otherwise
            bands:
                green: 80 to 100
                red: 0 to 79
        """
    )
    score = tree.items[0]
    assert isinstance(score, ast.Score)
    assert score.name.text == "health" and score.title is not None and score.title.value == "Account health"
    (component,) = score.components
    assert component.name.text == "product_usage" and component.max_points.value == 40
    first, last = component.rules
    assert first.points.value == 40 and isinstance(first.when, ast.Logic) and first.when.op == "and"
    assert last.points.value == 0 and last.when is None
    assert [(b.name.text, b.low.value, b.high.value) for b in score.bands] == [("green", 80, 100), ("red", 0, 79)]
    assert score.bands_pos is not None and score.bands_pos.line == 5


def test_score_title_is_optional() -> None:
    score = parse_text("score s:\n    bands:\n        red: 0 to 100\n").items[0]
    assert isinstance(score, ast.Score) and score.title is None and score.components == ()


# --------------------------------------------------------------------------- send policies


def test_policy_holds_quiet_hours_and_frequency_caps() -> None:
    tree = parse_text(
        """\
        policy:
            quiet hours 20:00 to 8:00 account time
            at most 3 emails per account per 7 days
            at most 2 in_app messages per account per 1 day
        """
    )
    policy = tree.items[0]
    assert isinstance(policy, ast.Policy)
    quiet, emails, in_app = policy.items
    assert isinstance(quiet, ast.QuietHours) and (quiet.start.value, quiet.end.value) == ("20:00", "08:00")
    assert isinstance(emails, ast.FrequencyCap) and (emails.count, emails.channel) == (3, "email")
    assert (emails.per.amount, emails.per.unit) == (7, "days")
    assert isinstance(in_app, ast.FrequencyCap) and (in_app.count, in_app.channel) == (2, "in_app")


def test_quiet_hours_may_leave_out_account_time() -> None:
    policy = parse_text("policy:\n    quiet hours 21:30 to 07:15\n").items[0]
    assert isinstance(policy, ast.Policy)
    assert isinstance(policy.items[0], ast.QuietHours) and policy.items[0].start.value == "21:30"


# --------------------------------------------------------------------------- triggers


def test_event_trigger_with_a_where_condition() -> None:
    trigger = trigger_of("event nps_response where score >= 9")
    assert isinstance(trigger, ast.EventTrigger) and trigger.event.text == "nps_response"
    assert isinstance(trigger.where, ast.Compare) and trigger.where.op == ">="
    assert isinstance(trigger.where.left, ast.Ref) and trigger.where.left.path.names == ("score",)


def test_becomes_trigger_names_a_score_and_a_band() -> None:
    trigger = trigger_of("health becomes red")
    assert isinstance(trigger, ast.BecomesTrigger)
    assert isinstance(trigger.value, ast.Name)
    assert (trigger.subject.text, trigger.value.text) == ("health", "red")


def test_condition_trigger_reads_percent_of_a_field() -> None:
    trigger = trigger_of("seats_used >= 80% of seats_licensed")
    assert isinstance(trigger, ast.ConditionTrigger)
    condition = trigger.condition
    assert isinstance(condition, ast.Compare) and isinstance(condition.right, ast.PercentOf)
    assert condition.right.percent.value == 80
    assert isinstance(condition.right.of, ast.Ref) and condition.right.of.path.names == ("seats_licensed",)


@pytest.mark.parametrize(
    ("text", "amount", "unit", "direction", "field", "at"),
    [
        ("90 days before renewal_date", 90, "days", "before", "renewal_date", None),
        ("14 days after signed_date at 10:00", 14, "days", "after", "signed_date", "10:00"),
        ("1 day before renewal_date", 1, "days", "before", "renewal_date", None),
        ("2 weeks before renewal_date", 2, "weeks", "before", "renewal_date", None),
    ],
)
def test_date_trigger_shifts_a_date_field(
    text: str, amount: int, unit: str, direction: str, field: str, at: str | None
) -> None:
    trigger = trigger_of(text)
    assert isinstance(trigger, ast.DateTrigger)
    assert (trigger.amount, trigger.unit, trigger.direction, trigger.field.text) == (amount, unit, direction, field)
    assert (trigger.at.value if trigger.at else None) == at


def test_date_trigger_in_weeks_counts_days() -> None:
    trigger = trigger_of("2 weeks before renewal_date")
    assert isinstance(trigger, ast.DateTrigger) and trigger.days == 14


@pytest.mark.parametrize(
    ("text", "every", "day", "weekday", "at"),
    [
        ("every month", "month", None, None, None),
        ("every month on day 15 at 10:00", "month", 15, None, "10:00"),
        ("every quarter", "quarter", None, None, None),
        ("every week on monday at 09:00", "week", None, "monday", "09:00"),
    ],
)
def test_schedule_trigger(text: str, every: str, day: int | None, weekday: str | None, at: str | None) -> None:
    trigger = trigger_of(text)
    assert isinstance(trigger, ast.ScheduleTrigger)
    assert (trigger.every, trigger.day) == (every, day)
    assert (trigger.weekday.text if trigger.weekday else None) == weekday
    assert (trigger.at.value if trigger.at else None) == at


def test_trend_trigger_reads_direction_percent_and_weeks() -> None:
    trigger = trigger_of("weekly_logins down 40% week over week for 3 weeks")
    assert isinstance(trigger, ast.TrendTrigger)
    assert (trigger.metric.text, trigger.direction, trigger.percent.value, trigger.weeks) == (
        "weekly_logins",
        "down",
        40,
        3,
    )


# --------------------------------------------------------------------------- clauses


def test_header_clauses_of_a_playbook() -> None:
    items = playbook_items(
        """\
        trigger: event signed
        audience: segment == "smb" and arr < 25k
        exit: event churned or health is red
        goal: feature_adoption >= 30%
        reentry: after 30 days
        """
    )
    audience, exit_clause, goal, reentry = items[1:]
    assert isinstance(audience, ast.AudienceClause) and isinstance(audience.condition, ast.Logic)
    assert isinstance(exit_clause, ast.ExitClause)
    churned, red = exit_clause.alternatives
    assert isinstance(churned, ast.EventAlternative) and churned.event.text == "churned"
    assert isinstance(red, ast.Is) and red.value.pos.column == 38
    assert isinstance(goal, ast.GoalClause) and isinstance(goal.alternatives[0], ast.Compare)
    assert isinstance(reentry, ast.ReentryClause) and reentry.mode == "after"
    assert reentry.after is not None and (reentry.after.amount, reentry.after.unit) == (30, "days")


def test_reentry_never() -> None:
    (clause,) = playbook_items("reentry: never")
    assert isinstance(clause, ast.ReentryClause) and clause.mode == "never" and clause.after is None


def test_playbook_keeps_id_title_and_the_order_of_its_items() -> None:
    tree = parse_text(
        """\
        playbook smb_onboarding "SMB onboarding, days 0 to 30":
            trigger: event signed
            send email welcome
            day 7:
                send email first_project
            30 days before renewal_date at 10:00:
                send email renewal_invitation
        """
    )
    playbook = tree.items[0]
    assert isinstance(playbook, ast.Playbook)
    assert playbook.id.text == "smb_onboarding" and playbook.title is not None
    assert playbook.title.value == "SMB onboarding, days 0 to 30"
    kinds = [type(item).__name__ for item in playbook.items]
    assert kinds == ["TriggerClause", "SendEmail", "DayStep", "DateStep"]
    day, date = playbook.steps
    assert isinstance(day, ast.DayStep) and day.day == 7
    assert isinstance(date, ast.DateStep)
    assert (date.days, date.direction, date.field.text) == (30, "before", "renewal_date")
    assert date.at is not None and date.at.value == "10:00"
    assert [type(s).__name__ for s in playbook.statements] == ["SendEmail"]
    assert playbook.trigger is not None


# --------------------------------------------------------------------------- statements


def test_send_email_with_and_without_recipient() -> None:
    with_to = statement_of("send email welcome to primary_contact")
    assert isinstance(with_to, ast.SendEmail) and with_to.template.text == "welcome"
    assert with_to.to is not None and with_to.to.names == ("primary_contact",)
    without = statement_of("send email welcome")
    assert isinstance(without, ast.SendEmail) and without.to is None


def test_send_in_app() -> None:
    statement = statement_of("send in_app core_workflows_tutorial")
    assert isinstance(statement, ast.SendInApp) and statement.template.text == "core_workflows_tutorial"


def test_create_task_with_owner_path_due_and_priority_in_either_order() -> None:
    first = statement_of('create task "Outreach: {{ account.name }}" for csm.manager due 48h priority urgent')
    second = statement_of('create task "Outreach: {{ account.name }}" for csm.manager priority urgent due 48h')
    for task in (first, second):
        assert isinstance(task, ast.CreateTask) and isinstance(task.title, ast.TextLit)
        assert task.title.value == "Outreach: {{ account.name }}"
        assert task.owner.names == ("csm", "manager")
        assert task.due is not None and (task.due.amount, task.due.unit) == (48, "hours")
        assert task.priority is not None and task.priority.text == "urgent"


def test_create_task_with_only_an_owner() -> None:
    task = statement_of('create task "Check-in" for csm')
    assert isinstance(task, ast.CreateTask) and task.due is None and task.priority is None


def test_set_update_and_do() -> None:
    set_field = statement_of('set lifecycle_stage = "adopting"')
    assert isinstance(set_field, ast.SetField) and set_field.field.text == "lifecycle_stage"
    assert isinstance(set_field.value, ast.TextLit) and set_field.value.value == "adopting"
    update = statement_of("update score health")
    assert isinstance(update, ast.UpdateScore) and update.score.text == "health"
    call = statement_of('do slack.notify channel="#cs-alerts" text="Red: {{ account.name }}" retries=3 to=csm.email')
    assert isinstance(call, ast.Do) and call.activity.names == ("slack", "notify")
    params = {param.name.text: param.value for param in call.params}
    assert isinstance(params["channel"], ast.TextLit) and params["channel"].value == "#cs-alerts"
    assert isinstance(params["retries"], ast.NumberLit) and params["retries"].value == 3
    assert isinstance(params["to"], ast.Ref) and params["to"].path.names == ("csm", "email")


def test_wait_and_wait_until() -> None:
    wait = statement_of("wait 3 days")
    assert isinstance(wait, ast.Wait) and (wait.duration.amount, wait.duration.unit) == (3, "days")
    until_event = statement_of("wait until event project_created or 7 days")
    assert isinstance(until_event, ast.WaitUntil)
    assert [e.event.text for e in until_event.events] == ["project_created"] and not until_event.task_done
    assert (until_event.timeout.amount, until_event.timeout.unit) == (7, "days")
    until_task = statement_of("wait until task done or 48h")
    assert isinstance(until_task, ast.WaitUntil) and until_task.task_done and until_task.events == ()


def test_if_else_and_unless() -> None:
    (step,) = playbook_items(
        """\
        day 7:
            if tasks_completed >= 10:
                send email milestone
            else:
                send email nudge
            unless seen project_created:
                send email first_project
        """
    )
    assert isinstance(step, ast.DayStep)
    branch, unless = step.body
    assert isinstance(branch, ast.If) and not branch.negated
    assert [type(s).__name__ for s in branch.then + branch.otherwise] == ["SendEmail", "SendEmail"]
    assert branch.else_pos is not None and branch.else_pos.line == 5
    assert isinstance(unless, ast.If) and unless.negated and isinstance(unless.condition, ast.Seen)


def test_split_pairs_shares_with_labelled_blocks() -> None:
    (split,) = playbook_items(
        """\
        split 50% / 50%:
            a:
                send email short_welcome
            b:
                send email long_welcome
        """
    )
    assert isinstance(split, ast.Split)
    assert [share.value for share in split.shares] == [50, 50]
    assert [arm.label.text for arm in split.arms] == ["a", "b"]
    assert isinstance(split.arms[1].body[0], ast.SendEmail)


def test_a_step_may_hold_one_statement_on_its_own_line() -> None:
    (step,) = playbook_items("day 3: send in_app core_workflows_tutorial")
    assert isinstance(step, ast.DayStep) and isinstance(step.body[0], ast.SendInApp)


# --------------------------------------------------------------------------- expressions and literals


def test_precedence_or_below_and_below_not_below_comparison() -> None:
    expr = expr_of("a or not b and c > 1")
    assert isinstance(expr, ast.Logic) and expr.op == "or"
    left, right = expr.args
    assert isinstance(left, ast.Ref)
    assert isinstance(right, ast.Logic) and right.op == "and"
    assert isinstance(right.args[0], ast.Not) and isinstance(right.args[1], ast.Compare)


def test_arithmetic_is_left_associative_with_products_first() -> None:
    expr = expr_of("a - b - c * 2 > 0")
    assert isinstance(expr, ast.Compare)
    outer = expr.left
    assert isinstance(outer, ast.Arith) and outer.op == "-"
    assert isinstance(outer.left, ast.Arith) and outer.left.op == "-"
    assert isinstance(outer.right, ast.Arith) and outer.right.op == "*"


def test_parentheses_are_kept_as_groups() -> None:
    expr = expr_of("(a or b) and c")
    assert isinstance(expr, ast.Logic) and isinstance(expr.args[0], ast.Group)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("10", ast.NumberLit, 10),
        ("4.2", ast.NumberLit, 4.2),
        ("25k", ast.MoneyLit, 25_000),
        ("1.5m", ast.MoneyLit, 1_500_000),
        ("40%", ast.PercentLit, 40),
        ('"say \\"hi\\""', ast.TextLit, 'say "hi"'),
        ("true", ast.BoolLit, True),
        ("false", ast.BoolLit, False),
        ("2026-04-15", ast.DateLit, "2026-04-15"),
    ],
)
def test_literals(text: str, kind: type, value: object) -> None:
    expr = expr_of(f"x == {text}")
    assert isinstance(expr, ast.Compare) and isinstance(expr.right, kind)
    assert expr.right.value == value  # type: ignore[union-attr]


def test_band_tests_seen_counts_and_task_state() -> None:
    is_not = expr_of("health is not red")
    assert isinstance(is_not, ast.Is) and is_not.negated and isinstance(is_not.value, ast.Name)
    seen = expr_of("seen login within 7 days")
    assert isinstance(seen, ast.Seen) and seen.within is not None and seen.within.amount == 7
    old = expr_of("seen signed more than 30 days ago")
    assert isinstance(old, ast.Seen) and old.older_than is not None and old.within is None
    since = expr_of("seen nps_response since entry")
    assert isinstance(since, ast.Seen) and since.since_entry and since.within is None and since.older_than is None
    exactly = expr_of("exactly 2 of (qbr_attended, training_done, responsive)")
    assert isinstance(exactly, ast.CountOf) and (exactly.op, exactly.count, len(exactly.args)) == ("exactly", 2, 3)
    at_least = expr_of("at least 1 of (a, b)")
    assert isinstance(at_least, ast.CountOf) and at_least.op == "at_least"
    task = expr_of("task open")
    assert isinstance(task, ast.TaskIs) and task.state == "open"


def test_field_paths_and_score_parts_are_refs_with_their_parts() -> None:
    expr = expr_of("csm.manager.email == health.band")
    assert isinstance(expr, ast.Compare) and isinstance(expr.left, ast.Ref)
    assert expr.left.path.names == ("csm", "manager", "email")
    assert [part.pos.column for part in expr.left.path.parts] == [15, 19, 27]


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("30m", 30, "minutes"),
        ("48h", 48, "hours"),
        ("2 days", 2, "days"),
        ("1 day", 1, "days"),
        ("3 weeks", 3, "weeks"),
        ("2 business days", 2, "business_days"),
        ("90 minutes", 90, "minutes"),
        ("7d", 7, "days"),
        ("2w", 2, "weeks"),
    ],
)
def test_durations(text: str, amount: int, unit: str) -> None:
    wait = statement_of(f"wait {text}")
    assert isinstance(wait, ast.Wait)
    assert (wait.duration.amount, wait.duration.unit, wait.duration.text) == (amount, unit, text)


# --------------------------------------------------------------------------- places and comments


def test_names_carry_their_own_place() -> None:
    tree = parse_text(
        """\
        playbook p:
            trigger: event signed
            day 30:
                if feature_adoptoin < 20%:
                    send email x
        """
    )
    playbook = tree.items[0]
    assert isinstance(playbook, ast.Playbook)
    step = playbook.steps[0]
    branch = step.body[0]
    assert isinstance(branch, ast.If) and isinstance(branch.condition, ast.Compare)
    ref = branch.condition.left
    assert isinstance(ref, ast.Ref)
    assert ref.pos == ast.Pos("test.play", 4, 12, 4, 28)
    assert ref.pos.span().length == len("feature_adoptoin")
    assert step.pos.line == 3 and step.pos.end_line == 5


def test_comments_are_collected_with_place_and_whether_they_trail_code() -> None:
    tree = parse_text(
        """\
        # model
        account fields:
            # who
            name: text    # the account's name
        """
    )
    assert [(c.text, c.pos.line, c.pos.column, c.trailing) for c in tree.comments] == [
        ("# model", 1, 1, False),
        ("# who", 3, 5, False),
        ("# the account's name", 4, 19, True),
    ]


def test_a_hash_inside_text_is_not_a_comment() -> None:
    tree = parse_text('playbook p:\n    trigger: event a\n    do slack.notify channel="#cs"\n')
    assert tree.comments == []


def test_crlf_tabs_and_a_missing_final_newline_parse_like_the_canonical_layout() -> None:
    canonical = parse("playbook p:\n    trigger: event a\n    send email w\n", "x.play")
    crlf = parse("playbook p:\r\n    trigger: event a\r\n    send email w", "x.play")
    tabs = parse("playbook p:\n\ttrigger: event a\n\tsend email w\n", "x.play")
    for tree in (crlf, tabs):
        playbook = tree.items[0]
        assert isinstance(playbook, ast.Playbook)
        assert [type(i).__name__ for i in playbook.items] == ["TriggerClause", "SendEmail"]
    assert crlf.items == canonical.items


def test_an_empty_file_or_one_of_comments_has_no_items() -> None:
    assert parse("", "x.play").items == ()
    only_comments = parse("# nothing yet\n\n# really\n", "x.play")
    assert only_comments.items == () and len(only_comments.comments) == 2


def test_a_file_counts_its_lines() -> None:
    assert parse("events:\n    signed\n\n", "x.play").line_count == 3


def test_every_example_in_the_language_reference_parses() -> None:
    blocks = re.findall(r"```\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert len(blocks) >= 4
    for block in blocks:
        assert parse(block, "docs.play").items
