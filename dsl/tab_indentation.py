"""Tabs in indentation: read as spaces up to the next multiple of 4, and flagged so they go.

A tab's width depends on the editor that shows it: a block indented with tabs may look lined up
in one editor and read as another nesting by the parser. The parser accepts tabs (see
`dsl/indenter.py`); `check` warns at each line that indents with one, and `playbook fmt`
rewrites the indentation with spaces.
"""

from __future__ import annotations

from dsl.diagnostics import Diagnostic, Span

__all__ = ["tab_warnings"]

_MESSAGE = ("a tab in the indentation (read as spaces up to the next multiple of 4): indent with spaces; "
            "'playbook fmt' rewrites it")


def tab_warnings(path: str, text: str) -> list[Diagnostic]:
    """One warning per code line of `text` whose indentation holds a tab, at the first tab."""
    found: list[Diagnostic] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" \t\f")
        indent = line[: len(line) - len(stripped)]
        if "\t" in indent and stripped and not stripped.startswith("#"):
            found.append(Diagnostic(Span(path, number, indent.index("\t") + 1), _MESSAGE, "warning",
                                    code="tab-indentation"))
    return found
