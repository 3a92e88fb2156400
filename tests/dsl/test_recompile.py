"""Compiling again after one file changed gives what compiling the folder whole gives, checking
that file alone when nothing else can change, and declines when an edit can reach other files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.project import Compilation, ParsedTrees, compile_files
from dsl.recompile import recompile_file
from dsl.templates import load_templates

LIBRARY = Path(__file__).resolve().parents[2] / "playbooks"
ONBOARDING = str(LIBRARY / "onboarding.play")
MODEL = str(LIBRARY / "model.play")


@pytest.fixture
def folder() -> tuple[dict[str, str], ParsedTrees, Compilation]:
    sources = {str(path): path.read_text(encoding="utf-8") for path in sorted(LIBRARY.glob("*.play"))}
    trees: ParsedTrees = {}
    templates, problems = load_templates(LIBRARY)
    return sources, trees, compile_files(sources, templates, None, problems, trees=trees)


def _whole(sources: dict[str, str]) -> Compilation:
    templates, problems = load_templates(LIBRARY)
    return compile_files(sources, templates, None, problems)


def _again(previous: Compilation, trees: ParsedTrees, path: str, text: str) -> Compilation | None:
    return recompile_file(previous, path, text, load_templates(LIBRARY)[0], None, trees)


def _same(one: Compilation, other: Compilation) -> None:
    assert [d.render() for d in one.diagnostics] == [d.render() for d in other.diagnostics]
    assert one.bundle == other.bundle
    assert one.lines == other.lines


def test_a_typo_and_its_fix_in_a_playbook_are_rechecked_alone_as_the_whole_folder_would(
    folder: tuple[dict[str, str], ParsedTrees, Compilation],
) -> None:
    sources, trees, first = folder
    typo = sources[ONBOARDING].replace("feature_adoption < 20%", "feature_adoptoin < 20%")

    broken = _again(first, trees, ONBOARDING, typo)
    assert broken is not None
    _same(broken, _whole({**sources, ONBOARDING: typo}))
    assert any(d.message.startswith("unknown field 'feature_adoptoin'") for d in broken.diagnostics)

    mended = _again(broken, trees, ONBOARDING, sources[ONBOARDING])
    assert mended is not None and mended.bundle is not None
    _same(mended, first)


@pytest.mark.parametrize(("path", "edit"), [
    (MODEL, ("feature_adoption: percent", "adoption: percent")),  # the model: every file may change
    (ONBOARDING, ("playbook smb_onboarding", "playbook smb_welcome")),  # a name: "declared twice" may change
    (ONBOARDING, ("day 7:", "day 7")),  # a syntax error: the checker does not run
    (ONBOARDING, ("    exit: event churned\n", "    exit: event churned\n\nmetric m = count login over 7 days\n")),
])
def test_an_edit_that_can_reach_other_files_is_declined(
    folder: tuple[dict[str, str], ParsedTrees, Compilation], path: str, edit: tuple[str, str]
) -> None:
    sources, trees, first = folder
    assert edit[0] in sources[path]

    assert _again(first, trees, path, sources[path].replace(*edit, 1)) is None


def test_a_playbook_declared_twice_is_still_reported_when_the_second_file_is_rechecked_alone(
    folder: tuple[dict[str, str], ParsedTrees, Compilation],
) -> None:
    sources, _, _ = folder
    copy = str(LIBRARY / "zz_copy.play")
    twice = {**sources, copy: sources[ONBOARDING]}
    trees: ParsedTrees = {}
    templates, problems = load_templates(LIBRARY)
    first = compile_files(twice, templates, None, problems, trees=trees)
    typo = sources[ONBOARDING].replace("send email welcome", "send email welcom")

    again = _again(first, trees, copy, typo)

    assert again is not None
    _same(again, _whole({**twice, copy: typo}))
    assert any(d.message.startswith("playbook 'smb_onboarding' is declared twice") for d in again.diagnostics)
