"""The playbook language: parse, check and compile `.play` files into the IR the engine runs.

    from dsl import compile_folder
    result = compile_folder("playbooks")
    if not result.ok:
        print(result.render())        # file:line:col: message, the line, a caret
    bundle = result.bundle            # dsl.ir.Bundle

`parse(text, path)` gives one file's syntax tree (`dsl.ast.File`) or raises `DiagnosticError`.
"""

from dsl.diagnostics import Diagnostic, DiagnosticError
from dsl.parser import parse
from dsl.project import Compilation, compile_folder, compile_text

__all__ = ["Compilation", "Diagnostic", "DiagnosticError", "compile_folder", "compile_text", "parse"]
