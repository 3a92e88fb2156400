# ruff: noqa: E501  (expected messages are quoted whole, as a user reads them)
"""Conditions on events in goals, exits and waits; waiting for a condition; `event.data` in a
journey; `since entry` on a wait: checked, formatted and lowered."""

from __future__ import annotations

from textwrap import dedent

from dsl import ir
from dsl.formatter import format_source
from dsl.ir_text import describe_statement
from tests.dsl.test_checker import expected, problems
from tests.dsl.test_lowering import playbook_of


def test_every_new_construct_checks_clean() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event nps_response where score <= 6
            goal: event nps_response where score >= 7 or feature_adoption >= 30%
            exit: event churned or event nps_response where (score >= 9 or comment == "great") and engaged
            set seats_used = event.data.score
            wait until event login since entry where engaged or health is green or 3 days
            wait until event project_created since entry or seats_used > 3 and engaged or 2 days
        """
    ) == ""


def test_a_where_reads_its_own_events_payload_with_a_did_you_mean() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            goal: event nps_response where scor >= 7
            send email welcome
        """
    ) == expected(
        """
        test.play:3:36: 'scor' is neither a payload key of event 'nps_response' nor an account field (did you mean 'score'?)
                goal: event nps_response where scor >= 7
                                               ^^^^
        """
    )


def test_a_where_must_be_a_condition() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            exit: event nps_response where score
            send email welcome
        """
    ) == expected(
        """
        test.play:3:36: the 'where' of event 'nps_response' needs a condition, not a number
                exit: event nps_response where score
                                               ^^^^^
        """
    )


def test_an_event_named_twice_in_one_goal_asks_for_one_where() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            goal: event nps_response where score >= 7 or event nps_response where score == 0
            send email welcome
        """
    ) == expected(
        """
        test.play:3:56: event 'nps_response' is named twice in this 'goal': join its conditions in one 'where (… or …)'
                goal: event nps_response where score >= 7 or event nps_response where score == 0
                                                                   ^^^^^^^^^^^^
        """
    )


def test_a_wait_for_a_condition_is_typed_like_any_condition() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            wait until feature_adoption or 3 days
            wait until event nps_respons since entry or event nps_response where comment > 3 or 3 days
        """
    ) == expected(
        """
        test.play:3:16: 'wait until' needs a condition, not a percent
                wait until feature_adoption or 3 days
                           ^^^^^^^^^^^^^^^^
        test.play:4:22: unknown event 'nps_respons' (did you mean 'nps_response'?)
                wait until event nps_respons since entry or event nps_response where comment > 3 or 3 days
                                 ^^^^^^^^^^^
        test.play:4:74: '>' compares numbers or dates, not text
                wait until event nps_respons since entry or event nps_response where comment > 3 or 3 days
                                                                                     ^^^^^^^^^^^
        """
    )


def test_event_data_reads_the_triggering_events_declared_keys() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event nps_response
            set seats_used = event.data.scor
            set seats_used = event.data
            set seats_used = event.data.score.value
            set engaged = event.data.comment
        """
    ) == expected(
        """
        test.play:3:33: 'scor' is no payload key of event 'nps_response' (did you mean 'score'?)
                set seats_used = event.data.scor
                                            ^^^^
        test.play:4:22: 'event.data' needs a payload key: 'event.data.score'
                set seats_used = event.data
                                 ^^^^^^^^^^
        test.play:5:39: 'event.data.score' is a value of its own, with no parts
                set seats_used = event.data.score.value
                                                  ^^^^^
        test.play:6:19: cannot set engaged (a condition) to text
                set engaged = event.data.comment
                              ^^^^^^^^^^^^^^^^^^
        """
    )


def test_event_data_where_no_event_starts_the_journey_says_so() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: health becomes red
            set seats_used = event.data.score
        """
    ) == expected(
        """
        test.play:3:22: 'event.data.score' reads the event that starts the journey, and this playbook's trigger is no event: read an account field instead
                set seats_used = event.data.score
                                 ^^^^^^^^^^^^^^^^
        """
    )


def test_the_formatter_keeps_each_construct_as_written() -> None:
    source = dedent(
        """\
        playbook p "P":
            trigger: event nps_response where score <= 6
            goal: event nps_response where score >= 7
            exit: event churned or event nps_response where (score >= 9 or comment == "great")
            set seats_used = event.data.score
            wait until event login since entry where engaged or 3 days
            wait until health is green or feature_adoption >= 40% or 30 days
            wait until task done or 30m
        """
    )
    assert format_source(source, "test.play") == source


def test_lowering_puts_each_condition_beside_its_event() -> None:
    playbook = playbook_of(
        """\
        goal: event nps_response where score >= 7
        exit: event churned or event nps_response where score >= 9
        set seats_used = event.data.score
        wait until event login since entry or event nps_response where score > 3 or health is green or 3 days
        """,
        trigger="event nps_response where score <= 6",
    )
    at_least = ir.Compare(op=">=", left=ir.EventField(name="score"), right=ir.Literal_(type="number", value=7))
    assert playbook.goal_events == ("nps_response",) and playbook.goal_where == {"nps_response": at_least}
    assert [(rule.event, rule.where is not None) for rule in playbook.exits] == [("churned", False),
                                                                                ("nps_response", True)]
    set_field, wait = playbook.steps[0].body
    assert isinstance(set_field, ir.SetField)
    assert set_field.value == ir.EventField(name="score", prefixed=True)
    assert isinstance(wait, ir.WaitUntil)
    assert (wait.events, wait.since_entry, tuple(wait.where)) == (("login", "nps_response"), ("login",),
                                                                   ("nps_response",))
    assert wait.condition == ir.BandIs(score="health", band="green")
    assert describe_statement(set_field) == "set seats_used = event.data.score"
    assert describe_statement(wait) == ("wait until event login since entry or event nps_response where score > 3 "
                                        "or health is green or 3 days")


def test_a_playbook_without_the_new_constructs_keeps_its_version() -> None:
    """Versions leave defaults out: the fields the language gained change no running journey's version."""
    playbook = playbook_of("wait until event login or 3 days\nexit: event churned")
    dumped = playbook.model_dump_json(exclude={"path"}, exclude_defaults=True)
    assert "since_entry" not in dumped and "goal_where" not in dumped and '"where"' not in dumped


def test_fields_named_like_the_new_keywords_still_check() -> None:
    from dsl.checker import check
    from dsl.parser import parse

    model = dedent(
        """\
        account fields:
            since: number
            entry: text
            where: boolean
            data: number
            primary_contact: contact

        events:
            signed
            replied: since number
        """
    )
    playbook = dedent(
        """\
        playbook p "P":
            trigger: event signed
            goal: event replied where since > 3 and where
            wait until event replied since entry where since >= data or since > 2 and entry == "x" or 3 days
            set since = data + 1
        """
    )
    diagnostics = check([parse(model, "model.play"), parse(playbook, "p.play")], {})
    assert [d.headline() for d in diagnostics] == []
