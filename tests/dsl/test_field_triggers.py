"""Field triggers and timed day steps in the language: `csm changes`, `exec_sponsor changes from
true to false`, `plan becomes enterprise`, `day 3 at 10:00:`: parsing, the checker's messages
(exact text), formatting, lowering and the IR printer."""

from __future__ import annotations

import textwrap

import pytest

from dsl import ir
from dsl.checker import check
from dsl.diagnostics import DiagnosticError, render_all
from dsl.formatter import format_source
from dsl.ir_text import describe_step, describe_trigger
from dsl.lowering import lower
from dsl.parser import parse

MODEL = """\
account fields:
    name: text
    plan: one of starter, pro, enterprise
    exec_sponsor: boolean
    seats: number
    arr: money
    adoption: percent
    renewal_date: date
    csm: owner

events:
    signed

score health "Health":
    component usage max 100:
        100 if adoption >= 70%
        0 otherwise
    bands:
        green: 80 to 100
        red: 0 to 79
"""


def problems(trigger: str, steps: str = 'create task "Call" for csm') -> str:
    text = f'playbook p "P":\n    trigger: {trigger}\n' + textwrap.indent(textwrap.dedent(steps), "    ") + "\n"
    files = [parse(MODEL, "model.play"), parse(text, "test.play")]
    return render_all(check(files, {}), {"model.play": MODEL, "test.play": text})


def expected(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def lowered(trigger: str, steps: str = 'create task "Call" for csm') -> ir.Playbook:
    text = f'playbook p "P":\n    trigger: {trigger}\n' + textwrap.indent(textwrap.dedent(steps), "    ") + "\n"
    return lower([parse(MODEL, "model.play"), parse(text, "test.play")], {}).playbooks["p"]


WRITTEN = [
    "exec_sponsor changes from true to false",
    "csm changes",
    "plan changes to enterprise",
    "plan changes from pro",
    "seats changes from 10 to 20",
    "arr changes to 25000",
    "adoption changes from 40%",
    'name changes to "Acme Ltd"',
    "plan becomes enterprise",
    "exec_sponsor becomes false",
    "health becomes red",
]


@pytest.mark.parametrize("trigger", WRITTEN)
def test_a_field_trigger_checks_and_prints_back_as_written(trigger: str) -> None:
    assert problems(trigger) == ""
    playbook = lowered(trigger)
    assert describe_trigger(playbook.trigger) == trigger
    assert lowered(describe_trigger(playbook.trigger)) == playbook


def test_changes_lowers_to_a_change_trigger_with_typed_values() -> None:
    assert lowered("exec_sponsor changes from true to false").trigger == ir.ChangeTrigger(
        field="exec_sponsor", before=ir.Literal_(type="boolean", value=True),
        after=ir.Literal_(type="boolean", value=False))
    assert lowered('plan changes to "enterprise"').trigger == lowered("plan changes to enterprise").trigger
    assert lowered("csm changes").trigger == ir.ChangeTrigger(field="csm")


def test_becomes_on_a_field_is_an_edge_on_its_value() -> None:
    assert lowered("plan becomes enterprise").trigger == ir.ConditionTrigger(
        condition=ir.Compare(op="==", left=ir.FieldRef(path=("plan",)),
                             right=ir.Literal_(type="enum", value="enterprise")),
        becomes=True)


def test_a_value_not_in_the_list_is_named_with_the_nearest_one() -> None:
    assert problems("plan changes from pro to enterprize") == expected(
        """
        test.play:2:39: unknown value 'enterprize' for plan (did you mean 'enterprise'?)
                trigger: plan changes from pro to enterprize
                                                  ^^^^^^^^^^
        """
    )
    assert problems("plan becomes gold") == expected(
        """
        test.play:2:27: unknown value 'gold' for plan; its values are starter, pro, enterprise
                trigger: plan becomes gold
                                      ^^^^
        """
    )


def test_a_value_of_the_wrong_type_says_what_the_field_takes() -> None:
    assert problems('exec_sponsor changes to "no"') == expected(
        """
        test.play:2:38: 'to "no"': 'exec_sponsor' is a condition, not a text; write true or false
                trigger: exec_sponsor changes to "no"
                                                 ^^^^
        """
    )
    assert problems("name changes to acme") == expected(
        """
        test.play:2:30: 'to acme': 'name' is text, not a name; write it in quotes: "acme"
                trigger: name changes to acme
                                         ^^^^
        """
    )
    assert problems("seats changes from 10%") == expected(
        """
        test.play:2:33: 'from 10%': 'seats' is a number, not a percent; write a number
                trigger: seats changes from 10%
                                            ^^^
        """
    )
    assert problems("plan changes to 3") == expected(
        """
        test.play:2:30: 'to 3': 'plan' is a choice of values, not a number; write one of its values \
(starter, pro, enterprise)
                trigger: plan changes to 3
                                         ^
        """
    )


def test_owners_and_dates_change_without_values() -> None:
    assert problems("csm changes to true") == expected(
        """
        test.play:2:29: 'csm' is an owner: 'changes' takes no 'from' or 'to' for it; write 'csm changes'
                trigger: csm changes to true
                                        ^^^^
        """
    )
    assert problems("renewal_date changes") == ""


def test_a_change_to_the_same_value_never_happens() -> None:
    assert problems("plan changes from pro to pro") == expected(
        """
        test.play:2:39: 'plan changes from pro to pro' never happens: a change is to another value
                trigger: plan changes from pro to pro
                                                  ^^^
        """
    )


def test_unknown_fields_and_scores_get_the_nearest_name() -> None:
    assert problems("pln changes") == expected(
        """
        test.play:2:14: unknown field 'pln' (did you mean 'plan'?)
                trigger: pln changes
                         ^^^
        """
    )
    assert problems("health changes") == expected(
        """
        test.play:2:14: 'health' is a score, not an account field: write 'health becomes BAND'
                trigger: health changes
                         ^^^^^^
        """
    )
    assert problems("helth becomes red") == expected(
        """
        test.play:2:14: unknown score or field 'helth' (did you mean 'health'?)
                trigger: helth becomes red
                         ^^^^^
        """
    )


def test_becomes_on_a_boolean_takes_true_or_false_and_a_score_a_band() -> None:
    assert problems("exec_sponsor becomes yes") == expected(
        """
        test.play:2:35: 'becomes yes': 'exec_sponsor' is a condition, not a name; write true or false
                trigger: exec_sponsor becomes yes
                                              ^^^
        """
    )
    assert problems("health becomes true") == expected(
        """
        test.play:2:29: 'health' is a score: 'becomes' takes one of its bands (green, red), not true or false
                trigger: health becomes true
                                        ^^^^
        """
    )


def test_a_day_step_at_a_time_of_day_lowers_checks_and_formats() -> None:
    steps = """\
    day 0 at 10:00:
        create task "Call" for csm
    day 3 at 9:30:
        create task "Again" for csm
    """
    assert problems("event signed", steps) == ""
    playbook = lowered("event signed", steps)
    assert [(step.name, step.offset.amount, step.day_at) for step in playbook.steps] == [
        ("day 0", 0, "10:00"), ("day 3", 3, "09:30")]
    assert [describe_step(step) for step in playbook.steps] == ["day 0 at 10:00", "day 3 at 09:30"]
    source = f'playbook p "P":\n    trigger: event signed\n{textwrap.indent(textwrap.dedent(steps), "    ")}'
    assert format_source(source, "test.play") == source.replace("9:30", "09:30")


def test_a_day_step_at_an_impossible_time_and_twice_the_same_day_are_errors() -> None:
    steps = """\
    day 2 at 25:00:
        create task "Call" for csm
    """
    source = f'playbook p "P":\n    trigger: event signed\n{textwrap.indent(textwrap.dedent(steps), "    ")}'
    with pytest.raises(DiagnosticError) as raised:
        parse(source, "test.play")
    assert raised.value.diagnostic.headline() == (
        "test.play:3:14: '25:00' is not a time of day (expected 00:00 to 23:59)")
    twice = """\
    day 2:
        create task "Call" for csm
    day 2 at 10:00:
        create task "Again" for csm
    """
    assert problems("event signed", twice) == expected(
        """
        test.play:5:5: step 'day 2 at 10:00' is written twice (first at line 3)
                day 2 at 10:00:
                ^^^^^^^^^^^^^^
        """
    )


def test_day_0_at_a_time_may_sit_beside_statements_run_at_entry() -> None:
    steps = """\
    create task "Now" for csm
    day 0 at 10:00:
        create task "At ten" for csm
    """
    assert problems("event signed", steps) == ""


def test_a_change_without_its_value_is_a_syntax_error_that_says_what_may_follow() -> None:
    with pytest.raises(DiagnosticError) as raised:
        parse('playbook p "P":\n    trigger: plan changes from\n    create task "Call" for csm\n', "test.play")
    assert raised.value.diagnostic.headline() == (
        'test.play:2:31: expected a value such as enterprise, true, "text", 10 or 40% before the end of the line')
