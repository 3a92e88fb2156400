"""Success plans in the language: what the checker says of each mistake at its place, what lowering
makes (the plan whole in `start plan`, its conditions typed as a wait's), how the formatter prints
it, and that `plan` stays a field name outside `success plan` and `start plan`."""

from __future__ import annotations

import pytest

from dsl import DiagnosticError, ir
from dsl.checker import check
from dsl.formatter import format_source
from dsl.lowering import lower
from dsl.parser import parse
from tests.dsl.test_checker import MODEL, TEMPLATES
from tests.dsl.test_work_items import expected, problems

PLANS = '''success plan onboarding "Onboarding":
    milestone first_project when event project_created within 14 days
    milestone seats when seats_used >= 3 within 30 days
    milestone happy when event nps_response where score >= 7 within 60 days
'''
START = "playbook p:\n    trigger: event signed\n    start plan onboarding\n"


def test_a_plan_and_its_start_check_clean_and_lower_whole_into_the_statement() -> None:
    files = [parse(MODEL, "model.play"), parse(PLANS, "plans.play"), parse(START, "p.play")]
    assert check(files, TEMPLATES) == []
    [start] = lower(files, TEMPLATES).playbooks["p"].steps[0].body
    assert isinstance(start, ir.StartPlan) and start.plan.name == "onboarding" and start.plan.title == "Onboarding"
    first, seats, happy = start.plan.milestones
    assert (first.event, first.where, first.condition, first.within.seconds()) == (
        "project_created", None, None, 14 * 86400)
    assert seats.event is None and isinstance(seats.condition, ir.Compare)
    assert happy.event == "nps_response" and happy.where is not None
    assert happy.where.model_dump_json().count('"kind":"event_field"') == 1  # `score` is the payload's


def test_plan_mistakes_are_reported_at_their_place() -> None:
    declarations = '''success plan onboarding "Onboarding":
    milestone first_project when event project_created within 14 days
    milestone first_project when event prject_created within 3 days
    milestone seats when seats_used within 0 days
    milestone happy when event nps_response where score >= "x" within 60 days
'''
    assert problems("playbook p:\n    trigger: event signed\n    start plan onbording\n",
                    declarations=declarations) == expected(
        """\
        tasks.play:3:15: milestone 'first_project' is written twice in success plan 'onboarding'
                milestone first_project when event prject_created within 3 days
                          ^^^^^^^^^^^^^
        tasks.play:3:40: unknown event 'prject_created' (did you mean 'project_created'?)
                milestone first_project when event prject_created within 3 days
                                                   ^^^^^^^^^^^^^^
        tasks.play:4:26: milestone 'seats' needs a condition, not a number
                milestone seats when seats_used within 0 days
                                     ^^^^^^^^^^
        tasks.play:4:44: 'within 0 days' is no time: a milestone is due a positive time after the plan starts
                milestone seats when seats_used within 0 days
                                                       ^^^^^^
        tasks.play:5:51: '>=' compares numbers or dates, not text
                milestone happy when event nps_response where score >= "x" within 60 days
                                                              ^^^^^^^^^^^^
        test.play:3:16: unknown success plan 'onbording' (did you mean 'onboarding'?)
                start plan onbording
                           ^^^^^^^^^
        """
    )


def test_since_entry_in_a_milestone_is_refused_where_it_is_written() -> None:
    with pytest.raises(DiagnosticError, match="a milestone counts from the plan's start"):
        parse("success plan s:\n    milestone a when event signed since entry within 2 days\n", "s.play")


def test_the_formatter_prints_a_plan_and_its_start() -> None:
    source = ('success  plan onboarding  "Onboarding" :\n'
              '    milestone first_project  when event project_created within 14 days\n'
              '    milestone seats when seats_used>=3 within 30 days\n\n'
              'playbook p:\n    trigger: event signed\n    start   plan onboarding\n')
    assert format_source(source, "f.play") == (
        'success plan onboarding "Onboarding":\n'
        '    milestone first_project when event project_created within 14 days\n'
        '    milestone seats when seats_used >= 3 within 30 days\n\n'
        'playbook p:\n    trigger: event signed\n    start plan onboarding\n')


def test_plan_is_still_a_field_name_in_conditions_and_sets() -> None:
    model = MODEL.replace("account fields:\n", "account fields:\n    plan: text\n")
    source = ('success plan s:\n    milestone pro when plan == "pro" within 3 days\n\n'
              'playbook p:\n    trigger: event signed\n    set plan = "pro"\n    start plan s\n')
    assert check([parse(model, "model.play"), parse(source, "p.play")], TEMPLATES) == []
