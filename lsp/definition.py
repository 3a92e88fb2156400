"""Go to definition: a field, event, metric or score to where the model declares it, a band to
its score, a template name to its file (`send email welcome` → `templates/welcome.email.jinja`).

In a template, `account.X` goes to the field `X`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

from lsp.declarations import Declarations
from lsp.text_places import line_of, to_character, word_at

__all__ = ["definition"]


def definition(
    text: str, position: types.Position, declarations: Declarations, read: Callable[[str], str | None]
) -> types.Location | None:
    """Where the name at `position` is declared; `read` gives a file's current text by path."""
    word = word_at(text, position)
    if word is None:
        return None
    parts = (*word.parts_before, word.part)
    if len(parts) >= 2 and parts[0] == "account":
        parts = parts[1:]
    before = word.before.rstrip()
    if before.endswith(("send email", "send in_app")):
        template = declarations.templates.get(word.text)
        path = template.subject.path if template is not None else None
        if path:
            start = types.Position(0, 0)
            return types.Location(Path(path).resolve().as_uri(), types.Range(start, start))
        return None
    name = parts[0]
    declared = declarations.lookup(name)
    if declared is None or declared.pos is None:
        return None
    pos = declared.pos
    line = line_of(read(pos.path) or "", pos.line - 1)
    start = types.Position(pos.line - 1, to_character(line, pos.column - 1))
    end = types.Position(pos.line - 1, to_character(line, pos.column - 1 + len(declared.name)))
    return types.Location(Path(pos.path).resolve().as_uri(), types.Range(start, end))

