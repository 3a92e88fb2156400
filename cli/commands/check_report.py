"""The reports `playbook check --format` writes: text, json, github or sarif.

Each report is the whole text to write, so it can go to stdout or, with `--output`, to a file
(SARIF is uploaded to code scanning from a file). The diagnostics and their renderings are the
language's (`dsl/diagnostic_formats.py`, `dsl/sarif_report.py`); this module picks one.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from dsl.diagnostic_formats import github_commands, json_lines
from dsl.diagnostics import render_all
from dsl.project import Compilation
from dsl.sarif_report import sarif_log

__all__ = ["FORMATS", "render_report"]

FORMATS: tuple[str, ...] = ("text", "json", "github", "sarif")


def _version() -> str:
    try:
        return version("playbook")
    except PackageNotFoundError:
        return "unknown"


def render_report(format_name: str, compilation: Compilation, root: Path) -> str:
    """The report of `compilation` in `format_name`, one of `FORMATS`; SARIF's URIs are relative to `root`."""
    diagnostics = compilation.diagnostics
    if format_name == "json":
        return json_lines(diagnostics)
    if format_name == "github":
        return github_commands(diagnostics)
    if format_name == "sarif":
        return json.dumps(sarif_log(diagnostics, root, _version()), indent=2, ensure_ascii=False) + "\n"
    if format_name == "text":
        return render_all(diagnostics, compilation.sources) + "\n" if diagnostics else ""
    raise ValueError(f"unknown report format: {format_name}")
