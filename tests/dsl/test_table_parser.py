"""The quick loop gives the very tree Lark gives, and hands every problem back to Lark.

`parse` reads a file with `dsl.table_parser.TableParser` (Lark's own tables run by one loop)
and, when the loop stops, with Lark itself. These tests hold the two to one result: on every
example of the repository, on tricky layouts, on generated and on mutated playbooks, the loop's
tree (comments included) is Lark's tree, and wherever Lark finds a problem the loop stops.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from dsl import ast
from dsl.diagnostics import DiagnosticError
from dsl.parser import normalise, parse, quick_parser
from dsl.table_parser import NotHandled
from tests.dsl.test_properties import generated_sources, mutated_library_files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = sorted(
    path for folder in ("playbooks", "examples", "tests") for path in (ROOT / folder).rglob("*.play")
)
DOCUMENTED = re.findall(r"```\n(.*?)```", (ROOT / "docs" / "language.md").read_text(encoding="utf-8"), re.S)
SAME = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lark_tree(text: str, path: str = "test.play") -> ast.File | DiagnosticError:
    try:
        return parse(text, path, quick=False)
    except DiagnosticError as error:
        return error


def assert_same_result(text: str, path: str = "test.play") -> None:
    """The loop parses what Lark parses, to the same tree, and stops where Lark finds a problem."""
    expected = lark_tree(text, path)
    loop = quick_parser()
    assert loop is not None
    if isinstance(expected, DiagnosticError):
        with pytest.raises((NotHandled, DiagnosticError)):
            loop.parse(normalise(text))
        with pytest.raises(DiagnosticError) as raised:
            parse(text, path)
        assert raised.value.diagnostic == expected.diagnostic
        return
    loop.parse(normalise(text))  # handled by the loop itself, not by the fallback
    assert parse(text, path) == expected


def test_the_loop_is_built_from_the_grammar() -> None:
    assert quick_parser() is not None


def test_the_repository_has_examples_to_compare() -> None:
    assert len(EXAMPLE_FILES) >= 10
    assert DOCUMENTED


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_example_file_gives_lark_s_tree(path: Path) -> None:
    assert_same_result(path.read_text(encoding="utf-8"), str(path))


def test_every_documented_example_gives_lark_s_result() -> None:
    for text in DOCUMENTED:
        assert_same_result(text)


VALID = {
    "comments everywhere": """\
# leading comment
playbook p "P":  # after a header
    trigger: event signed   # trailing
    # a comment line inside
    day 0:
        # before a statement
        send email welcome  # after a statement
            # deeper than the block

# between items
""",
    "tabs and odd indentation": "playbook p:\n\ttrigger: event signed\n\tday 1:\n\t\tsend email welcome\n",
    "a continued line": "playbook p:\n    trigger: event signed\n    audience: arr > 10 \\\n        and nps >= 9\n",
    "parentheses over lines": (
        "playbook p:\n    trigger: event signed\n    audience: exactly 2 of (champion,\n"
        "        nps >= 9,   # a comment inside\n        arr > 25k)\n"
    ),
    "windows line breaks": "playbook p:\r\n    trigger: event signed\r\n    day 0: send email welcome\r\n",
    "a byte-order mark and no final line break": "\ufeffplaybook p:\n    trigger: event signed",
    "keywords as names": (
        "account fields:\n    score: number\n    day: date\n    event: text\n    signed: boolean\n"
        "events:\n    login: score number, day text\n"
        "playbook p:\n    trigger: event login where score >= 9 and day == \"x\"\n"
        "    audience: score > 3 and event == \"x\" and signed\n"
    ),
    "minutes, millions and dates": (
        "playbook p:\n    trigger: event signed\n    audience: arr > 3m and renewal_date < 2026-04-15\n"
        "    day 0:\n        wait 30m\n        wait until task done or 3m\n        wait 2 business days\n"
    ),
    "every construct": """\
score health "Health":
    component usage max 60:
        60 if dau_pct >= 70% and feature_adoption >= 60%
        0 otherwise
    bands:
        green: 50 to 100
        red: 0 to 49

policy:
    quiet hours 20:00 to 08:00 account time
    at most 3 emails per account per 7 days
    at most 2 in_app messages per account per 1 day

metric weekly_logins = count login over 7 days

playbook p "P":
    trigger: every week on monday at 09:00
    audience: not (segment == "smb") or -arr < -5 and 80% of seats_licensed <= seats_used * 2 / 3
    exit: event churned or health is red
    goal: event upgraded or health is not green
    reentry: after 30 days
    send email welcome to primary_contact
    day 0:
        create task "Call {{ account.name }}" for csm.manager due 48h priority urgent
        set lifecycle_stage = "adopting"
        update score health
        do slack.notify channel="#cs" count=3 limit=-5 ratio=40% flag=true who=csm.manager
        if seen login within 7 days:
            send in_app tour
        else:
            wait until event project_created or task done or 7 days
        unless task open: wait 1 day
        split 50% / 50%:
            a:
                send email a
            b: send email b
    60 days before renewal_date at 10:00:
        send email renewal
""",
    "only comments": "# nothing but a comment\n\n# and another\n",
    "empty": "",
}


@pytest.mark.parametrize("name", list(VALID))
def test_tricky_layouts_give_lark_s_tree(name: str) -> None:
    text = VALID[name]
    assert not isinstance(lark_tree(text), DiagnosticError), "the example should be valid"
    assert_same_result(text)


INVALID = {
    "an unexpected character": "playbook p:\n    trigger: event signed\n    audience: arr ? 3\n",
    "a missing colon": "playbook p\n    trigger: event signed\n",
    "indentation at the start": "  playbook p:\n    trigger: event signed\n",
    "a line that lines up with no block": "playbook p:\n    trigger: event signed\n      day 1:\n   send email a\n",
    "a fraction of a day": "playbook p:\n    trigger: event signed\n    day 1.5:\n        send email a\n",
    "a wait without a limit": "playbook p:\n    trigger: event signed\n    wait until event login\n",
    "a task option twice": 'playbook p:\n    trigger: event signed\n    create task "t" for csm due 1d due 2d\n',
    "a bad time of day": "policy:\n    quiet hours 25:00 to 08:00\n",
    "an unterminated text": 'playbook p:\n    trigger: event signed\n    create task "t for csm\n',
    "too deep": "playbook p:\n    trigger: event signed\n    audience: " + "(" * 60 + "x" + ")" * 60 + "\n",
    "a minus where a duration goes": "playbook p:\n    trigger: event signed\n    day 2024-01-01:\n",
}


@pytest.mark.parametrize("name", list(INVALID))
def test_problems_are_left_to_lark(name: str) -> None:
    assert isinstance(lark_tree(INVALID[name]), DiagnosticError), "the example should be invalid"
    assert_same_result(INVALID[name])


@SAME
@given(generated_sources)
def test_generated_playbooks_give_lark_s_tree(source: str) -> None:
    assert_same_result(source)


@SAME
@given(mutated_library_files())
def test_mutated_library_files_give_lark_s_result(case: tuple[str, str]) -> None:
    path, text = case
    assert_same_result(text, path)
