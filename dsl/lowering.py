"""Lowering: checked syntax trees of a whole folder → the IR bundle the engine runs.

Names are resolved here, against every declaration of the folder: in an expression a bare name
is, in this order, a payload key of the triggering event (inside `where`), an account field, a
score (`health` is its value, `health.score` too, `health.band` its band) or a metric.

Expressions are lowered by `dsl.lowering_expressions`, score models and playbooks (with the rules
that give the IR its meaning) by `dsl.lowering_playbooks`; this module reads the declarations
(the account model, the send policies) and assembles the bundle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from dsl import ast, ir
from dsl.diagnostics import Diagnostic, DiagnosticError
from dsl.lowering_expressions import lower_duration
from dsl.lowering_playbooks import PlaybookLowerer
from dsl.lowering_tasks import task_templates

__all__ = ["lower"]



def lower(files: Iterable[ast.File], templates: dict[str, ir.Template] | None = None) -> ir.Bundle:
    """The bundle of these (checked) files and templates, with a version per playbook."""
    files = list(files)
    templates = dict(templates or {})
    model, scores = _declarations(files)
    audiences = {item.name.text: item for file in files for item in file.items if isinstance(item, ast.NamedAudience)}
    plans = {item.name.text: item for file in files for item in file.items if isinstance(item, ast.SuccessPlan)}
    lowerer = PlaybookLowerer(model, scores, audiences, task_templates(files), plans)
    rules: list[ast.PolicyItem] = []
    playbooks: dict[str, ir.Playbook] = {}
    score_models: dict[str, ir.ScoreModel] = {}
    for file in files:
        for item in file.items:
            if isinstance(item, ast.Score):
                score_models[item.name.text] = lowerer.score(item)
            elif isinstance(item, ast.Policy):
                rules.extend(item.items)
            elif isinstance(item, ast.Playbook):
                playbooks[item.id.text] = lowerer.playbook(item, file.path)
    bundle = ir.Bundle(
        model=model, scores=score_models, policy=_policy(rules), playbooks=playbooks, templates=templates,
        audiences={name: lowerer.expressions.audience(name) for name in sorted(audiences)},
    )
    digests = {name: bundle.template_digest(name) for name in bundle.templates}
    versions = {key: playbook.content_hash(bundle, digests) for key, playbook in playbooks.items()}
    return bundle.model_copy(update={"versions": versions})


# --------------------------------------------------------------------------- the account model


def _field_type(written: ast.TypeRef) -> ir.FieldType:
    if isinstance(written, ast.EnumType):
        return ir.FieldType(type="enum", values=tuple(dict.fromkeys(v.text for v in written.values)))
    try:
        return ir.FieldType.model_validate({"type": written.name.text})
    except ValueError:
        raise DiagnosticError(
            Diagnostic(written.name.pos.span(), f"unknown type '{written.name.text}'", code="unknown-name")
        ) from None


def _declarations(files: list[ast.File]) -> tuple[ir.Model, dict[str, ast.Score]]:
    fields: dict[str, ir.FieldType] = {}
    events: dict[str, ir.EventDef] = {}
    metrics: dict[str, ir.MetricDef] = {}
    scores: dict[str, ast.Score] = {}
    teams: dict[str, tuple[str, ...]] = {}
    for file in files:
        for item in file.items:
            if isinstance(item, ast.AccountFields):
                fields.update((decl.name.text, _field_type(decl.type)) for decl in item.fields)
            elif isinstance(item, ast.Events):
                for event in item.events:
                    payload = {key.name.text: _field_type(key.type) for key in event.payload}
                    events[event.name.text] = ir.EventDef(name=event.name.text, payload=payload)
            elif isinstance(item, ast.Metric):
                name, window = item.name.text, lower_duration(item.window)
                metrics[name] = ir.MetricDef(name=name, event=item.event.text, window=window)
            elif isinstance(item, ast.Score):
                scores[item.name.text] = item
            elif isinstance(item, ast.Team):
                teams[item.name.text] = tuple(dict.fromkeys(m.value.strip().lower() for m in item.members))
    return ir.Model(fields=fields, events=events, metrics=metrics, teams=teams), scores


def _policy(rules: list[ast.PolicyItem]) -> ir.Policy:
    """The folder's policy: the rules of all its `policy:` blocks (holidays join the send window,
    whichever block names them)."""
    quiet: ir.QuietHours | None = None
    window: ir.SendWindow | None = None
    over_cap: Literal["drop", "defer"] = "drop"
    holidays: str | None = None
    caps: list[ir.FrequencyCap] = []
    for rule in rules:
        if isinstance(rule, ast.QuietHours):
            quiet = ir.QuietHours(start=rule.start.value, end=rule.end.value)
        elif isinstance(rule, ast.SendWindow):
            window = ir.SendWindow(days=rule.days, start=rule.start.value, end=rule.end.value)
        elif isinstance(rule, ast.Holidays):
            holidays = rule.field.text
        elif isinstance(rule, ast.OverCap):
            over_cap = "defer" if rule.mode.text == "defer" else "drop"
        else:
            caps.append(ir.FrequencyCap(channel=rule.channel, count=rule.count, per=lower_duration(rule.per)))
    if window is not None and holidays is not None:
        window = window.model_copy(update={"holidays": holidays})
    return ir.Policy(quiet_hours=quiet, caps=tuple(caps), window=window, over_cap=over_cap)
