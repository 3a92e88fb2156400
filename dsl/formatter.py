"""The canonical layout of a `.play` file: `playbook fmt` prints the syntax tree back.

The layout:
- blocks indented by 4 spaces; one statement per line (`day 0: send email x` is split);
- one space around binary operators and after the `:` of a clause, none inside `key=value`;
- durations written one way: `30m` and `48h` for minutes and hours, `2 days`, `1 day`,
  `3 weeks`, `2 business days` for the rest;
- one blank line between top-level items; inside blocks the writer's blank lines are kept,
  at most one in a row and never right after a block opens; a trailing newline;
- every comment kept: a comment line stays before the line it preceded, re-indented to its
  block; a comment that ends a line of code stays on that line, two spaces after the code,
  except that end-of-line comments written at one column within a paragraph (lines between
  blank lines) stay aligned at that column, moved right if the longest of their lines needs it;
- everything else as written: numbers, amounts (`25k`), texts with their escapes, parentheses.

The printed text is parsed again and compared with the original tree (positions aside) before
it is returned: a file whose meaning would change is refused with a `FormatError`, never
rewritten. A file that does not parse raises `FormatError` with the parser's diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, is_dataclass

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from dsl.parser import normalise, parse

__all__ = ["FormatError", "format_source"]

INDENT = "    "


class FormatError(Exception):
    """The file cannot be formatted: it has parse errors (in `diagnostics`), or it would change."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.headline() for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass
class _Line:
    depth: int
    text: str
    source_line: int  # where the node that starts this line was written
    opens_block: bool = False
    is_comment: bool = False
    trailing: str | None = None  # an end-of-line comment
    trailing_column: int = 0  # its column in the source (0-based)


class _Printer:
    """Prints a parsed file as `_Line`s, one per statement, header and declaration."""

    def __init__(self, source_lines: list[str]) -> None:
        self.source_lines = source_lines
        self.lines: list[_Line] = []

    def emit(self, depth: int, text: str, pos: ast.Pos, opens_block: bool = False) -> None:
        self.lines.append(_Line(depth, text, pos.line, opens_block))

    def text(self, literal: ast.TextLit) -> str:
        return text_literal(literal, self.source_lines)

    def expr(self, node: ast.Expr) -> str:
        return expr_text(node, self.source_lines)

    # ------------------------------------------------------------------ top-level items

    def file(self, tree: ast.File) -> None:
        for item in tree.items:
            self.item(item)

    def item(self, item: ast.FileItem) -> None:
        if isinstance(item, ast.AccountFields):
            self.emit(0, "account fields:", item.pos, opens_block=True)
            for decl in item.fields:
                self.emit(1, f"{decl.name.text}: {_type_text(decl.type)}", decl.pos)
        elif isinstance(item, ast.Events):
            self.emit(0, "events:", item.pos, opens_block=True)
            for event in item.events:
                payload = ", ".join(f"{key.name.text} {key.type.name.text}" for key in event.payload)
                self.emit(1, f"{event.name.text}: {payload}" if payload else event.name.text, event.pos)
        elif isinstance(item, ast.Metric):
            counted = f"{item.aggregate} {item.event.text} over {duration_text(item.window)}"
            self.emit(0, f"metric {item.name.text} = {counted}", item.pos)
        elif isinstance(item, ast.Score):
            self.score(item)
        elif isinstance(item, ast.Policy):
            self.emit(0, "policy:", item.pos, opens_block=True)
            for rule in item.items:
                self.emit(1, _policy_text(rule), rule.pos)
        else:
            self.playbook(item)

    def score(self, score: ast.Score) -> None:
        title = f" {self.text(score.title)}" if score.title is not None else ""
        self.emit(0, f"score {score.name.text}{title}:", score.pos, opens_block=True)
        parts: list[tuple[int, ast.Component | None]] = [(c.pos.line, c) for c in score.components]
        if score.bands or score.bands_pos is not None:
            bands_line = score.bands_pos.line if score.bands_pos else (score.bands[0].pos.line - 1)
            parts.append((bands_line, None))
        for _, part in sorted(parts, key=lambda pair: pair[0]):
            if part is None:
                where = score.bands_pos or score.bands[0].pos
                self.emit(1, "bands:", where, opens_block=True)
                for band in score.bands:
                    self.emit(2, f"{band.name.text}: {band.low.text} to {band.high.text}", band.pos)
                continue
            header = f"component {part.name.text} max {part.max_points.text}:"
            self.emit(1, header, part.pos, opens_block=True)
            for rule in part.rules:
                if rule.when is None:
                    self.emit(2, f"{rule.points.text} otherwise", rule.pos)
                else:
                    self.emit(2, f"{rule.points.text} if {self.expr(rule.when)}", rule.pos)

    def playbook(self, playbook: ast.Playbook) -> None:
        title = f" {self.text(playbook.title)}" if playbook.title is not None else ""
        self.emit(0, f"playbook {playbook.id.text}{title}:", playbook.pos, opens_block=True)
        for item in playbook.items:
            if isinstance(item, ast.TriggerClause):
                self.emit(1, f"trigger: {self.trigger(item.trigger)}", item.pos)
            elif isinstance(item, ast.AudienceClause):
                self.emit(1, f"audience: {self.expr(item.condition)}", item.pos)
            elif isinstance(item, ast.ExitClause | ast.GoalClause):
                keyword = "exit" if isinstance(item, ast.ExitClause) else "goal"
                self.emit(1, f"{keyword}: {self.alternatives(item.alternatives)}", item.pos)
            elif isinstance(item, ast.ReentryClause):
                after = f"after {duration_text(item.after)}" if item.after is not None else "never"
                self.emit(1, f"reentry: {after}", item.pos)
            elif isinstance(item, ast.DayStep):
                self.emit(1, f"day {item.day}:", item.pos, opens_block=True)
                self.block(item.body, 2)
            elif isinstance(item, ast.DateStep):
                self.emit(1, f"{_date_offset(item.amount, item.unit, item.direction, item.field, item.at)}:",
                          item.pos, opens_block=True)
                self.block(item.body, 2)
            else:
                self.statement(item, 1)

    def alternatives(self, alternatives: Iterable[ast.EventAlternative | ast.Expr]) -> str:
        return " or ".join(
            f"event {alt.event.text}" if isinstance(alt, ast.EventAlternative) else self.expr(alt)
            for alt in alternatives
        )

    def trigger(self, trigger: ast.Trigger) -> str:
        if isinstance(trigger, ast.EventTrigger):
            where = f" where {self.expr(trigger.where)}" if trigger.where is not None else ""
            return f"event {trigger.event.text}{where}"
        if isinstance(trigger, ast.BecomesTrigger):
            return f"{trigger.score.text} becomes {trigger.band.text}"
        if isinstance(trigger, ast.DateTrigger):
            return _date_offset(trigger.amount, trigger.unit, trigger.direction, trigger.field, trigger.at)
        if isinstance(trigger, ast.ScheduleTrigger):
            text = f"every {trigger.every}"
            if trigger.day is not None:
                text += f" on day {trigger.day}"
            elif trigger.weekday is not None:
                text += f" on {trigger.weekday.text}"
            if trigger.at is not None:
                text += f" at {trigger.at.value}"
            return text
        if isinstance(trigger, ast.TrendTrigger):
            weeks = "week" if trigger.weeks == 1 else "weeks"
            return (f"{trigger.metric.text} {trigger.direction} {trigger.percent.text} week over week "
                    f"for {trigger.weeks} {weeks}")
        return self.expr(trigger.condition)

    # ------------------------------------------------------------------ statements

    def block(self, body: Iterable[ast.Statement], depth: int) -> None:
        for statement in body:
            self.statement(statement, depth)

    def statement(self, node: ast.Statement, depth: int) -> None:
        if isinstance(node, ast.If):
            keyword = "unless" if node.negated else "if"
            self.emit(depth, f"{keyword} {self.expr(node.condition)}:", node.pos, opens_block=True)
            self.block(node.then, depth + 1)
            if node.otherwise or node.else_pos is not None:
                where = node.else_pos or node.otherwise[0].pos
                self.emit(depth, "else:", where, opens_block=True)
                self.block(node.otherwise, depth + 1)
        elif isinstance(node, ast.Split):
            shares = " / ".join(share.text for share in node.shares)
            self.emit(depth, f"split {shares}:", node.pos, opens_block=True)
            for arm in node.arms:
                self.emit(depth + 1, f"{arm.label.text}:", arm.pos, opens_block=True)
                self.block(arm.body, depth + 2)
        else:
            self.emit(depth, self.simple(node), node.pos)

    def simple(self, node: ast.Statement) -> str:
        if isinstance(node, ast.SendEmail):
            to = f" to {node.to.text}" if node.to is not None else ""
            return f"send email {node.template.text}{to}"
        if isinstance(node, ast.SendInApp):
            return f"send in_app {node.template.text}"
        if isinstance(node, ast.CreateTask):
            text = f"create task {self.text(node.title)} for {node.owner.text}"
            if node.due is not None:
                text += f" due {duration_text(node.due)}"
            if node.priority is not None:
                text += f" priority {node.priority.text}"
            return text
        if isinstance(node, ast.SetField):
            return f"set {node.field.text} = {self.expr(node.value)}"
        if isinstance(node, ast.UpdateScore):
            return f"update score {node.score.text}"
        if isinstance(node, ast.Do):
            params = "".join(f" {p.name.text}={self.expr(p.value)}" for p in node.params)
            return f"do {node.activity.text}{params}"
        if isinstance(node, ast.Wait):
            return f"wait {duration_text(node.duration)}"
        if isinstance(node, ast.WaitUntil):
            alternatives = [f"event {event.text}" for event in node.events]
            if node.task_done:
                alternatives.append("task done")
            alternatives.append(duration_text(node.timeout))
            return "wait until " + " or ".join(alternatives)
        raise TypeError(f"cannot print {type(node).__name__}")


def _type_text(type_ref: ast.TypeRef) -> str:
    if isinstance(type_ref, ast.EnumType):
        return "one of " + ", ".join(value.text for value in type_ref.values)
    return type_ref.name.text


def _policy_text(rule: ast.PolicyItem) -> str:
    if isinstance(rule, ast.QuietHours):
        return f"quiet hours {rule.start.value} to {rule.end.value} account time"
    if rule.channel == "email":
        channel = "email" if rule.count == 1 else "emails"
    else:
        channel = "in_app messages"
    return f"at most {rule.count} {channel} per account per {duration_text(rule.per)}"


def _date_offset(amount: int, unit: str, direction: str, field: ast.Name, at: ast.TimeOfDay | None) -> str:
    singular = unit.removesuffix("s")
    unit_text = singular if amount == 1 else singular + "s"
    at_text = f" at {at.value}" if at is not None else ""
    return f"{amount} {unit_text} {direction} {field.text}{at_text}"


# ---------------------------------------------------------------------- values and expressions

_SHORT_UNITS = {"minutes": "m", "hours": "h"}
_LONG_UNITS = {"days": "day", "weeks": "week", "business_days": "business day"}


def duration_text(duration: ast.Duration) -> str:
    """`30m`, `48h`, `1 day`, `2 days`, `3 weeks`, `2 business days`."""
    if duration.unit in _SHORT_UNITS:
        return f"{duration.amount}{_SHORT_UNITS[duration.unit]}"
    unit = _LONG_UNITS[duration.unit]
    return f"{duration.amount} {unit if duration.amount == 1 else unit + 's'}"


def text_literal(literal: ast.TextLit, source_lines: list[str]) -> str:
    """A text as written in the source, escapes and all; rebuilt from its value if need be."""
    pos = literal.pos
    if pos.line == pos.end_line and 1 <= pos.line <= len(source_lines):
        written = source_lines[pos.line - 1][pos.column - 1 : pos.end_column - 1]
        if len(written) >= 2 and written[0] == written[-1] == '"':
            return written
    escaped = literal.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


_COUNT_WORDS = {"exactly": "exactly", "at_least": "at least", "at_most": "at most"}


def expr_text(node: ast.Expr, source_lines: list[str]) -> str:
    """An expression on one line, with the writer's parentheses and no others."""

    def show(e: ast.Expr) -> str:
        if isinstance(e, ast.NumberLit | ast.MoneyLit | ast.PercentLit):
            return e.text
        if isinstance(e, ast.TextLit):
            return text_literal(e, source_lines)
        if isinstance(e, ast.BoolLit):
            return "true" if e.value else "false"
        if isinstance(e, ast.DateLit):
            return e.value
        if isinstance(e, ast.Ref):
            return e.path.text
        if isinstance(e, ast.Group):
            return f"({show(e.expr)})"
        if isinstance(e, ast.Compare | ast.Arith):
            return f"{show(e.left)} {e.op} {show(e.right)}"
        if isinstance(e, ast.Logic):
            return f" {e.op} ".join(show(arg) for arg in e.args)
        if isinstance(e, ast.Not):
            return f"not {show(e.arg)}"
        if isinstance(e, ast.Negate):
            return f"-{show(e.arg)}"
        if isinstance(e, ast.PercentOf):
            return f"{e.percent.text} of {show(e.of)}"
        if isinstance(e, ast.Is):
            value = e.value.text if isinstance(e.value, ast.Name) else text_literal(e.value, source_lines)
            return f"{show(e.subject)} is {'not ' if e.negated else ''}{value}"
        if isinstance(e, ast.Seen):
            text = f"seen {e.event.text}"
            if e.within is not None:
                text += f" within {duration_text(e.within)}"
            if e.older_than is not None:
                text += f" more than {duration_text(e.older_than)} ago"
            return text
        if isinstance(e, ast.CountOf):
            return f"{_COUNT_WORDS[e.op]} {e.count} of ({', '.join(show(arg) for arg in e.args)})"
        if isinstance(e, ast.TaskIs):
            return f"task {e.state}"
        raise TypeError(f"cannot print {type(e).__name__}")

    return show(node)


# ---------------------------------------------------------------------- comments and blank lines


def _width(indentation: str) -> int:
    """How wide leading whitespace is, a tab reaching the next multiple of 4 (as the parser counts)."""
    width = 0
    for char in indentation:
        if char == "\t":
            width += 4 - width % 4
        elif char in " \f":
            width += 1
        else:
            break
    return width


def _place_comments(lines: list[_Line], comments: list[ast.Comment], source_lines: list[str]) -> list[_Line]:
    """Put every comment back: trailing ones on their line, comment lines before the next line."""
    by_source_line = {line.source_line: line for line in lines}
    standalone: list[ast.Comment] = []
    for comment in comments:
        owner = by_source_line.get(comment.pos.line) if comment.trailing else None
        if comment.trailing and owner is None:  # on a continued line: the statement it belongs to
            owner = next((line for line in reversed(lines) if line.source_line <= comment.pos.line), None)
        if owner is None:
            standalone.append(comment)
            continue
        body = comment.text.rstrip()
        owner.trailing = body if owner.trailing is None else f"{owner.trailing} {body}"
        owner.trailing_column = comment.pos.column - 1

    result: list[_Line] = []
    pending = sorted(standalone, key=lambda c: (c.pos.line, c.pos.column))
    index = 0
    for line in [*lines, None]:
        while index < len(pending) and (line is None or pending[index].pos.line < line.source_line):
            comment = pending[index]
            depth = _comment_depth(comment, result, line, source_lines)
            result.append(_Line(depth, comment.text.rstrip(), comment.pos.line, is_comment=True))
            index += 1
        if line is not None:
            result.append(line)
    return result


def _comment_depth(comment: ast.Comment, before: list[_Line], after: _Line | None,
                   source_lines: list[str]) -> int:
    """The block a comment line belongs to: the deepest enclosing one it is indented into."""
    previous = next((line for line in reversed(before) if not line.is_comment), None)
    if previous is None:
        return 0
    if previous.opens_block:
        return previous.depth + 1
    shallowest = after.depth if after is not None else 0
    written = _width(source_lines[comment.pos.line - 1])
    reached = previous.depth + 1
    for line in reversed(before):
        if line.is_comment or line.depth >= reached:
            continue
        reached = line.depth
        if _width(source_lines[line.source_line - 1]) <= written:
            return max(line.depth, shallowest)
        if reached <= shallowest:
            break
    return shallowest


def _is_blank(source_lines: list[str], number: int) -> bool:
    return 1 <= number <= len(source_lines) and not source_lines[number - 1].strip()


def _render(lines: list[_Line], source_lines: list[str]) -> str:
    rows: list[_Line | None] = []  # None is a blank line
    for index, line in enumerate(lines):
        if index > 0 and _blank_before(lines, index, source_lines):
            rows.append(None)
        rows.append(line)
    columns = _trailing_columns(rows)
    out: list[str] = []
    for row in rows:
        if row is None:
            out.append("")
            continue
        text = INDENT * row.depth + row.text
        if row.trailing is not None:
            text = text + " " * (columns[id(row)] - len(text)) + row.trailing
        out.append(text)
    return "\n".join(out) + "\n" if out else ""


def _blank_before(lines: list[_Line], index: int, source_lines: list[str]) -> bool:
    line, previous = lines[index], lines[index - 1]
    if previous.opens_block and not previous.is_comment and line.depth > previous.depth:
        return False
    if line.depth == 0 and not line.is_comment:  # a top-level item, unless its comments lead in
        return not (previous.is_comment and previous.depth == 0 and previous.source_line == line.source_line - 1)
    if line.is_comment and line.depth == 0:
        following = next((later for later in lines[index:] if not later.is_comment), None)
        if following is not None and following.depth == 0 and _attached(lines, index, following):
            return True
    return _is_blank(source_lines, line.source_line - 1)


def _trailing_columns(rows: list[_Line | None]) -> dict[int, int]:
    """Where each end-of-line comment starts: two spaces after the code, or, for comments written
    at one column within a paragraph (lines between blank lines), that shared column."""
    columns: dict[int, int] = {}
    paragraph: list[_Line] = []
    for row in [*rows, None]:
        if row is not None:
            if row.trailing is not None:
                paragraph.append(row)
            continue
        groups: dict[int, list[_Line]] = {}
        for line in paragraph:
            groups.setdefault(line.trailing_column, []).append(line)
        for column, group in groups.items():
            widest = max(len(INDENT * line.depth + line.text) + 2 for line in group)
            for line in group:
                own = len(INDENT * line.depth + line.text) + 2
                columns[id(line)] = max(column, widest) if len(group) > 1 else own
        paragraph = []
    return columns


def _attached(lines: list[_Line], index: int, item: _Line) -> bool:
    """True when lines[index] starts a run of comment lines written right above `item`."""
    if index > 0 and lines[index - 1].is_comment and lines[index - 1].depth == 0 \
            and lines[index - 1].source_line == lines[index].source_line - 1:
        return False  # not the start of the run
    expected = lines[index].source_line
    for line in lines[index:]:
        if line is item:
            return line.source_line == expected
        if not line.is_comment or line.source_line != expected:
            return False
        expected += 1
    return False


# ---------------------------------------------------------------------- the entry point


def _without_positions(node: object) -> object:
    """A node's content without positions and spellings, to compare two trees for meaning."""
    if isinstance(node, tuple | list):
        return tuple(_without_positions(item) for item in node)
    if is_dataclass(node) and not isinstance(node, type):
        skipped = {"pos", "else_pos", "bands_pos", "comments", "line_count", "path", "text"}
        if isinstance(node, ast.TextLit | ast.NumberLit | ast.MoneyLit | ast.PercentLit):
            skipped.discard("text")
        content = tuple(
            (f.name, _without_positions(getattr(node, f.name))) for f in fields(node) if f.name not in skipped
        )
        return (type(node).__name__, *content)
    return node


def _comment_words(tree: ast.File) -> list[str]:
    return sorted(word for comment in tree.comments for word in comment.text.split())


def _parse(text: str, path: str) -> ast.File:
    try:
        return parse(text, path)
    except DiagnosticError as error:
        raise FormatError([error.diagnostic]) from None


def format_source(text: str, path: str) -> str:
    """The canonical layout of one `.play` file's text; raises FormatError if it does not parse."""
    tree = _parse(text, path)
    source_lines = normalise(text).split("\n")
    printer = _Printer(source_lines)
    printer.file(tree)
    lines = _place_comments(printer.lines, list(tree.comments), source_lines)
    formatted = _render(lines, source_lines)
    try:
        again = _parse(formatted, path)
    except FormatError:
        again = None
    if again is None or _without_positions(again) != _without_positions(tree) \
            or _comment_words(again) != _comment_words(tree):
        raise FormatError([Diagnostic(
            Span(path, 1, 1),
            "the canonical layout of this file would change its meaning, so it was left as it is "
            "(please report this as a bug of `playbook fmt`)",
        )])
    return formatted
