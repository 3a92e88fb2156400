"""The names a folder declares, for the editor's help: what each is, where, and its doc comment.

Built from the parsed files (not from the checker's report): fields with their type, events with
their payload, named audiences, metrics, score models with their bands, templates with their file, and the
plugin activities of the catalog. A declaration's doc comment is the comment that ends its line
or, failing that, the comment lines right above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl import ast, ir
from dsl.plugin_catalog import PluginActivity, PluginCatalog
from dsl.reporter import Reporter
from dsl.scope import RESERVED_EVENTS, field_type

__all__ = ["Declaration", "Declarations", "type_text"]


@dataclass(frozen=True)
class Declaration:
    """One declared name: its kind (`field`, `event`, `audience`, `metric`, `score`, `band`, `template`), place, doc."""

    kind: str
    name: str
    pos: ast.Pos | None
    detail: str
    doc: str = ""


def type_text(declared: ir.FieldType) -> str:
    """A type as written in the model: `percent`, `one of enterprise, smb`."""
    if declared.type == "enum":
        return "one of " + ", ".join(declared.values or ())
    return declared.type


@dataclass
class Declarations:
    fields: dict[str, ir.FieldType] = field(default_factory=dict)
    events: dict[str, dict[str, ir.FieldType]] = field(default_factory=lambda: dict(RESERVED_EVENTS))
    scores: dict[str, ast.Score] = field(default_factory=dict)
    templates: dict[str, ir.Template] = field(default_factory=dict)
    activities: dict[str, PluginActivity] = field(default_factory=dict)
    names: dict[str, list[Declaration]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        files: list[ast.File],
        templates: dict[str, ir.Template],
        plugins: PluginCatalog | None,
        sources: dict[str, str],
    ) -> Declarations:
        found = cls(templates=dict(templates), activities=dict(plugins.activities) if plugins else {})
        for file in files:
            lines = sources.get(file.path, "").splitlines()
            for item in file.items:
                found._add_item(item, lines)
        for name, template in templates.items():
            found._add("template", name, None, f"{template.channel.replace('_', '-')} template",
                       template.subject.path or "")
        for name, payload in RESERVED_EVENTS.items():
            found._add("event", name, None, _payload_text(payload), "built-in event")
        return found

    def lookup(self, name: str, kind: str | None = None) -> Declaration | None:
        """The declaration of `name` (of `kind`, when given), the first when it is declared twice."""
        return next((d for d in self.names.get(name, []) if kind is None or d.kind == kind), None)

    def bands(self, score: str) -> list[str]:
        declared = self.scores.get(score)
        return [band.name.text for band in declared.bands] if declared else []

    def fields_of_type(self, *types: str) -> list[str]:
        return [name for name, declared in self.fields.items() if declared.type in types]

    def _add(self, kind: str, name: str, pos: ast.Pos | None, detail: str, doc: str = "") -> None:
        self.names.setdefault(name, []).append(Declaration(kind, name, pos, detail, doc))

    def _add_item(self, item: ast.FileItem, lines: list[str]) -> None:
        if isinstance(item, ast.AccountFields):
            for decl in item.fields:
                declared = field_type(decl.type, Reporter())
                if declared is not None and decl.name.text not in self.fields:
                    self.fields[decl.name.text] = declared
                    self._add("field", decl.name.text, decl.name.pos, type_text(declared), _doc(lines, decl.pos))
        elif isinstance(item, ast.Events):
            for event in item.events:
                payload = {key.name.text: ir.FieldType(type="text") for key in event.payload}
                for key in event.payload:
                    declared = field_type(key.type, Reporter())
                    if declared is not None:
                        payload[key.name.text] = declared
                self.events.setdefault(event.name.text, payload)
                self._add("event", event.name.text, event.name.pos, _payload_text(payload), _doc(lines, event.pos))
        elif isinstance(item, ast.NamedAudience):
            line = lines[item.pos.line - 1].strip() if 1 <= item.pos.line <= len(lines) else ""
            condition = line.split(":", 1)[1].split("#", 1)[0].strip() if ":" in line else ""
            self._add("audience", item.name.text, item.name.pos, f"audience: {condition}" if condition else "audience",
                      _doc(lines, item.pos))
        elif isinstance(item, ast.Metric):
            detail = f"count {item.event.text} over {item.window.text}"
            self._add("metric", item.name.text, item.name.pos, detail, _doc(lines, item.pos))
        elif isinstance(item, ast.Score):
            self.scores.setdefault(item.name.text, item)
            bands = ", ".join(f"{band.name.text} {band.low.text} to {band.high.text}" for band in item.bands)
            title = item.title.value if item.title is not None else ""
            detail = f"score{f' {title!r}' if title else ''}: bands {bands}" if bands else "score"
            self._add("score", item.name.text, item.name.pos, detail, _doc(lines, item.pos))
            for band in item.bands:
                self._add("band", band.name.text, band.name.pos, f"band of score {item.name.text}: "
                          f"{band.low.text} to {band.high.text}")


def _payload_text(payload: dict[str, ir.FieldType]) -> str:
    if not payload:
        return "no payload"
    return "payload: " + ", ".join(f"{key} {type_text(declared)}" for key, declared in payload.items())


def _doc(lines: list[str], pos: ast.Pos) -> str:
    """The comment ending the declaration's line, else the comment lines right above it."""
    if not 1 <= pos.line <= len(lines):
        return ""
    line = lines[pos.line - 1]
    if "#" in line and '"' not in line:
        return line.split("#", 1)[1].strip()
    above: list[str] = []
    number = pos.line - 2
    while number >= 0 and lines[number].strip().startswith("#"):
        above.append(lines[number].strip().lstrip("#").strip())
        number -= 1
    return " ".join(reversed(above))
