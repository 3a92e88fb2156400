"""Diagnostics as a SARIF 2.1.0 log, the format code scanning reads (GitHub's among others).

One run; the tool's driver is `playbook` with one rule per diagnostic code (`dsl/diagnostic_codes.py`);
one result per diagnostic, placed by a URI relative to a root folder (the checked folder unless
told otherwise; `uriBaseId` `SRCROOT`, whose absolute URI the run's `originalUriBaseIds` gives)
and a region. SARIF's `endColumn` is the column just after the region, so a span of 3
characters at column 9 ends at 12. A file outside the root is placed by its absolute `file:` URI.

GitHub's code scanning resolves relative URIs from the repository's root and ignores
`originalUriBaseIds`: there, the root is the repository (`playbook check --relative-to .`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dsl.diagnostic_codes import ALL_RULES, rule_of
from dsl.diagnostics import Diagnostic

__all__ = ["SARIF_SCHEMA_URI", "SARIF_VERSION", "URI_BASE_ID", "sarif_log"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
URI_BASE_ID = "SRCROOT"


def sarif_log(diagnostics: Iterable[Diagnostic], root: Path, version: str = "unknown") -> dict[str, Any]:
    """The SARIF log of `diagnostics` found by playbook `version`, its URIs relative to `root`."""
    root = root.resolve()
    rules = [_rule(rule.code, rule.description) for rule in ALL_RULES]
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    ordered = sorted(diagnostics, key=lambda d: (d.span.path, d.span.line, d.span.column, d.message))
    results = [_result(d, root, index) for d in ordered]
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "playbook",
                "version": version,
                "rules": rules,
            }},
            "originalUriBaseIds": {URI_BASE_ID: {"uri": root.as_uri() + "/"}},
            "results": results,
        }],
    }


def _rule(code: str, description: str) -> dict[str, Any]:
    return {
        "id": code,
        "name": "".join(word.capitalize() for word in code.split("-")),
        "shortDescription": {"text": description},
    }


def _result(diagnostic: Diagnostic, root: Path, index: dict[str, int]) -> dict[str, Any]:
    rule = rule_of(diagnostic)
    span = diagnostic.span
    return {
        "ruleId": rule.code,
        "ruleIndex": index[rule.code],
        "level": diagnostic.severity,
        "message": {"text": diagnostic.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact_location(span.path, root),
            "region": {
                "startLine": span.line,
                "startColumn": span.column,
                "endLine": span.line,
                "endColumn": span.end_column + 1,
            },
        }}],
    }


def _artifact_location(path: str, root: Path) -> dict[str, str]:
    absolute = Path(path).resolve()
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": relative.as_posix() if relative.parts else ".", "uriBaseId": URI_BASE_ID}
