"""Hostile `.play` text: the checker answers every one in bounded time with its own report.

- Library files mutated at random (hypothesis): spans deleted, duplicated, swapped, tokens and
  odd characters inserted, lines re-indented: compiling gives diagnostics or a bundle, never an
  exception, and quickly.
- `playbook check` (the real command, in a child process so a hang is a failure, not a stuck
  run) on parentheses and lists nested 10,000 deep, blocks nested 1,400 deep (a megabyte of
  indentation), and 1 MB files: exit 1
  with `file:line:col: message` lines, well within 30 s (a hang guard, not a benchmark).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import ir
from dsl.project import compile_files
from dsl.templates import load_templates
from tests.bad_input.conftest import FULL, size

LIBRARY = Path(__file__).resolve().parents[2] / "playbooks"
LIBRARY_FILES = sorted(LIBRARY.glob("*.play"))
HANG_GUARD_SECONDS = 30.0
DEPTH = 10_000
BLOCK_DEPTH = 1_400  # about 1 MB of indentation
ONE_MB = 1024 * 1024
DIAGNOSTIC = re.compile(r"^\S+:\d+:\d+: \S", re.MULTILINE)

TOKENS = (":", "(", ")", "[", "]", ",", "\"", "'", "{{", "}}", "{%", "%}", "#", "==", ">=", "%", "\t", "\n",
          "\n    ", "\n        ", "playbook", "trigger:", "audience:", "exit:", "day 0:", "if", "unless", "else:",
          "send email", "send in_app", "create task", "for csm", "due 48h", "priority high", "wait 3 days",
          "account fields:", "events:", "metric", "score", "one of", "and", "or", "not", "seen", "-1", "1e309",
          "99999999999999999999999", "\x00", "\ufeff", "\u2028", "\U0001f600", "\ufb01", "\U0001d51e", "\r")


@cache
def library_sources() -> dict[str, str]:
    return {str(path): path.read_text(encoding="utf-8") for path in LIBRARY_FILES}


@cache
def library_templates() -> dict[str, ir.Template]:
    return load_templates(LIBRARY)[0]


@st.composite
def mutated_library_file(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(sorted(library_sources())))
    text = library_sources()[path]
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 200)))
        match draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "indent", "cut"])):
            case "delete":
                text = text[:start] + text[end:]
            case "insert":
                piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)))
                text = text[:start] + piece + text[start:]
            case "duplicate":
                text = text[:end] + text[start:end] + text[end:]
            case "swap":
                lines = text.split("\n")
                i = draw(st.integers(0, len(lines) - 1))
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
                text = "\n".join(lines)
            case "indent":
                lines = text.split("\n")
                i = draw(st.integers(0, len(lines) - 1))
                lines[i] = " " * draw(st.integers(0, 17)) + lines[i].lstrip()
                text = "\n".join(lines)
            case _:
                text = text[:start]
    return path, text


@given(mutated_library_file())
@settings(max_examples=size(25, 2_000), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_mutated_library_files_get_diagnostics_or_a_bundle_never_an_exception(case: tuple[str, str]) -> None:
    path, text = case
    sources = dict(library_sources())
    sources[path] = text
    started = time.monotonic()
    compilation = compile_files(sources, library_templates())
    assert time.monotonic() - started < HANG_GUARD_SECONDS
    assert (compilation.bundle is None) == (not compilation.ok)
    for diagnostic in compilation.diagnostics:
        assert diagnostic.span.line >= 1 and diagnostic.message


def _check(folder: Path) -> tuple[int, str, float]:
    """`playbook check FOLDER` in a child process: exit status, stderr, seconds."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))",
         "check", str(folder)],
        capture_output=True, text=True, timeout=HANG_GUARD_SECONDS * 2, cwd=Path(__file__).resolve().parents[2],
    )
    return done.returncode, done.stderr, time.monotonic() - started


def _folder(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    shutil.copy(LIBRARY / "model.play", folder / "model.play")
    shutil.copy(LIBRARY / "health.play", folder / "health.play")
    shutil.copytree(LIBRARY / "templates", folder / "templates")
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _deep_blocks() -> str:
    # Blocks grow by their indentation, so the text grows with the square of the depth: one
    # space a level, BLOCK_DEPTH levels (10,000 would be a 50 MB file; expressions go 10,000 deep).
    lines = ['playbook deep "Deep":', " trigger: event signed", " day 0:"]
    lines += [" " * (depth + 2) + "if seats_used > 1:" for depth in range(BLOCK_DEPTH)]
    lines.append(" " * (BLOCK_DEPTH + 2) + 'create task "deep" for csm due 48h priority high')
    return "\n".join(lines) + "\n"


def _deep_expression(opening: str, closing: str) -> str:
    expression = opening * DEPTH + "1" + closing * DEPTH
    return (f'playbook deep "Deep":\n    trigger: event signed\n    audience: seats_used == {expression}\n'
            '    day 0:\n        create task "deep" for csm due 48h priority high\n')


def _one_mb_of_library() -> str:
    text = library_sources()[str(LIBRARY / "onboarding.play")]
    return (text * (ONE_MB // len(text) + 1))[:ONE_MB]


def _one_mb_line() -> str:
    return 'playbook big "' + "x" * ONE_MB + '":\n    trigger: event signed\n'


def _one_mb_of_junk() -> str:
    pieces = "".join(TOKENS) + "abc 123 ;;;; @@@ \\ ` $ ~"
    return (pieces * (ONE_MB // len(pieces) + 1))[:ONE_MB]


CASES = {
    "parentheses nested 10,000 deep": lambda: _deep_expression("(", ")"),
    "a 1 MB line": _one_mb_line,
    "blocks nested 1,400 deep": _deep_blocks,
    "lists nested 10,000 deep": lambda: _deep_expression("[", "]"),
    "1 MB of repeated playbooks": _one_mb_of_library,
    "1 MB of tokens in no order": _one_mb_of_junk,
}
CI_CASES = ("parentheses nested 10,000 deep", "a 1 MB line")  # each child process costs seconds: CI runs two


@pytest.mark.parametrize("case", list(CASES) if FULL else list(CI_CASES))
def test_playbook_check_answers_hostile_files_in_bounded_time_with_its_own_report(
        case: str, tmp_path: Path) -> None:
    folder = _folder(tmp_path, "hostile.play", CASES[case]())
    status, stderr, seconds = _check(folder)
    print(f"\n{case}: playbook check answered in {seconds:.1f} s")
    assert seconds < HANG_GUARD_SECONDS
    assert status == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    assert DIAGNOSTIC.search(stderr), stderr[-2000:]
    assert "hostile.play:" in stderr
    assert re.search(r"checked \d+ files? \(.*\): [\d,]+ errors?", stderr + "\n"), stderr[-500:]
