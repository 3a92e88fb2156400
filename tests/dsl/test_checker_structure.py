"""The checker's messages for structure: steps, duplicates across files, splits, scores, times."""

from __future__ import annotations

import textwrap

from dsl import ast
from dsl.checker import check
from dsl.diagnostics import render_all
from dsl.parser import parse
from dsl.reporter import Reporter
from dsl.typing_rules import check_time

MODEL = """\
account fields:
    name: text
    arr: money
    renewal_date: date
    dau_pct: percent
    csm: owner
    primary_contact: contact

events:
    signed
    churned
"""


def problems(*sources: str) -> str:
    """Every diagnostic of the given files (`a.play`, `b.play`, …, with the model above)."""
    texts = {"model.play": MODEL}
    for index, source in enumerate(sources):
        texts[f"{'abcdefgh'[index]}.play"] = textwrap.dedent(source)
    files = [parse(text, path) for path, text in texts.items()]
    return render_all(check(files, {}), texts)


def expected(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_step_written_twice_is_an_error_and_a_step_out_of_order_a_warning() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            day 7:
                wait 1 day
            day 3:
                wait 1 day
            day 7:
                wait 2 days
            60 days before renewal_date:
                wait 1 day
            90 days before renewal_date:
                wait 1 day
        """
    ) == expected(
        """
        a.play:5:5: warning: step 'day 3' is written after 'day 7' but runs before it: \
steps run by their time, not their order in the file
                day 3:
                ^^^^^
        a.play:7:5: step 'day 7' is written twice (first at line 3)
                day 7:
                ^^^^^
        a.play:11:5: warning: step '90 days before renewal_date' is written after '60 days before renewal_date' \
but runs before it: steps run by their time, not their order in the file
                90 days before renewal_date:
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """
    )


def test_names_declared_twice_across_files_point_at_the_first() -> None:
    assert problems(
        """\
        account fields:
            arr: number

        events:
            signed

        playbook p "P":
            trigger: event signed
            wait 1 day
        """,
        """\
        playbook p "Again":
            trigger: event signed
            wait 1 day
        """,
    ) == expected(
        """
        a.play:2:5: field 'arr' is declared twice (first at model.play:3)
                arr: number
                ^^^
        a.play:5:5: event 'signed' is declared twice (first at model.play:10)
                signed
                ^^^^^^
        b.play:1:10: playbook 'p' is declared twice (first at a.play:7)
            playbook p "Again":
                     ^
        """
    )


def test_playbook_without_trigger_or_steps_and_with_a_clause_twice() -> None:
    assert problems(
        """\
        playbook empty "Nothing":
            audience: arr > 10k
            audience: arr > 20k
        """
    ) == expected(
        """
        a.play:1:10: playbook 'empty' has no steps: write what it does
            playbook empty "Nothing":
                     ^^^^^
        a.play:1:10: playbook 'empty' has no trigger
            playbook empty "Nothing":
                     ^^^^^
        a.play:3:5: 'audience' is written twice in playbook 'empty'
                audience: arr > 20k
                ^^^^^^^^
        """
    )


def test_split_shares_must_add_up_to_100_with_one_block_each() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            split 50% / 40%:
                a:
                    wait 1 day
                a:
                    wait 2 days
                c:
                    wait 3 days
        """
    ) == expected(
        """
        a.play:3:5: split has 2 shares but 3 blocks: write one block per share
                split 50% / 40%:
                ^^^^^^^^^^^^^^^
        a.play:3:5: split shares 50% / 40% add up to 90%, not 100%
                split 50% / 40%:
                ^^^^^^^^^^^^^^^
        a.play:6:9: split block 'a' is written twice
                    a:
                    ^
        """
    )


def test_score_bands_that_overlap_or_leave_gaps_and_rules_over_the_max() -> None:
    assert problems(
        """\
        score health "Health":
            component usage max 40:
                50 if dau_pct >= 70%
                20 if dau_pct >= 40%
            component money max 60:
                60 if arr > 10k
                0 otherwise
                10 if arr > 5k
            bands:
                green: 80 to 100
                yellow: 40 to 75
                red: 0 to 45
        """
    ) == expected(
        """
        a.play:2:15: warning: component 'usage' has no 'otherwise' rule: an account no rule matches gets 0 points
                component usage max 40:
                          ^^^^^
        a.play:3:9: rule awards 50 points, more than the max of component 'usage' (40)
                    50 if dau_pct >= 70%
                    ^^
        a.play:8:9: warning: this rule is never used: the 'otherwise' rule above always holds first
                    10 if arr > 5k
                    ^^^^^^^^^^^^^^
        a.play:10:9: no band covers the scores between 75 and 80 (between bands 'yellow' and 'green')
                    green: 80 to 100
                    ^^^^^^^^^^^^^^^^
        a.play:11:9: band 'yellow' (40 to 75) overlaps band 'red' (0 to 45)
                    yellow: 40 to 75
                    ^^^^^^^^^^^^^^^^
        """
    )


def test_bands_must_cover_every_score_the_components_can_give() -> None:
    assert problems(
        """\
        score health "Health":
            component usage max 100:
                100 if dau_pct >= 70%
                0 otherwise
            bands:
                green: 50 to 90
                red: 10 to 49
        """
    ) == expected(
        """
        a.play:6:9: no band covers the scores above 90 (the components add up to 100)
                    green: 50 to 90
                    ^^^^^^^^^^^^^^^
        a.play:7:9: no band covers the scores below 10
                    red: 10 to 49
                    ^^^^^^^^^^^^^
        """
    )


def test_zero_wait_date_step_on_a_non_date_field_and_task_waits_without_a_task() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: 30 days before arr
            wait 0 days
            wait until task done or 48h
            if task open:
                create task "Call" for csm
            30 days before name:
                wait 1 day
        """
    ) == expected(
        """
        a.play:2:29: 'arr' is money, not a date: 'before' needs a date field
                trigger: 30 days before arr
                                        ^^^
        a.play:3:10: 'wait 0 days' waits for nothing
                wait 0 days
                     ^^^^^^
        a.play:4:5: 'wait until task done' needs a 'create task' before it in the playbook
                wait until task done or 48h
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^
        a.play:5:8: 'task open' needs a 'create task' before it in the playbook
                if task open:
                   ^^^^^^^^^
        a.play:7:20: 'name' is text, not a date: a date step needs a date field
                30 days before name:
                               ^^^^
        """
    )


def test_task_created_in_an_earlier_step_may_be_waited_for_in_a_later_one() -> None:
    assert problems(
        """\
            playbook p "P":
                trigger: event signed
                day 2:
                    wait until task done or 48h
                day 1:
                    create task "Call" for csm
            """
    ).splitlines()[0::3] == [
        "a.play:5:5: warning: step 'day 1' is written after 'day 2' but runs before it: "
        "steps run by their time, not their order in the file"
    ]


def test_entry_statements_beside_a_day_0_step() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            wait 1 day
            day 0:
                wait 2 days
        """
    ) == expected(
        """
        a.play:4:5: 'day 0:' runs at entry, as do the statements written directly under the playbook: \
put them in this step
                day 0:
                ^^^^^
        """
    )


def test_built_in_events_and_unknown_types_in_declarations() -> None:
    assert problems(
        """\
        account fields:
            plan: txt
            tier: one of gold, silver, gold

        events:
            bounced
            paid: amount mony, amount money
        """
    ) == expected(
        """
        a.play:2:11: unknown type 'txt' (did you mean 'text'?)
                plan: txt
                      ^^^
        a.play:3:32: value 'gold' is listed twice
                tier: one of gold, silver, gold
                                           ^^^^
        a.play:6:5: event 'bounced' is built in and cannot be declared
                bounced
                ^^^^^^^
        a.play:7:18: unknown type 'mony' (did you mean 'money'?)
                paid: amount mony, amount money
                             ^^^^
        a.play:7:24: payload key 'amount' of event 'paid' is declared twice
                paid: amount mony, amount money
                                   ^^^^^^
        """
    )


def test_schedules_and_policies() -> None:
    assert problems(
        """\
        policy:
            quiet hours 20:00 to 08:00 account time
            quiet hours 21:00 to 21:00

        playbook p "P":
            trigger: every month on day 31 at 10:00
            wait 1 day

        playbook q "Q":
            trigger: every week on mondy
            wait 1 day
        """
    ) == expected(
        """
        a.play:3:5: quiet hours are set twice (first at a.play:2)
                quiet hours 21:00 to 21:00
                ^^^^^^^^^^^^^^^^^^^^^^^^^^
        a.play:3:5: quiet hours start and end at the same time
                quiet hours 21:00 to 21:00
                ^^^^^^^^^^^^^^^^^^^^^^^^^^
        a.play:6:14: day 31 is not in every month: use a day from 1 to 28
                trigger: every month on day 31 at 10:00
                         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        a.play:10:28: unknown weekday 'mondy' (did you mean 'monday'?)
                trigger: every week on mondy
                                       ^^^^^
        """
    )


def test_time_of_day_past_23_59_is_invalid() -> None:
    report = Reporter()
    check_time(ast.TimeOfDay(ast.Pos("a.play", 2, 30, 2, 35), "25:00"), report)
    check_time(ast.TimeOfDay(ast.Pos("a.play", 3, 30, 3, 35), "23:59"), report)
    assert [d.headline() for d in report.diagnostics] == ["a.play:2:30: invalid time '25:00': use 00:00 to 23:59"]


def test_scores_and_metrics_declared_twice_or_sharing_a_field_name() -> None:
    assert problems(
        """\
        metric logins = count signd over 7 days
        metric logins = count signed over 0 days

        score arr "A":
            component c max 10:
                10 otherwise
            bands:
                all: 0 to 10
        """,
        """\
        score arr "B":
            component c max 10:
                10 otherwise
            bands:
                all: 0 to 10
        """,
    ) == expected(
        """
        a.play:1:23: unknown event 'signd' (did you mean 'signed'?)
            metric logins = count signd over 7 days
                                  ^^^^^
        a.play:2:8: metric 'logins' is declared twice (first at a.play:1)
            metric logins = count signed over 0 days
                   ^^^^^^
        a.play:2:35: metric window '0 days' is no time: use a positive duration
            metric logins = count signed over 0 days
                                              ^^^^^^
        a.play:4:7: score 'arr' has the name of an account field
            score arr "A":
                  ^^^
        b.play:1:7: score 'arr' is declared twice (first at a.play:4)
            score arr "B":
                  ^^^
        """
    )
