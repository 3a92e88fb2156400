"""Parse errors: each message, exactly as a CS ops person sees it (place, line, caret)."""

from __future__ import annotations

import time
from textwrap import dedent

import pytest

from dsl import DiagnosticError, parse
from dsl.indenter import MAX_DEPTH


def error_of(text: str) -> str:
    """The rendered diagnostic for text that must not parse."""
    source = dedent(text)
    with pytest.raises(DiagnosticError) as caught:
        parse(source, "f.play")
    return caught.value.diagnostic.render(source)


def rendered(text: str) -> str:
    return dedent(text).rstrip("\n")


PLAYBOOK = "playbook p:\n    trigger: event signed\n"


def test_missing_colon_at_the_end_of_a_step_line() -> None:
    assert error_of(PLAYBOOK + "    day 7\n        send email w\n") == rendered(
        """\
        f.play:3:10: expected ':' at the end of the line
                day 7
                     ^
        """
    )


def test_missing_colon_after_an_if_condition() -> None:
    assert error_of(PLAYBOOK + "    if arr > 5\n        send email w\n") == rendered(
        """\
        f.play:3:15: expected ':' at the end of the line
                if arr > 5
                          ^
        """
    )


def test_a_step_without_an_indented_block() -> None:
    assert error_of(PLAYBOOK + "    day 7:\n    send email w\n") == rendered(
        """\
        f.play:4:5: expected an indented block after 'day 7:'
                send email w
                ^^^^
        """
    )


def test_a_step_without_a_block_at_the_end_of_the_file_points_after_the_step() -> None:
    assert error_of(PLAYBOOK + "    day 7:   # soon\n") == rendered(
        """\
        f.play:3:11: expected an indented block after 'day 7:'
                day 7:   # soon
                      ^
        """
    )


def test_unexpected_indentation() -> None:
    assert error_of(PLAYBOOK + "        send email w\n") == rendered(
        """\
        f.play:3:9: unexpected indentation
                    send email w
                    ^
        """
    )


def test_an_indented_first_line() -> None:
    assert error_of("# model\n  account fields:\n    arr: money\n") == rendered(
        """\
        f.play:2:3: unexpected indentation
              account fields:
              ^
        """
    )


def test_an_indentation_that_lines_up_with_no_block() -> None:
    assert error_of(PLAYBOOK + "    day 1:\n        send email w\n      send email v\n") == rendered(
        """\
        f.play:5:7: this line's indentation does not line up with any block above it
                  send email v
                  ^
        """
    )


def test_a_duration_where_a_word_was_written() -> None:
    assert error_of(PLAYBOOK + '    create task "Call" for csm due soon\n') == rendered(
        """\
        f.play:3:36: expected a duration such as 48h or 3 days
                create task "Call" for csm due soon
                                               ^^^^
        """
    )


def test_a_number_without_a_unit_of_time() -> None:
    assert error_of(PLAYBOOK + "    wait 3\n") == rendered(
        """\
        f.play:3:11: expected a unit of time after '3', such as minutes, hours, days or weeks
                wait 3
                      ^
        """
    )


def test_unterminated_text() -> None:
    assert error_of('playbook p "Onboarding:\n    trigger: event signed\n') == rendered(
        """\
        f.play:1:12: unterminated text (missing closing ")
            playbook p "Onboarding:
                       ^
        """
    )


def test_a_single_equals_sign_in_a_comparison() -> None:
    assert error_of(PLAYBOOK + '    audience: segment = "smb"\n') == rendered(
        """\
        f.play:3:23: unexpected '=': to compare two values, write '=='
                audience: segment = "smb"
                                  ^
        """
    )


def test_single_quotes_around_text() -> None:
    assert error_of(PLAYBOOK + "    audience: segment == 'smb'\n") == rendered(
        """\
        f.play:3:26: text is written in double quotes ("like this"), not single quotes
                audience: segment == 'smb'
                                     ^
        """
    )


def test_an_unknown_character() -> None:
    assert error_of(PLAYBOOK + "    audience: arr > $5\n") == rendered(
        """\
        f.play:3:21: unexpected character '$'
                audience: arr > $5
                                ^
        """
    )


def test_a_misspelt_statement_suggests_the_keyword() -> None:
    assert error_of(PLAYBOOK + "    day 1:\n        sned email welcome\n") == rendered(
        """\
        f.play:4:9: unknown statement 'sned' (did you mean 'send'?)
                    sned email welcome
                    ^^^^
        """
    )


def test_a_misspelt_clause_suggests_the_keyword() -> None:
    assert error_of("playbook p:\n    triger: event signed\n") == rendered(
        """\
        f.play:2:5: unknown clause or statement 'triger' (did you mean 'trigger'?)
                triger: event signed
                ^^^^^^
        """
    )


def test_a_misspelt_top_level_item_suggests_the_keyword() -> None:
    assert error_of("playbok p:\n    trigger: event signed\n") == rendered(
        """\
        f.play:1:1: unknown item 'playbok' (did you mean 'playbook'?)
            playbok p:
            ^^^^^^^
        """
    )


def test_an_unknown_top_level_word_lists_what_a_file_holds() -> None:
    assert error_of("hello\n") == rendered(
        """\
        f.play:1:1: unknown item 'hello': expected 'playbook', 'score', 'policy', 'metric', 'audience', \
'events:', 'account fields:', 'task types:', 'task template', 'team' or 'success plan'
            hello
            ^^^^^
        """
    )


def test_a_misspelt_keyword_inside_a_statement() -> None:
    assert error_of(PLAYBOOK + "    send emial welcome\n") == rendered(
        """\
        f.play:3:10: unexpected 'emial': expected 'email', 'in_app' or 'policy' (did you mean 'email'?)
                send emial welcome
                     ^^^^^
        """
    )


def test_else_without_an_if() -> None:
    assert error_of(PLAYBOOK + "    send email w\n    else:\n        send email v\n") == rendered(
        """\
        f.play:4:5: 'else' without an 'if' just above it
                else:
                ^^^^
        """
    )


def test_a_line_that_ends_in_the_middle_of_a_condition() -> None:
    assert error_of(PLAYBOOK + "    audience: arr >\n") == rendered(
        """\
        f.play:3:20: expected a value or a condition before the end of the line
                audience: arr >
                               ^
        """
    )


def test_an_empty_trigger() -> None:
    assert error_of("playbook p:\n    trigger:\n") == rendered(
        """\
        f.play:2:13: expected a trigger such as 'event signed', 'health becomes red', 'every month' \
or a condition before the end of the line
                trigger:
                        ^
        """
    )


def test_two_words_where_one_name_was_expected() -> None:
    assert error_of(PLAYBOOK + "    exit: evnt churned\n") == rendered(
        """\
        f.play:3:16: unexpected 'churned': expected an operator or the end of the line
                exit: evnt churned
                           ^^^^^^^
        """
    )


def test_a_time_of_day_out_of_range() -> None:
    assert error_of("policy:\n    quiet hours 25:00 to 08:00\n") == rendered(
        """\
        f.play:2:17: '25:00' is not a time of day (expected 00:00 to 23:59)
                quiet hours 25:00 to 08:00
                            ^^^^^
        """
    )


def test_a_fraction_of_a_day() -> None:
    assert error_of(PLAYBOOK + "    day 1.5:\n        send email w\n") == rendered(
        """\
        f.play:3:9: expected a whole number of days, not 1.5
                day 1.5:
                    ^^^
        """
    )


def test_wait_until_without_a_time_limit() -> None:
    assert error_of(PLAYBOOK + "    wait until event project_created\n") == rendered(
        """\
        f.play:3:16: expected a time limit at the end, such as 'or 7 days'
                wait until event project_created
                           ^^^^^^^^^^^^^^^^^^^^^
        """
    )


def test_wait_until_with_the_time_limit_in_the_middle() -> None:
    assert error_of(PLAYBOOK + "    wait until 7 days or event a or 2 days\n") == rendered(
        """\
        f.play:3:16: only the last alternative of 'wait until' may be a time limit
                wait until 7 days or event a or 2 days
                           ^^^^^^
        """
    )


def test_a_task_option_given_twice() -> None:
    assert error_of(PLAYBOOK + '    create task "Call" for csm due 2 days due 3 days\n') == rendered(
        """\
        f.play:3:43: 'due' is given twice in this task
                create task "Call" for csm due 2 days due 3 days
                                                      ^^^^^^^^^^
        """
    )


def test_a_second_bands_block() -> None:
    text = "score h:\n    bands:\n        red: 0 to 10\n    bands:\n        red: 0 to 10\n"
    assert error_of(text) == rendered(
        """\
        f.play:4:5: score 'h' already has a 'bands:' block
                bands:
                ^^^^^^
        """
    )


def test_five_thousand_nested_blocks_report_nesting_too_deep_at_the_first_level_too_many() -> None:
    lines = [PLAYBOOK.rstrip("\n")]
    lines += ["    " * (level + 1) + "if a:" for level in range(5000)]
    lines.append("    " * 5001 + "send email w")
    source = "\n".join(lines) + "\n"
    with pytest.raises(DiagnosticError) as caught:
        parse(source, "f.play")
    diagnostic = caught.value.diagnostic
    assert diagnostic.headline() == (
        f"f.play:{MAX_DEPTH + 3}:{4 * (MAX_DEPTH + 1) + 1}: "
        f"nesting too deep: more than {MAX_DEPTH} levels of indented blocks"
    )


def test_deeply_nested_parentheses_report_nesting_too_deep() -> None:
    depth = 5000
    source = PLAYBOOK + "    audience: " + "(" * depth + "a" + ")" * depth + "\n"
    with pytest.raises(DiagnosticError) as caught:
        parse(source, "f.play")
    assert caught.value.diagnostic.headline() == (
        f"f.play:3:{15 + MAX_DEPTH}: nesting too deep: more than {MAX_DEPTH} levels of parentheses"
    )


def test_thousands_of_nots_parse_without_overflowing_the_stack() -> None:
    tree = parse(PLAYBOOK + "    audience: " + "not " * 5000 + "a\n", "f.play")
    assert len(tree.items) == 1


def test_an_error_never_names_a_parser_token() -> None:
    samples = [
        PLAYBOOK + "    day 7\n",
        PLAYBOOK + "    wait until\n",
        PLAYBOOK + "    send\n",
        PLAYBOOK + "    create task for csm\n",
        PLAYBOOK + "    audience: (a\n",
        PLAYBOOK + "    split 50%:\n        a: send email x\n",
        "account fields:\n    arr money\n",
        "events:\n    signed:\n",
        "metric m = count\n",
        "score s:\n    component c:\n",
        "policy:\n    at most emails\n",
        "playbook",
        "playbook p:\n",
    ]
    for sample in samples:
        with pytest.raises(DiagnosticError) as caught:
            parse(sample, "f.play")
        message = caught.value.diagnostic.message
        for token_name in ("_NEWLINE", "_INDENT", "_DEDENT", "NAME", "$END", "STRING", "LPAR", "COLON", "__"):
            assert token_name not in message, (sample, message)


def test_an_error_is_found_fast_in_a_large_file() -> None:
    body = "".join(f"    day {day}:\n        send email w{day}\n" for day in range(3_000))
    source = PLAYBOOK + body + "    day 3001\n"
    started = time.perf_counter()
    with pytest.raises(DiagnosticError) as caught:
        parse(source, "f.play")
    assert caught.value.diagnostic.span.line == 6_003
    assert time.perf_counter() - started < 30
