"""The playbook language: parse, check and compile `.play` files into the IR the engine runs.

    from dsl import compile_folder
    result = compile_folder("playbooks")
    if not result.ok:
        print(result.render())        # file:line:col: message, the line, a caret
    bundle = result.bundle            # dsl.ir.Bundle

`parse(text, path)` gives one file's syntax tree (`dsl.ast.File`) or raises `DiagnosticError`.

The names below load on first use, so that `import dsl.ir` (all the engine reads) does not pull
in the parser and its grammar.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsl.diagnostics import Diagnostic, DiagnosticError
    from dsl.parser import parse
    from dsl.project import Compilation, compile_folder, compile_text

__all__ = ["Compilation", "Diagnostic", "DiagnosticError", "compile_folder", "compile_text", "parse"]

_HOMES = {
    "Diagnostic": "dsl.diagnostics",
    "DiagnosticError": "dsl.diagnostics",
    "parse": "dsl.parser",
    "Compilation": "dsl.project",
    "compile_folder": "dsl.project",
    "compile_text": "dsl.project",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dsl' has no attribute {name!r}")
    return getattr(import_module(home), name)
