"""The rules of statements: sending, tasks, fields, scores, plugins, waits, `if` and `split`."""

from __future__ import annotations

from typing import Any

from lark import Token

from dsl import ast
from dsl.transformer.places import Marker, RuleBase

__all__ = ["StatementRules"]


class StatementRules(RuleBase):
    """Every statement, with the options of a task and the alternatives of a wait."""

    # ------------------------------------------------------------------ statements

    def send_email(self, pos: ast.Pos, children: list[Any]) -> ast.SendEmail:
        sender = next((child.value for child in children if isinstance(child, Marker) and child.kind == "from"), None)
        review = next((child for child in children if isinstance(child, ast.Review)), None)
        paths = [child for child in children[1:] if isinstance(child, ast.Path)]
        return ast.SendEmail(pos, children[0], paths[0] if paths else None, tuple(paths[1:]), sender, review)

    def send_review(self, pos: ast.Pos, children: list[Any]) -> ast.Review:
        return ast.Review(pos, children[0], children[1], children[2] if len(children) > 2 else None)

    def send_from(self, pos: ast.Pos, children: list[Any]) -> Marker:
        return Marker("from", pos, children[0])

    def send_in_app(self, pos: ast.Pos, children: list[ast.Name]) -> ast.SendInApp:
        return ast.SendInApp(pos, children[0])

    def create_task(self, pos: ast.Pos, children: list[Any]) -> ast.CreateTask:
        title, owner, *options = children
        assignment = options.pop(0) if options and isinstance(options[0], ast.Name) else None
        found: dict[str, Marker] = {}
        for option in options:
            if option.kind in found:
                self._fail(option.pos, f"'{option.kind}' is given twice in this task", code="duplicate")
            found[option.kind] = option
        def value(kind: str) -> Any:
            return found[kind].value if kind in found else None

        return ast.CreateTask(pos, title, owner, value("due"), value("priority"), value("type"), value("reason"),
                              value("description"), value("dedupe"), assignment, value("escalate"))

    def due(self, pos: ast.Pos, children: list[ast.Duration]) -> Marker:
        return Marker("due", pos, children[0])

    def priority(self, pos: ast.Pos, children: list[ast.Name]) -> Marker:
        return Marker("priority", pos, children[0])

    def set_field(self, pos: ast.Pos, children: list[Any]) -> ast.SetField:
        return ast.SetField(pos, children[0], children[1])

    def update_score(self, pos: ast.Pos, children: list[ast.Name]) -> ast.UpdateScore:
        return ast.UpdateScore(pos, children[0])

    def do_statement(self, pos: ast.Pos, children: list[Any]) -> ast.Do:
        markers = {child.kind: child for child in children if isinstance(child, Marker)}
        params = tuple(child for child in children[1:] if not isinstance(child, Marker))
        failed, attempts = markers.get("else"), markers.get("attempts")
        return ast.Do(pos, children[0], params, (failed.value,) if failed else (), failed.pos if failed else None,
                      attempts.value if attempts else None, attempts.pos if attempts else None)

    def do_attempts(self, pos: ast.Pos, children: list[Any]) -> Marker:
        token = next(child for child in children if isinstance(child, Token) and child.type == "NUMBER")
        return Marker("attempts", self._tpos(token), self._whole(token, "attempts"))

    def do_failed(self, pos: ast.Pos, children: list[Any]) -> Marker:
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("else"))
        return Marker("else", head, children[0])

    def do_param(self, pos: ast.Pos, children: list[Any]) -> ast.DoParam:
        return ast.DoParam(pos, children[0], children[1])

    def wait(self, pos: ast.Pos, children: list[ast.Duration]) -> ast.Wait:
        return ast.Wait(pos, children[0])

    def wait_until(self, pos: ast.Pos, children: list[Any]) -> ast.WaitUntil:
        *alternatives, last = children
        if isinstance(last, ast.MoneyLit) and last.text[:-1].isdigit() and last.text.endswith("m"):
            # `30m` lexes as an amount where a condition may stand; as the time limit it is minutes
            last = ast.Duration(last.pos, int(last.text[:-1]), "minutes", last.text)
        if not isinstance(last, ast.Duration):
            self._fail(last.pos, "expected a time limit at the end, such as 'or 7 days'", code="syntax")
        events: list[ast.EventAlternative] = []
        conditions: list[ast.Expr] = []
        task_done = False
        for alternative in alternatives:
            if isinstance(alternative, ast.Duration):
                self._fail(alternative.pos, "only the last alternative of 'wait until' may be a time limit",
                           code="syntax")
            if isinstance(alternative, ast.EventAlternative):
                events.append(alternative)
            elif isinstance(alternative, ast.TaskIs) and alternative.state == "done":
                task_done = True  # `task done` alone: the journey's task, as the statement has always read
            else:
                conditions.append(alternative)
        if not alternatives:
            self._fail(pos, "expected what to wait for before the time limit, such as 'event signed'", code="syntax")
        return ast.WaitUntil(pos, tuple(events), task_done, last, tuple(conditions))

    def wait_event(self, pos: ast.Pos, children: list[Any]) -> ast.EventAlternative:
        name, *rest = children
        since = bool(rest) and isinstance(rest[0], Marker) and rest[0].kind == "since_entry"
        where = rest[-1] if rest and not isinstance(rest[-1], Marker) else None
        return ast.EventAlternative(pos, name, where, since_entry=since)

    def wait_since(self, pos: ast.Pos, children: list[Any]) -> Marker:
        return Marker("since_entry", pos)

    def wait_condition(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.Expr:
        return children[0]

    def if_statement(self, pos: ast.Pos, children: list[Any]) -> ast.If:
        return self._if(pos, children, negated=False)

    def unless_statement(self, pos: ast.Pos, children: list[Any]) -> ast.If:
        return self._if(pos, children, negated=True)

    def _if(self, pos: ast.Pos, children: list[Any], negated: bool) -> ast.If:
        condition, then, *rest = children
        otherwise: tuple[ast.Statement, ...] = rest[0].value if rest else ()
        else_pos = rest[0].pos if rest else None
        return ast.If(pos, condition, then, otherwise, negated, else_pos)

    def else_block(self, pos: ast.Pos, children: list[Any]) -> Marker:
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("else"))
        return Marker("else", head, children[0])

    def split_statement(self, pos: ast.Pos, children: list[Any]) -> ast.Split:
        shares = tuple(self._percent(child) for child in children if isinstance(child, Token))
        arms = tuple(child for child in children if isinstance(child, ast.SplitArm))
        record = next((child.value for child in children if isinstance(child, Marker) and child.kind == "record"), None)
        return ast.Split(pos, shares, arms, record)

    def split_record(self, pos: ast.Pos, children: list[Any]) -> Marker:
        return Marker("record", pos, children[0])

    def split_arm(self, pos: ast.Pos, children: list[Any]) -> ast.SplitArm:
        return ast.SplitArm(pos, children[0], children[1])
