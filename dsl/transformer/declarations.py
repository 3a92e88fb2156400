"""The rules of declarations: the account model, score models and send policies."""

from __future__ import annotations

from typing import Any

from dsl import ast
from dsl.transformer.places import Marker, RuleBase, number_value

__all__ = ["DeclarationRules"]


class DeclarationRules(RuleBase):
    """Account fields, events, metrics, scores and policies."""

    # ------------------------------------------------------------------ the account model

    def account_fields(self, pos: ast.Pos, fields: list[ast.FieldDecl]) -> ast.AccountFields:
        return ast.AccountFields(pos, tuple(fields))

    def field_decl(self, pos: ast.Pos, children: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(pos, children[0], children[1])

    def named_type(self, pos: ast.Pos, children: list[ast.Name]) -> ast.NamedType:
        return ast.NamedType(pos, children[0])

    def enum_type(self, pos: ast.Pos, values: list[ast.Name]) -> ast.EnumType:
        return ast.EnumType(pos, tuple(values))

    def events(self, pos: ast.Pos, events: list[ast.EventDecl]) -> ast.Events:
        return ast.Events(pos, tuple(events))

    def event_decl(self, pos: ast.Pos, children: list[Any]) -> ast.EventDecl:
        return ast.EventDecl(pos, children[0], tuple(children[1:]))

    def payload_key(self, pos: ast.Pos, children: list[Any]) -> ast.PayloadKey:
        return ast.PayloadKey(pos, children[0], children[1])

    def metric(self, pos: ast.Pos, children: list[Any]) -> ast.Metric:
        return ast.Metric(pos, children[0], children[1], children[2])

    def named_audience(self, pos: ast.Pos, children: list[Any]) -> ast.NamedAudience:
        return ast.NamedAudience(pos, children[0], children[1])

    # ------------------------------------------------------------------ score models

    def score(self, pos: ast.Pos, children: list[Any]) -> ast.Score:
        name: ast.Name = children[0]
        rest = children[1:]
        title = rest.pop(0) if rest and isinstance(rest[0], ast.TextLit) else None
        components = tuple(item for item in rest if isinstance(item, ast.Component))
        bands = [item for item in rest if isinstance(item, Marker)]
        if len(bands) > 1:
            self._fail(bands[1].pos, f"score '{name.text}' already has a 'bands:' block", code="duplicate")
        return ast.Score(
            pos,
            name,
            title,
            components,
            bands[0].value if bands else (),
            bands_pos=bands[0].pos if bands else None,
        )

    def component(self, pos: ast.Pos, children: list[Any]) -> ast.Component:
        return ast.Component(pos, children[0], children[1], tuple(children[2:]))

    def rule_if(self, pos: ast.Pos, children: list[Any]) -> ast.PointRule:
        return ast.PointRule(pos, children[0], children[1])

    def rule_otherwise(self, pos: ast.Pos, children: list[Any]) -> ast.PointRule:
        return ast.PointRule(pos, children[0], None)

    def bands(self, pos: ast.Pos, bands: list[ast.Band]) -> Marker:
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("bands:"))
        return Marker("bands", head, tuple(bands))

    def band(self, pos: ast.Pos, children: list[Any]) -> ast.Band:
        low, high = (ast.NumberLit(self._tpos(t), number_value(t.value), str(t.value)) for t in children[1:])
        return ast.Band(pos, children[0], low, high)

    # ------------------------------------------------------------------ send policies

    def policy(self, pos: ast.Pos, items: list[ast.PolicyItem]) -> ast.Policy:
        return ast.Policy(pos, tuple(items))

    def quiet_hours(self, pos: ast.Pos, children: list[ast.TimeOfDay]) -> ast.QuietHours:
        return ast.QuietHours(pos, children[0], children[1])

    def send_window(self, pos: ast.Pos, children: list[Any]) -> ast.SendWindow:
        return ast.SendWindow(pos, children[0], children[1], children[2])

    def on_weekdays(self, pos: ast.Pos, children: list[Any]) -> str:
        return "weekdays"

    def every_day(self, pos: ast.Pos, children: list[Any]) -> str:
        return "every_day"

    def holidays(self, pos: ast.Pos, children: list[ast.Name]) -> ast.Holidays:
        return ast.Holidays(pos, children[0])

    def over_cap(self, pos: ast.Pos, children: list[ast.Name]) -> ast.OverCap:
        return ast.OverCap(pos, children[0])

    def frequency_cap(self, pos: ast.Pos, children: list[Any]) -> ast.FrequencyCap:
        count = self._whole(children[0], "messages")
        return ast.FrequencyCap(pos, count, str(children[1]), children[2])  # type: ignore[arg-type]
