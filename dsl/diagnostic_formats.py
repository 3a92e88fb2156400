"""Diagnostics for machines: one JSON object a line, or GitHub workflow commands.

`json_lines` writes one object per diagnostic, sorted by place::

    {"file": "playbooks/onboarding.play", "line": 14, "column": 9, "end_line": 14, "end_column": 24,
     "severity": "error", "code": "unknown-name", "message": "unknown field ...", "suggestion": "..."}

`end_column` is the last column underlined (inclusive); `suggestion` is there only when the
message proposes a name.

`github_commands` writes the workflow commands that GitHub Actions turns into annotations on
the lines of a pull request::

    ::error file=playbooks/onboarding.play,line=14,col=9,endLine=14,endColumn=24,title=unknown-name::unknown field ...

Escaping follows GitHub's workflow-command rules: `%`, `\\r` and `\\n` in the message; those and
`:` and `,` in the properties. SARIF, the third machine format, is in `dsl/sarif_report.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from dsl.diagnostic_codes import code_of
from dsl.diagnostics import Diagnostic

__all__ = ["diagnostic_record", "escape_data", "escape_property", "github_command", "github_commands",
           "json_lines", "sorted_by_place"]


def sorted_by_place(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in the order `playbook check` prints them: by file, line, column, message."""
    return sorted(diagnostics, key=lambda d: (d.span.path, d.span.line, d.span.column, d.message))


def diagnostic_record(diagnostic: Diagnostic) -> dict[str, str | int]:
    """The JSON object of one diagnostic."""
    span = diagnostic.span
    record: dict[str, str | int] = {
        "file": span.path,
        "line": span.line,
        "column": span.column,
        "end_line": span.line,
        "end_column": span.end_column,
        "severity": diagnostic.severity,
        "code": code_of(diagnostic),
        "message": diagnostic.message,
    }
    if diagnostic.suggestion is not None:
        record["suggestion"] = diagnostic.suggestion
    return record


def json_lines(diagnostics: Iterable[Diagnostic]) -> str:
    """One JSON object per diagnostic, one a line, sorted by place ("" when there is none)."""
    return "".join(json.dumps(diagnostic_record(d), ensure_ascii=False) + "\n" for d in sorted_by_place(diagnostics))


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub reads it back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped as GitHub reads it back."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(diagnostic: Diagnostic) -> str:
    """`::error file=...,line=...,col=...,endLine=...,endColumn=...,title=...::message`."""
    span = diagnostic.span
    properties = {
        "file": span.path,
        "line": str(span.line),
        "col": str(span.column),
        "endLine": str(span.line),
        "endColumn": str(span.end_column),
        "title": code_of(diagnostic),
    }
    written = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{diagnostic.severity} {written}::{escape_data(diagnostic.message)}"


def github_commands(diagnostics: Iterable[Diagnostic]) -> str:
    """One workflow command per diagnostic, one a line, sorted by place ("" when there is none)."""
    return "".join(github_command(d) + "\n" for d in sorted_by_place(diagnostics))
