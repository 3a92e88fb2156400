"""Properties that hold for every input, checked on generated and mutated playbooks.

- `fmt` is idempotent, and a formatted file compiles to the same IR as the file it came from.
- Whatever the text (the standard library with characters and tokens deleted, inserted and
  swapped, cut off anywhere, re-indented at random, nested thousands deep), compiling it gives
  the language's own diagnostics: no exception escapes, and `fmt` raises nothing but FormatError.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import ir
from dsl.formatter import FormatError, format_source
from dsl.project import Compilation, compile_files, compile_text
from dsl.templates import load_templates

LIBRARY = Path(__file__).resolve().parents[2] / "playbooks"
LIBRARY_FILES = sorted(LIBRARY.glob("*.play"))
MODEL_PATH = str(LIBRARY / "model.play")
SCORES_PATH = str(LIBRARY / "health.play")

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROBUSTNESS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def library_sources() -> dict[str, str]:
    return {str(path): path.read_text(encoding="utf-8") for path in LIBRARY_FILES}


@cache
def library_templates() -> dict[str, ir.Template]:
    templates, problems = load_templates(LIBRARY)
    assert not [p for p in problems if p.is_error]
    return templates


def compile_with_library(path: str, text: str) -> Compilation:
    """Compile the standard library with one file replaced (or added)."""
    sources = dict(library_sources())
    sources[path] = text
    return compile_files(sources, library_templates())


def compile_with_model(path: str, text: str) -> Compilation:
    """Compile one file with the library's account model and score models."""
    sources = {name: library_sources()[name] for name in (MODEL_PATH, SCORES_PATH)}
    sources[path] = text
    return compile_files(sources, library_templates())


def meaning(bundle: ir.Bundle | None) -> Any:
    """The bundle without what layout may change: source lines and the versions hashed from them."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not (k == "line" and value.get("kind") == "if")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    assert bundle is not None
    dumped = bundle.model_dump(mode="json")
    dumped.pop("versions")
    return strip(dumped)


# --------------------------------------------------------------------------- generated playbooks
#
# A playbook is generated as logical lines (depth, tokens), valid against the library's model,
# then written out with random layout: indentation unit, spaces between tokens, duration
# spellings, blank lines, comments.

WORD = re.compile(r"^[\w\"%.{}]")
Line = tuple[int, list[str]]

NUMERIC = ["arr", "seats_used", "seats_licensed", "tasks_completed", "nps", "csat", "data_volume_gb"]
PERCENT = ["dau_pct", "feature_adoption", "api_calls_pct"]
BOOLEAN = ["qbr_attended", "training_done", "champion", "exec_sponsor", "engagement_high"]
EMAILS = ["welcome", "first_project", "webinar_invite", "trial_rescue", "feature_spotlight"]
IN_APPS = ["core_workflows_tutorial", "upgrade_prompt"]

durations = st.sampled_from([
    ["48h"], ["48", "hours"], ["1", "hour"], ["30m"], ["90", "minutes"], ["2", "days"], ["2d"], ["1", "day"],
    ["3", "weeks"], ["1", "week"], ["2w"], ["2", "business", "days"], ["1", "business", "day"],
])
numbers = st.sampled_from(["0", "3", "10", "4.5", "25k", "1.5m", "15000"])
percents = st.sampled_from(["0%", "20%", "40%", "99.5%"])


def comparisons() -> st.SearchStrategy[list[str]]:
    op = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    return st.one_of(
        st.tuples(st.sampled_from(NUMERIC), op, numbers).map(list),
        st.tuples(st.sampled_from(PERCENT), op, percents).map(list),
        st.tuples(st.sampled_from(NUMERIC), op, percents, st.just("of"), st.sampled_from(NUMERIC)).map(list),
        st.tuples(st.sampled_from(NUMERIC), st.sampled_from(["+", "-", "*", "/"]), numbers, op, numbers).map(list),
        st.sampled_from(BOOLEAN).map(lambda name: [name]),
        st.sampled_from([["health", "is", "red"], ["health", "is", "not", "green"], ["segment", "==", '"smb"'],
                         ["ticket_trend", "is", "increasing"], ["seen", "login"]]),
        durations.map(lambda d: ["seen", "project_created", "within", *d]),
        st.just(["exactly", "2", "of", "(", "qbr_attended", ",", "training_done", ",", "champion", ")"]),
    )


expressions = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: [*t[0], t[1], *t[2]]),
        inner.map(lambda e: ["not", "(", *e, ")"]),
        inner.map(lambda e: ["(", *e, ")"]),
    ),
    max_leaves=4,
)


@st.composite
def statements(draw: st.DrawFn, depth: int, budget: int) -> list[Line]:
    kind = draw(st.sampled_from(["email", "in_app", "task", "wait", "until", "set", "score", "if", "split"]))
    if kind in ("if", "split") and (budget <= 0 or depth >= 5):
        kind = "email"
    if kind == "email":
        to = draw(st.sampled_from([[], ["to", "primary_contact"]]))
        return [(depth, ["send", "email", draw(st.sampled_from(EMAILS)), *to])]
    if kind == "in_app":
        return [(depth, ["send", "in_app", draw(st.sampled_from(IN_APPS))])]
    if kind == "task":
        tokens = ["create", "task", '"Call {{ account.name }}"', "for", draw(st.sampled_from(["csm", "csm.manager"]))]
        options = [["due", *draw(durations)], ["priority", draw(st.sampled_from(["low", "high", "urgent"]))]]
        for option in draw(st.permutations(options))[: draw(st.integers(0, 2))]:
            tokens += option
        return [(depth, tokens)]
    if kind == "wait":
        return [(depth, ["wait", *draw(durations)])]
    if kind == "until":
        return [(depth, ["wait", "until", "event", "project_created", "or", *draw(durations)])]
    if kind == "set":
        return [(depth, ["set", "tasks_completed", "=", "tasks_completed", "+", draw(numbers)])]
    if kind == "score":
        return [(depth, ["update", "score", "health"])]
    if kind == "split":
        lines: list[Line] = [(depth, ["split", "50%", "/", "50%", ":"])]
        for label in ("a", "b"):
            lines.append((depth + 1, [label, ":"]))
            lines += draw(bodies(depth + 2, budget - 1))
        return lines
    keyword = draw(st.sampled_from(["if", "unless"]))
    lines = [(depth, [keyword, *draw(expressions), ":"]), *draw(bodies(depth + 1, budget - 1))]
    if draw(st.booleans()):
        lines += [(depth, ["else", ":"]), *draw(bodies(depth + 1, budget - 1))]
    return lines


def bodies(depth: int, budget: int) -> st.SearchStrategy[list[Line]]:
    return st.lists(statements(depth, budget), min_size=1, max_size=3).map(lambda ls: [x for s in ls for x in s])


triggers = st.sampled_from([
    ["event", "signed"], ["event", "nps_response", "where", "score", ">=", "9"], ["health", "becomes", "red"],
    ["seats_used", ">=", "80%", "of", "seats_licensed"], ["every", "month", "on", "day", "1", "at", "10:00"],
    ["every", "quarter"], ["weekly_logins", "down", "40%", "week", "over", "week", "for", "3", "weeks"],
])


@st.composite
def playbooks(draw: st.DrawFn) -> list[Line]:
    lines: list[Line] = [(0, ["playbook", "generated", '"A generated playbook"', ":"]),
                         (1, ["trigger", ":", *draw(triggers)])]
    if draw(st.booleans()):
        lines.append((1, ["audience", ":", *draw(expressions)]))
    if draw(st.booleans()):
        lines.append((1, ["exit", ":", "event", "churned", "or", "health", "is", "red"]))
    if draw(st.booleans()):
        lines.append((1, ["reentry", ":", "after", *draw(durations)]))
    days = sorted(draw(st.sets(st.integers(0, 60), min_size=1, max_size=3)))
    for day in days:
        lines.append((1, ["day", str(day), ":"]))
        lines += draw(bodies(2, 2))
    return lines


@st.composite
def layouts(draw: st.DrawFn, lines: list[Line]) -> str:
    """The lines written with random indentation, spacing, blank lines and comments."""
    unit = draw(st.sampled_from(["    ", "  ", "   ", "\t", "        "]))
    out: list[str] = []
    for depth, tokens in lines:
        if draw(st.integers(0, 5)) == 0:
            out.append("")
        if draw(st.integers(0, 6)) == 0:
            out.append(unit * depth + draw(st.sampled_from(["# a note", "#", "#  spaced  note"])))
        text = tokens[0]
        for previous, token in pairwise(tokens):
            needs_space = bool(WORD.match(previous[-1]) and WORD.match(token)) or previous == "-"
            text += " " * draw(st.integers(1 if needs_space else 0, 3)) + token
        if draw(st.integers(0, 6)) == 0:
            text += " " * draw(st.integers(1, 4)) + "# trailing"
        out.append(unit * depth + text + " " * draw(st.integers(0, 2)))
    return "\n".join(out) + "\n"


generated_sources = playbooks().flatmap(layouts)


@PROPERTY
@given(generated_sources)
def test_fmt_keeps_the_meaning_of_generated_playbooks(source: str) -> None:
    path = str(LIBRARY / "generated.play")
    original = compile_with_model(path, source)
    assert original.ok, original.render() + "\n" + source
    formatted = format_source(source, path)
    again = compile_with_model(path, formatted)
    assert again.ok, again.render() + "\n" + formatted
    assert meaning(again.bundle) == meaning(original.bundle)


@PROPERTY
@given(generated_sources)
def test_fmt_is_idempotent_on_generated_playbooks(source: str) -> None:
    once = format_source(source, "generated.play")
    assert format_source(once, "generated.play") == once


def test_fmt_keeps_the_meaning_of_the_standard_library() -> None:
    sources = library_sources()
    formatted = {path: format_source(text, path) for path, text in sources.items()}
    for path, text in formatted.items():
        assert format_source(text, path) == text, path
    before = compile_files(sources, library_templates())
    after = compile_files(formatted, library_templates())
    assert before.ok and after.ok
    assert meaning(after.bundle) == meaning(before.bundle)


# --------------------------------------------------------------------------- robustness

TOKEN = re.compile(r'"[^"\n]*"|\w+%?|[^\w\s]|\s+')
VOCABULARY = ["playbook", "trigger:", "day", "if", "else:", "unless", "event", "send", "email", "wait", "until",
              "or", "and", "not", "(", ")", ":", "\n", "\n    ", "\n        ", "\t", "#", '"', "%", "==",
              "25k", "48h", "2 days", "split", "50%", "/", "score", "bands:", "component", "max", "\\\n",
              "exactly", "of", "seen", "within", "do", "slack.notify", "x=", "-", ".", ",", "\r", "\ufeff"]


@st.composite
def mutated_library_files(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(LIBRARY_FILES))
    text = path.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(
            ["delete", "insert", "replace", "swap", "delete_token", "insert_token", "swap_tokens",
             "duplicate_line", "reindent", "truncate"]
        ))
        if not text:
            text = draw(st.sampled_from(VOCABULARY))
            continue
        at = draw(st.integers(0, len(text) - 1))
        if operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif operation == "insert":
            text = text[:at] + draw(st.text(min_size=1, max_size=3)) + text[at:]
        elif operation == "replace":
            text = text[:at] + draw(st.characters()) + text[at + 1:]
        elif operation == "swap" and at + 1 < len(text):
            text = text[:at] + text[at + 1] + text[at] + text[at + 2:]
        elif operation == "truncate":
            text = text[:at]
        elif operation == "reindent":
            lines = text.split("\n")
            row = draw(st.integers(0, len(lines) - 1))
            lines[row] = " " * draw(st.integers(0, 13)) + lines[row].lstrip()
            text = "\n".join(lines)
        elif operation == "duplicate_line":
            lines = text.split("\n")
            row = draw(st.integers(0, len(lines) - 1))
            lines.insert(row, lines[row])
            text = "\n".join(lines)
        else:
            tokens = TOKEN.findall(text)
            index = draw(st.integers(0, len(tokens) - 1))
            if operation == "delete_token":
                del tokens[index]
            elif operation == "insert_token":
                tokens.insert(index, draw(st.sampled_from(VOCABULARY)))
            elif index + 1 < len(tokens):
                tokens[index], tokens[index + 1] = tokens[index + 1], tokens[index]
            text = "".join(tokens)
    return str(path), text


def formats_or_reports(text: str, path: str) -> None:
    try:
        once = format_source(text, path)
    except FormatError as error:
        assert error.diagnostics
        return
    assert format_source(once, path) == once


@ROBUSTNESS
@given(mutated_library_files())
def test_mutated_library_files_give_diagnostics_never_exceptions(case: tuple[str, str]) -> None:
    path, text = case
    alone = compile_text(text, path)
    assert alone.ok or alone.diagnostics
    together = compile_with_library(path, text)
    assert together.ok == (together.bundle is not None)
    assert together.ok or together.render()
    formats_or_reports(text, path)


@ROBUSTNESS
@given(st.lists(st.sampled_from([*VOCABULARY, " ", " ", "\n", "\n    "]), max_size=60).map("".join))
def test_arbitrary_sequences_of_the_language_words_give_diagnostics(text: str) -> None:
    result = compile_text(text, "random.play")
    assert result.ok or result.diagnostics
    formats_or_reports(text, "random.play")


def nested_ifs(depth: int) -> str:
    lines = ['playbook deep "Deep":', "    trigger: event signed"]
    lines += ["    " * (level + 1) + "if arr > 1:" for level in range(depth)]
    lines.append("    " * (depth + 1) + "send email welcome")
    return "\n".join(lines) + "\n"


def test_five_thousand_nested_ifs_give_a_diagnostic_not_a_crash() -> None:
    text = nested_ifs(5000)
    result = compile_text(text, "deep.play")
    assert not result.ok
    assert any("deep" in d.message or "nesting" in d.message for d in result.diagnostics), result.render()
    formats_or_reports(text, "deep.play")


def test_five_thousand_nested_parentheses_give_a_diagnostic_not_a_crash() -> None:
    text = 'playbook deep "Deep":\n    trigger: event signed\n    audience: ' + "(" * 5000 + "arr > 1" + ")" * 5000
    result = compile_text(text + "\n", "parens.play")
    assert not result.ok
    formats_or_reports(text, "parens.play")


def test_a_long_flat_playbook_compiles() -> None:
    body = "".join(f"    day {day}:\n        send email welcome\n" for day in range(1800))  # days up to 5 years
    result = compile_with_library(str(LIBRARY / "long.play"), 'playbook long "Long":\n    trigger: event signed\n'
                                  + body)
    assert result.ok, result.render()
