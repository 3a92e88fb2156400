"""Values and expressions as the canonical layout writes them: durations, texts, conditions."""

from __future__ import annotations

from dsl import ast
from dsl.wording import COUNT_WORDS, duration_words

__all__ = ["duration_text", "expr_text", "text_literal"]

def duration_text(duration: ast.Duration) -> str:
    """`30m`, `48h`, `1 day`, `2 days`, `3 weeks`, `2 business days`."""
    return duration_words(duration.amount, duration.unit)


def text_literal(literal: ast.TextLit, source_lines: list[str]) -> str:
    """A text as written in the source, escapes and all; rebuilt from its value if need be."""
    pos = literal.pos
    if pos.line == pos.end_line and 1 <= pos.line <= len(source_lines):
        written = source_lines[pos.line - 1][pos.column - 1 : pos.end_column - 1]
        if len(written) >= 2 and written[0] == written[-1] == '"':
            return written
    escaped = literal.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


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
            if e.since_entry:
                text += " since entry"
            return text
        if isinstance(e, ast.CountOf):
            return f"{COUNT_WORDS[e.op]} {e.count} of ({', '.join(show(arg) for arg in e.args)})"
        if isinstance(e, ast.TaskIs):
            return f"task {e.state}"
        raise TypeError(f"cannot print {type(e).__name__}")

    return show(node)
