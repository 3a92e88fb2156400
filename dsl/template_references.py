"""Checking one Jinja2 source: its syntax, and every variable it reads against the template context.

Jinja's AST gives line numbers only, so columns are found in the source itself: an index of the
names and quoted strings written inside `{{ }}` and `{% %}` on each line, consumed in order, so
that the second `account.nmae` on a line is pointed at, not the first one twice.

A source written inside a `.play` file (a task title, a `do` parameter) is checked the same way,
with its first line and column shifted to where the text starts in that file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from dsl.diagnostics import Diagnostic, Span
from dsl.name_suggestions import with_nearest
from dsl.template_bounds import unbounded_parts
from dsl.template_context import Shape

__all__ = ["JinjaSource", "parse_jinja"]

# Parsing only: the engine renders with its own sandboxed environment (see dsl/templates.py).
_PARSER = SandboxedEnvironment(undefined=StrictUndefined)

# Names every template may use without declaring them: Jinja's globals and its implicit names.
_JINJA_NAMES = frozenset(
    {
        "range",
        "dict",
        "lipsum",
        "cycler",
        "joiner",
        "namespace",
        "loop",
        "caller",
        "varargs",
        "kwargs",
        "self",
        "super",
    }
)

_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_TOKEN = re.compile(r"""(?P<text>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<name>[A-Za-z_]\w*)""")
_QUOTED = re.compile(r"'([^']*)'")
_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")

_LOADING_NODES: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from",
}


def parse_jinja(source: str) -> nodes.Template:
    """Parse a Jinja2 source; raises `TemplateSyntaxError`."""
    return _PARSER.parse(source)


class _Locator:
    """Where names and quoted texts are written inside the code parts of a source."""

    def __init__(self, source: str) -> None:
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", source)]
        self._places: dict[tuple[int, str], list[int]] = defaultdict(list)
        self._used: dict[tuple[int, str], int] = defaultdict(int)
        for code in _CODE.finditer(source):
            for token in _TOKEN.finditer(code.group()):
                offset = code.start() + token.start()
                line = bisect_right(self._line_starts, offset)
                column = offset - self._line_starts[line - 1] + 1
                if token.group("name"):
                    self._places[(line, token.group())].append(column)
                else:
                    self._places[(line, token.group()[1:-1])].append(column + 1)

    def find(self, line: int, text: str) -> int:
        """The column of the next unclaimed `text` on `line`, or 1 if it cannot be found."""
        key = (line, text)
        places = self._places.get(key, [])
        index = self._used[key]
        if index < len(places):
            self._used[key] = index + 1
            return places[index]
        return places[-1] if places else 1


class JinjaSource:
    """One Jinja2 source and the place it came from."""

    def __init__(self, source: str, path: str, line: int = 1, column: int = 1) -> None:
        self.source = source
        self.path = path
        self.first_line = line
        self.first_column = column
        self.lines = source.splitlines()
        self._locator: _Locator | None = None

    # ------------------------------------------------------------------ places

    def span(self, line: int, column: int, length: int) -> Span:
        """A span in the file, for a line and column of this source."""
        if line == 1:
            column += self.first_column - 1
        return Span(self.path, self.first_line + line - 1, column, max(length, 1))

    @property
    def template_code(self) -> str:
        """The code of a problem of the template itself, in a template file or written inline in a
        `.play` file (a task title, a `do` parameter) alike."""
        return "template"

    def diagnostic(
        self, line: int, column: int, length: int, message: str, *, code: str, suggestion: str | None = None
    ) -> Diagnostic:
        text = self.lines[line - 1] if 1 <= line <= len(self.lines) else None
        own_file = self.first_line == 1 and self.first_column == 1
        return Diagnostic(self.span(line, column, length), message, source_line=text if own_file else None,
                          code=code, suggestion=suggestion)

    def at_name(self, line: int, name: str, message: str, *, code: str, suggestion: str | None = None) -> Diagnostic:
        if self._locator is None:
            self._locator = _Locator(self.source)
        return self.diagnostic(line, self._locator.find(line, name), len(name), message, code=code,
                               suggestion=suggestion)

    # ------------------------------------------------------------------ checks

    def syntax_error(self, error: TemplateSyntaxError) -> Diagnostic:
        line = error.lineno if 1 <= error.lineno <= max(len(self.lines), 1) else max(len(self.lines), 1)
        text = self.lines[line - 1] if line <= len(self.lines) else ""
        column, length = 1, max(len(text.rstrip()), 1)
        stripped = len(text) - len(text.lstrip())
        if text.strip():
            column, length = stripped + 1, len(text.strip())
        quoted = _QUOTED.search(error.message or "")
        if quoted and quoted.group(1) and quoted.group(1) in text:
            column, length = text.index(quoted.group(1)) + 1, len(quoted.group(1))
        message = (error.message or "syntax error").split("\n")[0].rstrip(".")
        return self.diagnostic(line, column, length, f"template syntax error: {message}", code="syntax")

    def check(self, context: dict[str, Shape]) -> list[Diagnostic]:
        """Every problem of the source: a syntax error, or each unknown name it reads."""
        simple = self._check_simple(context)
        if simple is not None:
            return simple
        try:
            tree = parse_jinja(self.source)
        except TemplateSyntaxError as error:
            return [self.syntax_error(error)]
        return self.check_tree(tree, context)

    def _check_simple(self, context: dict[str, Shape]) -> list[Diagnostic] | None:
        """The quick way for a text whose only code is `{{ a.b.c }}`; None for any other text."""
        if "{%" in self.source or "{#" in self.source:
            return None
        rest = _SIMPLE.sub("", self.source)
        if "{{" in rest or "}}" in rest:
            return None
        diagnostics: list[Diagnostic] = []
        for match in _SIMPLE.finditer(self.source):
            offset = match.start(1)
            line = self.source.count("\n", 0, offset) + 1
            column = offset - (self.source.rfind("\n", 0, offset) + 1) + 1
            shape: Shape | None = None
            for index, name in enumerate(match.group(1).split(".")):
                unknown: tuple[str, str | None] | None = None
                if index == 0:
                    shape = context.get(name)
                    unknown = None if shape is not None else unknown_variable(name, context)
                elif shape is not None and shape.fields is not None:
                    parent, shape = shape, shape.fields.get(name)
                    unknown = None if shape is not None else unknown_field(parent, name)
                if unknown is not None:
                    message, near = unknown
                    diagnostics.append(
                        self.diagnostic(line, column, len(name), message, code="unknown-name", suggestion=near)
                    )
                    break
                column += len(name) + 1
        return diagnostics

    def check_tree(self, tree: nodes.Template, context: dict[str, Shape]) -> list[Diagnostic]:
        walker = _ReferenceWalker(self, context, _bound_names(tree))
        walker.walk(tree)
        bounds = [
            self.at_name(part.line, part.name, part.message, code=self.template_code)
            for part in unbounded_parts(tree)
        ]
        return walker.diagnostics + bounds


def _bound_names(tree: nodes.Template) -> set[str]:
    """Names the template binds itself: loop targets, `set`, `with`, macro names and arguments."""
    bound = set(_JINJA_NAMES)
    for name in tree.find_all(nodes.Name):
        if name.ctx in ("store", "param"):
            bound.add(name.name)
    for macro in tree.find_all(nodes.Macro):
        bound.add(macro.name)
    return bound


class _ReferenceWalker:
    def __init__(self, source: JinjaSource, context: dict[str, Shape], bound: set[str]) -> None:
        self.source = source
        self.context = context
        self.bound = bound
        self.diagnostics: list[Diagnostic] = []

    def walk(self, node: nodes.Node) -> None:
        keyword = _LOADING_NODES.get(type(node))
        if keyword is not None:
            self.diagnostics.append(
                self.source.at_name(
                    node.lineno,
                    keyword,
                    f"a template cannot load other templates ('{keyword}' is not supported)",
                    code=self.source.template_code,
                )
            )
            return
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            self.resolve(node)
            return
        if isinstance(node, nodes.Filter) and node.name not in _PARSER.filters:
            message, near = with_nearest(f"unknown filter '{node.name}'", node.name, _PARSER.filters)
            self.diagnostics.append(
                self.source.at_name(node.lineno, node.name, message, code="unknown-name", suggestion=near)
            )
        elif isinstance(node, nodes.Test) and node.name not in _PARSER.tests:
            message, near = with_nearest(f"unknown test '{node.name}'", node.name, _PARSER.tests)
            self.diagnostics.append(
                self.source.at_name(node.lineno, node.name, message, code="unknown-name", suggestion=near)
            )
        for child in node.iter_child_nodes():
            self.walk(child)

    def resolve(self, node: nodes.Node) -> Shape | None:
        """The shape a name or a path reads, reporting the first unknown part; None when unchecked."""
        if isinstance(node, nodes.Name):
            return self._resolve_name(node)
        if isinstance(node, nodes.Getattr):
            return self._resolve_field(self.resolve(node.node), node.attr, node.lineno)
        if isinstance(node, nodes.Getitem):
            parent = self.resolve(node.node)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self._resolve_field(parent, node.arg.value, node.lineno)
            self.walk(node.arg)
            return None
        self.walk(node)
        return None

    def _resolve_name(self, node: nodes.Name) -> Shape | None:
        if node.ctx != "load" or node.name in self.bound:
            return None
        shape = self.context.get(node.name)
        if shape is None:
            message, near = unknown_variable(node.name, self.context)
            self.diagnostics.append(
                self.source.at_name(node.lineno, node.name, message, code="unknown-name", suggestion=near)
            )
        return shape

    def _resolve_field(self, parent: Shape | None, name: str, line: int) -> Shape | None:
        if parent is None or parent.fields is None:
            return None
        shape = parent.fields.get(name)
        if shape is None:
            message, near = unknown_field(parent, name)
            self.diagnostics.append(self.source.at_name(line, name, message, code="unknown-name", suggestion=near))
        return shape


def unknown_variable(name: str, context: dict[str, Shape]) -> tuple[str, str | None]:
    """The message for a variable the context lacks, and the near name it suggests."""
    return with_nearest(f"unknown variable '{name}'", name, context)


def unknown_field(parent: Shape, name: str) -> tuple[str, str | None]:
    """The message for a field `parent` lacks, and the near name it suggests."""
    if parent.name == "metrics":
        return with_nearest(f"unknown metric '{name}'", name, parent.fields or {})
    return with_nearest(f"unknown field '{name}' in {parent.name}", name, parent.fields or {})
