"""Quick fixes: each "did you mean" diagnostic offers to write the name it proposes.

The name travels with the diagnostic (`data.suggestion`, from the checker's own suggestion);
the fix replaces the diagnostic's range, which is exactly the misspelt name.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

__all__ = ["quick_fixes"]


def quick_fixes(uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    for diagnostic in diagnostics:
        suggestion = _suggestion(diagnostic.data)
        if suggestion is None:
            continue
        edit = types.TextEdit(range=diagnostic.range, new_text=suggestion)
        actions.append(types.CodeAction(
            title=f"Change to '{suggestion}'",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            is_preferred=True,
            edit=types.WorkspaceEdit(changes={uri: [edit]}),
        ))
    return actions


def _suggestion(data: Any) -> str | None:
    if isinstance(data, dict):
        value = data.get("suggestion")
        return value if isinstance(value, str) and value else None
    return None
