# ruff: noqa: E501  (expected messages are quoted whole, as a user reads them)
"""The send rules of the language: the send window and holidays, what happens over the cap, and a
playbook's `send policy` and `priority`: checked, formatted, lowered and printed back."""

from __future__ import annotations

from textwrap import dedent

from dsl import ir
from dsl.formatter import format_source
from dsl.ir_text import describe_policy
from dsl.lowering import lower
from dsl.parser import parse
from tests.dsl.test_checker import expected, problems
from tests.dsl.test_lowering import bundle_of, playbook_of

RULES = """\
account fields:
    account_holidays: text

policy:
    quiet hours 20:00 to 08:00 account time
    send on weekdays 09:00 to 17:00 account time
    holidays from account_holidays
    at most 3 emails per account per 7 days
    over the cap: defer
"""


def test_the_send_rules_check_clean() -> None:
    assert problems(RULES + """
playbook payment "Payment failed":
    trigger: event signed
    send policy: transactional
    priority: high
    send email welcome
""") == ""


def test_the_send_rules_lower_to_the_policy_and_the_playbook() -> None:
    bundle = bundle_of(RULES + """
playbook payment:
    trigger: event signed
    send policy: transactional
    priority: low
    send email welcome
""")
    assert bundle.policy.window == ir.SendWindow(days="weekdays", start="09:00", end="17:00",
                                                 holidays="account_holidays")
    assert bundle.policy.over_cap == "defer"
    assert bundle.playbooks["payment"].send_policy == "transactional"
    assert bundle.playbooks["payment"].priority == "low"


def test_without_the_new_rules_nothing_changes() -> None:
    playbook = playbook_of("send email welcome")
    assert (playbook.send_policy, playbook.priority) == ("standard", "normal")
    assert _policy("policy:\n    at most 3 emails per account per 7 days\n") == ir.Policy(
        caps=(ir.FrequencyCap(count=3, per=ir.Duration(amount=7, unit="days")),))


def test_every_day_and_holidays_in_another_policy_block() -> None:
    policy = _policy("""\
account fields:
    days_off: text

policy:
    holidays from days_off

policy:
    send every day 08:00 to 20:00
""")
    assert policy.window == ir.SendWindow(days="every_day", start="08:00", end="20:00", holidays="days_off")


def _policy(text: str) -> ir.Policy:
    return lower([parse(text, "policy.play")], {}).policy


def test_the_policy_prints_back_to_what_parses_to_it() -> None:
    policy = _policy(RULES)
    text = "account fields:\n    account_holidays: text\n\npolicy:\n" + "".join(f"    {line}\n" for line in describe_policy(policy))
    assert describe_policy(policy) == [
        "quiet hours 20:00 to 08:00 account time",
        "send on weekdays 09:00 to 17:00 account time",
        "holidays from account_holidays",
        "at most 3 emails per account per 7 days",
        "over the cap: defer",
    ]
    assert _policy(text) == policy


def test_the_formatter_keeps_the_send_rules() -> None:
    source = dedent("""\
        policy:
            send on weekdays 9:00 to 17:00
            over the cap:   drop

        playbook p:
            trigger: event signed
            send policy:  transactional
            priority:high
            send email welcome
        """)
    formatted = format_source(source, "f.play")
    assert formatted == dedent("""\
        policy:
            send on weekdays 09:00 to 17:00 account time
            over the cap: drop

        playbook p:
            trigger: event signed
            send policy: transactional
            priority: high
            send email welcome
        """)
    assert format_source(formatted, "f.play") == formatted


def test_a_window_that_closes_before_it_opens() -> None:
    assert problems("""\
policy:
    send on weekdays 17:00 to 09:00
""") == expected("""
        test.play:2:5: the send window must open before it closes: 17:00 is after 09:00 (quiet hours are the rule for nights)
                send on weekdays 17:00 to 09:00
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """)


def test_a_window_that_never_opens() -> None:
    assert problems("""\
policy:
    send every day 09:00 to 09:00
""") == expected("""
        test.play:2:5: the send window opens and closes at the same time
                send every day 09:00 to 09:00
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """)


def test_two_send_windows() -> None:
    assert problems("""\
policy:
    send on weekdays 09:00 to 17:00
    send every day 10:00 to 12:00
""") == expected("""
        test.play:3:5: the send window is set twice (first at test.play:2)
                send every day 10:00 to 12:00
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        """)


def test_holidays_from_an_unknown_field() -> None:
    assert problems("""\
policy:
    send on weekdays 09:00 to 17:00
    holidays from renewal_dat
""") == expected("""
        test.play:3:19: unknown account field 'renewal_dat' (did you mean 'renewal_date'?)
                holidays from renewal_dat
                              ^^^^^^^^^^^
        """)


def test_holidays_from_a_field_that_is_no_text() -> None:
    assert problems("""\
policy:
    send on weekdays 09:00 to 17:00
    holidays from renewal_date
""") == expected("""
        test.play:3:19: holidays are read from a text field of dates ("2026-12-24, 2026-12-25"): 'renewal_date' is date
                holidays from renewal_date
                              ^^^^^^^^^^^^
        """)


def test_holidays_without_a_send_window() -> None:
    assert problems("""\
policy:
    holidays from name
""") == expected("""
        test.play:2:5: holidays need a send window ('send on weekdays 09:00 to 17:00'): without one, mail goes on any day
                holidays from name
                ^^^^^^^^^^^^^^^^^^
        """)


def test_over_the_cap_takes_defer_or_drop() -> None:
    assert problems("""\
policy:
    over the cap: defers
""") == expected("""
        test.play:2:19: over the cap: 'defers' is neither 'defer' nor 'drop' (did you mean 'defer'?)
                over the cap: defers
                              ^^^^^^
        """)


def test_send_policy_and_priority_take_their_words() -> None:
    assert problems("""\
playbook p:
    trigger: event signed
    send policy: urgent
    priority: hihg
    priority: low
    send email welcome
""") == expected("""
        test.play:3:18: send policy: 'urgent' is not one of 'standard', 'transactional'
                send policy: urgent
                             ^^^^^^
        test.play:4:15: priority: 'hihg' is not one of 'high', 'normal', 'low' (did you mean 'high'?)
                priority: hihg
                          ^^^^
        test.play:5:5: 'priority' is written twice in playbook 'p'
                priority: low
                ^^^^^^^^
        """)
