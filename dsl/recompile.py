"""Compiling a folder again after one file changed, checking that file alone when nothing else can change.

`recompile_file(previous, path, text, ...)` gives what `compile_files` would give for the
sources of `previous` with `path` now holding `text` (same templates, same plugins), doing only
what the edit can affect: it parses `path` alone (the other trees are kept in `trees`) and
checks `path` alone (`check(only=...)`), keeping the other files' problems from `previous`.

That holds when the edit cannot change what the other files report: every file parsed before
and `path` parses now, `path` declares nothing (no fields, events, audiences, metrics, scores or
policies) before or after, and its playbooks' names are unchanged (a name declared twice is
reported on the second). Otherwise it answers None, and the folder is compiled again whole.
"""

from __future__ import annotations

from dsl import ast, ir
from dsl.checker import check
from dsl.plugin_catalog import PluginCatalog
from dsl.project import Compilation, ParsedTrees, lower_checked, parse_kept
from dsl.tab_indentation import tab_warnings

__all__ = ["recompile_file"]


def recompile_file(
    previous: Compilation,
    path: str,
    text: str,
    templates: dict[str, ir.Template],
    plugins: PluginCatalog | None,
    trees: ParsedTrees,
) -> Compilation | None:
    """`previous` with `path` changed to `text`, checking `path` alone; None when the edit reaches further."""
    kept = trees.get(path)
    if (
        path not in previous.sources
        or kept is None
        or kept[0] != previous.sources[path]
        or not isinstance(kept[1], ast.File)
        or len(previous.files) != len(previous.sources)  # a file did not parse: the checker did not run
        or (previous.ok and previous.bundle is None)  # lowering failed: its problem may be anywhere
    ):
        return None
    before = kept[1]
    after = parse_kept(path, text, trees)
    if not isinstance(after, ast.File) or _names(before) is None or _names(before) != _names(after):
        return None
    files = [after if file.path == path else file for file in previous.files]
    result = Compilation(
        sources={**previous.sources, path: text},
        diagnostics=[d for d in previous.diagnostics if d.span.path != path],
        files=files,
        lines=previous.lines - before.line_count + after.line_count,
    )
    if "\t" in text:
        result.diagnostics.extend(tab_warnings(path, text))
    try:
        result.diagnostics.extend(check(files, templates, plugins, only={path}))
    except RecursionError:
        return None  # compiled whole, it is reported as `compile_files` reports it
    return lower_checked(result, templates)


def _names(file: ast.File) -> tuple[str, ...] | None:
    """The names of the file's playbooks, or None when the file declares anything else."""
    if not all(isinstance(item, ast.Playbook) for item in file.items):
        return None
    return tuple(item.id.text for item in file.items if isinstance(item, ast.Playbook))

