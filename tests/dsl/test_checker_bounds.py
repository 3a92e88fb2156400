"""Bounds the checker puts on durations and numbers, and steps a wait holds past their day."""

from __future__ import annotations

import textwrap

from dsl.checker import check
from dsl.diagnostics import render_all
from dsl.parser import parse
from dsl.plugin_catalog import PluginActivity, PluginCatalog, PluginParam

MODEL = """\
account fields:
    seats_used: number
    arr: money
    csm: owner

events:
    signed
"""

PLUGINS = PluginCatalog.of([PluginActivity.of("crm.task", [PluginParam("due_days", "number")])])


def problems(source: str) -> str:
    text = textwrap.dedent(source)
    files = [parse(MODEL, "model.play"), parse(text, "test.play")]
    return render_all(check(files, {}, PLUGINS), {"model.play": MODEL, "test.play": text})


def expected(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_a_wait_longer_than_five_years_is_an_error() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            wait 3000000 days
            create task "t" for csm
        """
    ) == expected(
        """
        test.play:3:10: 'wait 3000000 days' is longer than 5 years: a journey lasts at most 1826 days; \
use a date step (e.g. '30 days before renewal_date') for a far date
                wait 3000000 days
                     ^^^^^^^^^^^^
        """
    )


def test_a_day_step_past_five_years_and_a_long_due_are_errors() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            day 2000:
                create task "t" for csm due 300 weeks
        """
    ) == expected(
        """
        test.play:3:5: 'day 2000' is more than 5 years after entry: a journey lasts at most 1826 days
                day 2000:
                ^^^^^^^^
        test.play:4:37: 'due 300 weeks' is longer than 5 years: a journey lasts at most 1826 days; \
use a date step (e.g. '30 days before renewal_date') for a far date
                    create task "t" for csm due 300 weeks
                                                ^^^^^^^^^
        """
    )


def test_millions_where_a_count_is_expected_is_a_warning_that_gives_both_readings() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            if seats_used > 30m and arr > 1m:
                do crm.task due_days=30m
        """
    ) == expected(
        """
        test.play:3:21: warning: '30m' is 30 million (30,000,000) compared with the number field 'seats_used': \
write 30000000 if you mean millions, or a duration ('30 minutes') if you mean minutes
                if seats_used > 30m and arr > 1m:
                                ^^^
        test.play:4:30: warning: '30m' is 30 million (30,000,000) for 'due_days', a number: \
write 30000000 if you mean millions, or a duration ('30 minutes') if you mean minutes
                    do crm.task due_days=30m
                                         ^^^
        """
    )


def test_a_day_step_after_a_longer_wait_warns_that_it_runs_later_than_written() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            wait 14 days
            day 7:
                create task "t" for csm
        """
    ) == expected(
        """
        test.play:4:5: warning: day 7 can only run on day 14 or later, after 'wait 14 days' on line 3: \
move the wait or the step, or write 'day 14:'
                day 7:
                ^^^^^
        """
    )


def test_a_wait_inside_an_earlier_step_or_only_one_branch_is_counted_as_the_journey_runs() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            day 1:
                if seats_used > 3:
                    wait 30 days
                create task "t" for csm
            day 2:
                wait 36h
            day 3:
                create task "u" for csm
        """
    ) == expected(
        """
        test.play:9:5: warning: day 3 can only run on day 3 plus 12 hours or later, after 'wait 36h' on line 8: \
move the wait or the step, or write 'day 4:'
                day 3:
                ^^^^^
        """
    )


SINCE_ENTRY_MODEL = MODEL.replace("    signed\n", "    signed\n    nps_response: score number\n")


def since_entry_problems(source: str) -> str:
    text = textwrap.dedent(source)
    files = [parse(SINCE_ENTRY_MODEL, "model.play"), parse(text, "test.play")]
    return render_all(check(files, {}, PLUGINS), {"model.play": SINCE_ENTRY_MODEL, "test.play": text})


def test_seen_since_entry_is_read_in_a_journey_and_refused_where_no_journey_has_entered() -> None:
    assert since_entry_problems(
        """\
        playbook p "P":
            trigger: event nps_response
            audience: not seen nps_response since entry
            exit: seen nps_response since entry
            day 7:
                unless seen nps_response since entry:
                    create task "No new answer" for csm
        """
    ) == expected(
        """
        test.play:3:19: 'seen nps_response since entry' counts from the journey's entry, and 'audience' is \
read outside a journey: write it in a step's 'if' or 'unless', a 'set', a 'goal' or an 'exit'
                audience: not seen nps_response since entry
                              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """
    )
