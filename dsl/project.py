"""Compiling a folder of playbooks: read, parse, check, lower.

`compile_folder("playbooks")` reads every `*.play` file under the folder (recursively, in name
order) and its `templates/`, parses each file (a file that does not parse is reported and the
others go on), checks them all together against each other, and lowers them to one `ir.Bundle`
when nothing is wrong. The checker runs only when every file parsed: a syntax error in the file
that declares the account model would otherwise bury itself under "unknown field" messages.

Paths in diagnostics are as given: a relative folder gives relative paths.

`compile_files(..., trees=cache)` keeps each file's parse (its tree, or its syntax error) in
`cache`, by path, with the text it came from: compiling again after one file changed parses only
that file (the language server does so on each keystroke); the result is the same as without it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from dsl import ast, ir
from dsl.checker import check
from dsl.diagnostics import Diagnostic, DiagnosticError, Span, render_all
from dsl.lowering import lower
from dsl.parse_errors import nesting_too_deep
from dsl.parser import normalise, parse, paused_collection
from dsl.plugin_catalog import PluginCatalog
from dsl.tab_indentation import tab_warnings
from dsl.templates import load_templates

__all__ = ["Compilation", "ParsedTrees", "compile_files", "compile_folder", "compile_text", "lower_checked",
           "parse_kept"]

# path → (the text parsed, its tree or its syntax error)
ParsedTrees = MutableMapping[str, tuple[str, ast.File | Diagnostic]]


@dataclass
class Compilation:
    """What compiling a folder gives: the bundle (None on any error), every problem, the sources."""

    bundle: ir.Bundle | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files: list[ast.File] = field(default_factory=list)
    lines: int = 0

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def render(self) -> str:
        """Every diagnostic with its source line and caret, sorted by place."""
        return render_all(self.diagnostics, self.sources)


def compile_folder(folder: str | Path, plugins: PluginCatalog | None = None) -> Compilation:
    """Compile every `.play` file under `folder` with the templates in `folder/templates/`.

    `folder` may also be one `.play` file: it is compiled with the templates beside it.
    """
    root = Path(folder)
    if root.is_file() and root.suffix == ".play":
        files, template_folder = [root], root.parent
    elif root.is_dir():
        files, template_folder = _play_files(root), root
    else:
        problem = "not a folder or a .play file" if root.exists() else "no such folder"
        return Compilation(diagnostics=[Diagnostic(Span(str(folder), 1, 1), problem, code="other-error")])
    sources: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    for file in files:
        path = str(file)
        try:
            sources[path] = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            diagnostics.append(Diagnostic(Span(path, 1, 1), "this file is not UTF-8 text", code="unreadable-file"))
        except OSError as error:
            diagnostics.append(Diagnostic(Span(path, 1, 1), f"cannot read this file: {error.strerror}",
                                          code="unreadable-file"))
    if not sources and not diagnostics:
        diagnostics.append(Diagnostic(Span(str(folder), 1, 1), "no .play files in this folder", "warning",
                                      code="unreadable-file"))
    templates, template_problems = load_templates(template_folder)
    diagnostics.extend(template_problems)
    return compile_files(sources, templates, plugins, diagnostics)


def _play_files(root: Path) -> list[Path]:
    """Every `.play` file under `root`, in name order, leaving out hidden folders such as `.git`."""
    return sorted(
        path
        for path in root.rglob("*.play")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts[:-1])
    )


def compile_text(
    text: str,
    path: str = "<string>",
    templates: dict[str, ir.Template] | None = None,
    plugins: PluginCatalog | None = None,
) -> Compilation:
    """Compile one file's text as if it were a folder of its own."""
    return compile_files({path: text}, templates or {}, plugins)


def compile_files(
    sources: dict[str, str],
    templates: dict[str, ir.Template],
    plugins: PluginCatalog | None = None,
    diagnostics: list[Diagnostic] | None = None,
    trees: ParsedTrees | None = None,
) -> Compilation:
    """Parse, check and lower these sources (path → text) with these templates.

    `trees`, when given, holds the parses of an earlier call: a file whose text is unchanged is
    not parsed again, and the cache is updated with the files parsed now.
    """
    with paused_collection():
        return _compile(sources, templates, plugins, diagnostics, {} if trees is None else trees)


def _compile(
    sources: dict[str, str],
    templates: dict[str, ir.Template],
    plugins: PluginCatalog | None,
    diagnostics: list[Diagnostic] | None,
    trees: ParsedTrees,
) -> Compilation:
    result = Compilation(sources=dict(sources), diagnostics=list(diagnostics or []))
    parsed_all = True
    for path, text in sources.items():
        if "\t" in text:
            result.diagnostics.extend(tab_warnings(path, text))
        tree = parse_kept(path, text, trees)
        if isinstance(tree, Diagnostic):
            result.diagnostics.append(tree)
            result.lines += normalise(text).count("\n")  # a file that fails to parse is checked all the same
            parsed_all = False
            continue
        result.files.append(tree)
        result.lines += tree.line_count
    if parsed_all:
        result.diagnostics.extend(_checked(result.files, templates, plugins))
    return lower_checked(result, templates)


def lower_checked(result: Compilation, templates: dict[str, ir.Template]) -> Compilation:
    """The last stage: lower the checked files when nothing is wrong, and sort the diagnostics by place."""
    if result.ok:
        try:
            result.bundle = lower(result.files, templates)
        except DiagnosticError as error:
            result.diagnostics.append(error.diagnostic)
        except RecursionError:
            result.diagnostics.append(nesting_too_deep(next(iter(result.sources), "<string>"), 1, 1))
    result.diagnostics.sort(key=lambda d: (d.span.path, d.span.line, d.span.column))
    return result


def parse_kept(path: str, text: str, trees: ParsedTrees) -> ast.File | Diagnostic:
    """The tree of `text` (or its syntax error), from `trees` when the text is the one parsed."""
    kept = trees.get(path)
    if kept is not None and kept[0] == text:
        return kept[1]
    try:
        tree: ast.File | Diagnostic = parse(text, path)
    except DiagnosticError as error:
        tree = error.diagnostic
    trees[path] = (text, tree)
    return tree


def _checked(
    files: list[ast.File], templates: dict[str, ir.Template], plugins: PluginCatalog | None
) -> list[Diagnostic]:
    try:
        return check(files, templates, plugins)
    except RecursionError:
        first = files[0].path if files else "<string>"
        return [nesting_too_deep(first, 1, 1)]
