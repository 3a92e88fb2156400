"""The checker's diagnostics as the protocol's: same message, same place, with the code and suggestion.

A diagnostic proposing a name ("did you mean 'csm'?") carries it as `data.suggestion`, which
the quick fix reads back: the text of the message is never parsed.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

from dsl.diagnostics import Diagnostic
from lsp.text_places import span_range

__all__ = ["SOURCE", "path_of", "to_protocol", "uri_of"]

SOURCE = "playbook"


def uri_of(path: str) -> str:
    return Path(path).resolve().as_uri()


def path_of(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)).resolve()


def to_protocol(diagnostic: Diagnostic, text: str | None) -> types.Diagnostic:
    severity = types.DiagnosticSeverity.Error if diagnostic.is_error else types.DiagnosticSeverity.Warning
    data = {"suggestion": diagnostic.suggestion} if diagnostic.suggestion else None
    return types.Diagnostic(
        range=span_range(diagnostic.span, text),
        message=diagnostic.message,
        severity=severity,
        code=diagnostic.code,
        source=SOURCE,
        data=data,
    )
