"""Hover: what the name under the cursor is.

A field shows its type and doc comment, an event its payload, a metric what it counts, a score
its bands, a band its range, a template its file, a plugin activity its description and
parameters, and a keyword its meaning from the language reference. In a template, the part
after `account.` is a field.
"""

from __future__ import annotations

from lsprotocol import types

from lsp.declarations import Declaration, Declarations
from lsp.keyword_docs import KEYWORDS, keyword_doc
from lsp.text_places import Word, word_at

__all__ = ["hover"]


def hover(text: str, position: types.Position, declarations: Declarations) -> types.Hover | None:
    word = word_at(text, position)
    if word is None:
        return None
    markdown = _describe(word, declarations)
    if markdown is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=types.Range(types.Position(word.line, word.start), types.Position(word.line, word.end)),
    )


def _describe(word: Word, declarations: Declarations) -> str | None:
    activity = declarations.activities.get(word.text)
    if activity is not None:
        params = "\n".join(
            f"- `{param.name}` {param.type}{' (required)' if param.required else ''}"
            + (f": {param.description}" if param.description else "")
            for param in activity.params.values()
        )
        return f"**activity** `{activity.name}`\n\n{activity.description}\n\n{params}".strip()
    parts = (*word.parts_before, word.part)
    if len(parts) >= 2 and parts[0] == "account":  # a template's `account.field`
        parts = parts[1:]
    if len(parts) == 2 and parts[0] in declarations.scores and parts[1] in ("score", "band"):
        return f"**score** `{parts[0]}`: its {'value' if parts[1] == 'score' else 'band'}"
    name = parts[0] if len(parts) > 1 else word.part
    before = word.before.rstrip()
    kind = "template" if before.endswith(("send email", "send in_app")) else None
    declared = declarations.lookup(name, kind)
    if declared is not None and len(parts) <= 1:
        return _declaration_text(declared)
    if declared is not None and declared.kind == "field":
        return _declaration_text(declared)
    if word.text in KEYWORDS and not word.parts_before:
        meaning = keyword_doc(word.text)
        return f"**keyword** `{word.text}`" + (f"\n\n{meaning}" if meaning else "")
    return None


def _declaration_text(declared: Declaration) -> str:
    head = f"**{declared.kind}** `{declared.name}`: {declared.detail}"
    return f"{head}\n\n{declared.doc}" if declared.doc else head

