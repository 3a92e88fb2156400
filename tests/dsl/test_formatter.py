"""The canonical layout: what `format_source` does to each part of a file."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from dsl.formatter import FormatError, format_source

LIBRARY = Path(__file__).resolve().parents[2] / "playbooks"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cs-playbooks"


def fmt(text: str) -> str:
    return format_source(dedent(text), "test.play")


def test_blocks_are_indented_by_four_spaces() -> None:
    assert fmt(
        """\
        playbook p "P":
          trigger: event signed
          day 0:
             send email welcome
        """
    ) == dedent(
        """\
        playbook p "P":
            trigger: event signed
            day 0:
                send email welcome
        """
    )


def test_tabs_in_indentation_become_spaces() -> None:
    source = 'playbook p "P":\n\ttrigger: event signed\n\tday 0:\n\t\tsend email welcome\n'
    assert format_source(source, "t.play") == (
        'playbook p "P":\n    trigger: event signed\n    day 0:\n        send email welcome\n'
    )


def test_seen_since_entry_is_printed_as_written() -> None:
    source = 'playbook p "P":\n    trigger: event signed\n    day 7:\n        unless  seen signed   since  entry:\n' \
             '            send email welcome\n'
    assert format_source(source, "t.play") == (
        'playbook p "P":\n    trigger: event signed\n    day 7:\n        unless seen signed since entry:\n'
        '            send email welcome\n'
    )


def test_operators_get_one_space_and_clauses_one_space_after_the_colon() -> None:
    assert fmt(
        """\
        playbook p:
            trigger:event signed
            audience:segment=="smb"   and   arr<25k
            goal:  seats_used>=80%  of  seats_licensed
            day 1:
                set score_total=arr*2+ -(seats_used-1)/4
        """
    ) == dedent(
        """\
        playbook p:
            trigger: event signed
            audience: segment == "smb" and arr < 25k
            goal: seats_used >= 80% of seats_licensed
            day 1:
                set score_total = arr * 2 + -(seats_used - 1) / 4
        """
    )


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("48h", "48h"),
        ("48 hours", "48h"),
        ("1 hour", "1h"),
        ("30 minutes", "30m"),
        ("2d", "2 days"),
        ("1 days", "1 day"),
        ("2   day", "2 days"),
        ("3w", "3 weeks"),
        ("1 weeks", "1 week"),
        ("2 business  day", "2 business days"),
        ("1 business days", "1 business day"),
    ],
)
def test_durations_are_written_one_way(written: str, canonical: str) -> None:
    header = "playbook p:\n    trigger: event signed\n"
    assert format_source(f"{header}    wait {written}\n", "d.play") == f"{header}    wait {canonical}\n"


def test_one_blank_line_between_top_level_items_and_at_most_one_inside_blocks() -> None:
    assert fmt(
        """\
        events:
            signed
            churned
        metric weekly_logins = count login over 7 days



        playbook p:
            trigger: event signed


            day 0:

                send email welcome


                send email tips
            day 3:
                send email more
        """
    ) == dedent(
        """\
        events:
            signed
            churned

        metric weekly_logins = count login over 7 days

        playbook p:
            trigger: event signed

            day 0:
                send email welcome

                send email tips
            day 3:
                send email more
        """
    )


def test_comments_are_kept_on_their_lines_and_before_the_line_they_preceded() -> None:
    source = """\
        # The onboarding journey.

        # Owned by the CS ops team.
        playbook p "P":   # the header
            trigger: event signed
              # who may enter
            audience: segment == "smb"
            day 0:
                # first contact
                send email welcome  # the checklist
            # end of the first week
            day 7:
                send email tips
        # the end
        """
    assert fmt(source) == dedent(
        """\
        # The onboarding journey.

        # Owned by the CS ops team.
        playbook p "P":  # the header
            trigger: event signed
            # who may enter
            audience: segment == "smb"
            day 0:
                # first contact
                send email welcome  # the checklist
            # end of the first week
            day 7:
                send email tips
        # the end
        """
    )


def test_comments_aligned_in_a_paragraph_stay_aligned_and_others_follow_their_code() -> None:
    source = dedent(
        """\
        account fields:
          name: text               # the account's name
          segment: text
          arr:   money             # yearly revenue
          csm: owner      # who owns it

          primary_contact: contact # who we write to
          seats_used: number   # a lone comment in its paragraph
        """
    )
    assert format_source(source, "m.play") == dedent(
        """\
        account fields:
            name: text             # the account's name
            segment: text
            arr: money             # yearly revenue
            csm: owner  # who owns it

            primary_contact: contact  # who we write to
            seats_used: number  # a lone comment in its paragraph
        """
    )


def test_aligned_comments_move_right_together_when_code_grows() -> None:
    source = "account fields:\n  name: text               # a\n  primary_contact: contact # b\n  arr: money # c\n"
    assert format_source(source, "m.play") == (
        "account fields:\n"
        "    name: text                # a\n"
        "    primary_contact: contact  # b\n"
        "    arr: money  # c\n"
    )


def test_a_comment_at_the_end_of_a_nested_block_keeps_its_depth() -> None:
    source = dedent(
        """\
        playbook p:
            trigger: event signed
            day 0:
                if arr > 10:
                    send email big
                    # still about big accounts
                send email all
        """
    )
    assert format_source(source, "c.play") == source


def test_a_one_line_block_is_split_onto_its_own_line() -> None:
    assert fmt(
        """\
        playbook p:
            trigger: event signed
            day 0: send email welcome
        """
    ) == dedent(
        """\
        playbook p:
            trigger: event signed
            day 0:
                send email welcome
        """
    )


def test_texts_keep_their_escapes_and_parentheses_are_kept() -> None:
    source = dedent(
        """\
        playbook p "The \\"best\\" one":
            trigger: event signed
            audience: (segment == "smb" or segment == "trial") and not (arr > 25k)
            create task "Call \\"{{ account.name }}\\"" for csm.manager due 2 days priority high
        """
    )
    assert format_source(source, "t.play") == source


def test_a_line_continued_with_a_backslash_is_joined() -> None:
    assert fmt(
        """\
        playbook p:
            trigger: event signed
            audience: segment == "smb" \\
                and arr < 25k
        """
    ) == dedent(
        """\
        playbook p:
            trigger: event signed
            audience: segment == "smb" and arr < 25k
        """
    )


def test_a_file_that_does_not_parse_raises_with_its_diagnostics() -> None:
    with pytest.raises(FormatError) as raised:
        format_source('playbook p "P":\n    trigger event signed\n', "broken.play")
    assert raised.value.diagnostics
    assert raised.value.diagnostics[0].span.path == "broken.play"
    assert raised.value.diagnostics[0].span.line == 2


def test_an_empty_file_stays_empty() -> None:
    assert format_source("", "empty.play") == ""


def test_a_file_of_comments_only_keeps_them() -> None:
    source = "# nothing yet\n\n\n# more later   \n"
    assert format_source(source, "c.play") == "# nothing yet\n\n# more later\n"


@pytest.mark.parametrize("path", sorted([*LIBRARY.glob("*.play"), *EXAMPLES.glob("*.play")]),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_standard_library_and_the_examples_are_in_canonical_layout(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(text, str(path)) == text


def test_a_call_with_what_to_do_when_it_fails_is_printed_on_one_line_and_round_trips() -> None:
    written = """\
        playbook p "P":
            trigger: event signed
            day 0:
                do crm.update   amount=arr   else:create task "By hand" for csm
        """
    canonical = dedent(
        """\
        playbook p "P":
            trigger: event signed
            day 0:
                do crm.update amount=arr else: create task "By hand" for csm
        """
    )
    assert fmt(written) == canonical
    assert format_source(canonical, "test.play") == canonical


def test_fewer_attempts_for_one_call_are_printed_before_its_else() -> None:
    canonical = dedent(
        """\
        playbook p "P":
            trigger: event signed
            day 0:
                do crm.update amount=arr at most 1 attempt else: create task "By hand" for csm
                do crm.update amount=arr at most 2 attempts
        """
    )
    assert fmt(canonical.replace("at most 2 attempts", "at   most 2   attempts")) == canonical


def test_one_line_declarations_written_together_stay_together() -> None:
    source = dedent(
        """\
        events:
            login

        metric a = count login over 7 days
        metric b = count login over 30 days
        audience busy: a > 3
        audience very_busy: busy and b > 20



        audience quiet: a == 0
        """
    )
    expected = source.replace("\n\n\n\naudience quiet", "\n\naudience quiet").replace(
        "30 days\naudience busy", "30 days\n\naudience busy")  # another kind: a blank line between
    assert fmt(source) == expected
