"""Lowering of expressions: a checked expression of the syntax tree → an IR expression.

Names are resolved here, against every declaration of the folder: a bare name is, in this order,
a payload key of the triggering event (inside `where`), an account field, a score (`health` is its
value, `health.score` too, `health.band` its band) or a metric. `25k` is money 25000, `40%` is
percent 40, `80% of F` is `PercentOf`; `NAME is BAND` on a score is `BandIs`, on anything else a
comparison with a text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from dsl import ast, ir
from dsl.diagnostics import Diagnostic, DiagnosticError
from dsl.ir_expressions import parts

__all__ = ["ExpressionLowerer", "Payload", "fields_read", "lower_duration"]

Payload = dict[str, ir.FieldType]  # the triggering event's payload keys, inside `where`


def lower_duration(duration: ast.Duration) -> ir.Duration:
    return ir.Duration(amount=duration.amount, unit=duration.unit)


class ExpressionLowerer:
    """Lowers expressions against the folder's account model and score declarations."""

    def __init__(self, model: ir.Model, scores: dict[str, ast.Score],
                 audiences: dict[str, ast.NamedAudience] | None = None) -> None:
        self.model = model
        self.scores = scores
        self.audiences = audiences or {}
        self._lowered: dict[str, ir.Expr | None] = {}  # audiences lowered so far (None: under way)

    def audience(self, name: str) -> ir.Expr:
        """A named audience's condition, lowered once (the checker has refused cycles)."""
        if name not in self._lowered:
            self._lowered[name] = None
            self._lowered[name] = self.expr(self.audiences[name].condition)
        lowered = self._lowered[name]
        if lowered is None:
            declared = self.audiences[name]
            raise DiagnosticError(Diagnostic(declared.name.pos.span(), f"audience '{name}' refers to itself",
                                             code="playbook-structure"))
        return lowered

    def expr(self, node: ast.Expr, payload: Payload | None = None) -> ir.Expr:
        match node:
            case ast.NumberLit(value=value):
                return ir.Literal_(type="number", value=value)
            case ast.MoneyLit(value=value):
                return ir.Literal_(type="money", value=value)
            case ast.PercentLit(value=value):
                return ir.Literal_(type="percent", value=value)
            case ast.TextLit(value=value):
                return ir.Literal_(type="text", value=value)
            case ast.BoolLit(value=value):
                return ir.Literal_(type="boolean", value=value)
            case ast.DateLit(value=value):
                return ir.Literal_(type="date", value=value)
            case ast.Ref(path=path):
                return self.ref(path, payload)
            case ast.Group(expr=inner):
                return self.expr(inner, payload)
            case ast.Compare(op=op, left=left, right=right):
                return ir.Compare(op=op, left=self.expr(left, payload), right=self.expr(right, payload))
            case ast.Logic(op=op, args=args):
                return ir.Logic(op=op, args=tuple(self.expr(arg, payload) for arg in args))
            case ast.Not(arg=arg):
                return ir.Not(arg=self.expr(arg, payload))
            case ast.Negate(arg=arg):
                return self.negate(arg, payload)
            case ast.Arith(op=op, left=left, right=right):
                return ir.Arith(op=op, left=self.expr(left, payload), right=self.expr(right, payload))
            case ast.PercentOf(percent=percent, of=of):
                return ir.PercentOf(percent=self.expr(percent), of=self.expr(of, payload))
            case ast.Is():
                return self.is_(node, payload)
            case ast.Seen(event=event, within=within, older_than=older_than, since_entry=since_entry):
                return ir.Seen(
                    event=event.text,
                    within=lower_duration(within) if within else None,
                    older_than=lower_duration(older_than) if older_than else None,
                    since_entry=since_entry,
                )
            case ast.CountOf(op=op, count=count, args=args):
                return ir.CountTrue(op=op, count=count, args=tuple(self.expr(arg, payload) for arg in args))
            case ast.TaskIs(state=state):
                return ir.TaskState(state=state)
        raise AssertionError(f"no lowering for {type(node).__name__}")  # pragma: no cover

    def ref(self, path: ast.Path, payload: Payload | None) -> ir.Expr:
        names = path.names
        head = names[0]
        if head == "event" and names[1:2] == ("data",) and len(names) == 3 and head not in self.model.fields:
            # `event.data.KEY`: the event in scope, as the checker typed it
            return ir.EventField(name=names[2], prefixed=True)
        if payload is not None and head in payload and len(names) == 1:
            return ir.EventField(name=head)
        if head in self.model.fields:
            return ir.FieldRef(path=names)
        if head in self.scores:
            part: Literal["value", "band"] = "band" if names[1:] == ("band",) else "value"
            return ir.ScoreRef(score=head, part=part)
        if head in self.model.metrics:
            return ir.MetricRef(metric=head)
        if head in self.audiences:
            return ir.AudienceRef(name=head, condition=self.audience(head))
        return ir.FieldRef(path=names)

    def negate(self, arg: ast.Expr, payload: Payload | None) -> ir.Expr:
        inner = self.expr(arg, payload)
        if isinstance(inner, ir.Literal_) and isinstance(inner.value, int | float):
            return ir.Literal_(type=inner.type, value=-inner.value)
        return ir.Arith(op="-", left=ir.Literal_(type="number", value=0), right=inner)

    def is_(self, node: ast.Is, payload: Payload | None) -> ir.Expr:
        value = node.value.text if isinstance(node.value, ast.Name) else node.value.value
        subject = node.subject
        if isinstance(subject, ast.Ref) and self._is_score(subject.path, payload):
            test = ir.BandIs(score=subject.path.names[0], band=value)
            return ir.Not(arg=test) if node.negated else test
        op: Literal["==", "!="] = "!=" if node.negated else "=="
        text = ir.Literal_(type="text", value=value)
        return ir.Compare(op=op, left=self.expr(subject, payload), right=text)

    def _is_score(self, path: ast.Path, payload: Payload | None) -> bool:
        """Whether a bare name in `NAME is BAND` is a score (rather than a payload key or a field)."""
        name = path.names[0]
        if len(path.parts) != 1 or name not in self.scores:
            return False
        return not (payload is not None and name in payload) and name not in self.model.fields


# --------------------------------------------------------------------------- walks over the IR


def fields_read(expr: ir.Expr) -> Iterator[str]:
    """The account fields an expression reads (the first part of each path), in order."""
    for node in parts(expr):
        if isinstance(node, ir.FieldRef):
            yield node.path[0]
