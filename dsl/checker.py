"""The checker: every problem of a folder of `.play` files, each at its place, before anything runs.

`check(files, templates, plugins)` reports EVERY problem it finds, not only the first:

- names: unknown fields, events, metrics, scores, bands, templates, owners, contacts, plugin
  activities and their parameters, each with the nearest known name ("did you mean");
- types: see `dsl/typing_rules.py` (a date compared with a percent, `and` on a number, …);
- structure: names declared twice across files, steps written twice, score bands that overlap
  or leave a gap, rules over a component's max, invalid times, zero waits, and more (see
  `dsl/playbook_rules.py` for playbooks).

Severity: problems that would make a playbook do something other than what it says are errors;
two things are warnings, since the meaning stays clear: a component without an `otherwise`
rule (an account no rule matches gets 0 points) and steps written out of time order (steps run
by their time, whatever their order in the file). Template files are checked here too, since
only here is the account model known (see `dsl/templates.py`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Iterator

from dsl import ast, ir
from dsl.bounds import check_duration
from dsl.diagnostics import Diagnostic
from dsl.name_suggestions import with_nearest
from dsl.playbook_rules import PlaybookChecker
from dsl.plugin_catalog import PluginCatalog
from dsl.reporter import Reporter
from dsl.scope import Scope, build_scope
from dsl.templates import InlineTemplates, check_template_references
from dsl.typing_rules import ExprTyper, check_time
from dsl.work_item_rules import WorkItemChecker

__all__ = ["check"]


def check(
    files: list[ast.File],
    templates: dict[str, ir.Template],
    plugins: PluginCatalog | None = None,
    *,
    only: Collection[str] | None = None,
) -> list[Diagnostic]:
    """Every problem of these files and templates; `plugins` None skips checking `do` statements.

    `only`, when given, names the files whose items are checked: the declarations of every file
    are in scope and every playbook's name is known (for "declared twice"), but only those files'
    problems are returned, and the templates are not checked. The language server uses it after
    an edit that changed no declaration and no playbook's name: the other files' problems are
    then the ones it already has.
    """
    report = Reporter()
    scope = build_scope(files, templates, report)
    typer = ExprTyper(scope, report)
    playbooks = PlaybookChecker(scope, typer, report, plugins)
    policy_seen: dict[str, ast.Pos] = {}
    for file in files:
        if only is not None and file.path not in only:
            _note_names(file, playbooks, policy_seen, scope)
            continue
        for item in file.items:
            if isinstance(item, ast.Metric):
                _check_metric(item, typer, report)
            elif isinstance(item, ast.NamedAudience):
                typer.condition(item.condition, f"audience '{item.name.text}'")
                _check_audience_cycle(item, scope, report)
            elif isinstance(item, ast.Score):
                _check_score(item, scope, typer, report)
            elif isinstance(item, ast.Policy):
                _check_policy(item, policy_seen, scope, report)
            elif isinstance(item, ast.Playbook):
                playbooks.check(item)
            elif isinstance(item, ast.TaskTemplate):
                _check_task_template(item, scope, report)
            elif isinstance(item, ast.Team):
                WorkItemChecker(scope, report).team(item)
            elif isinstance(item, ast.SuccessPlan):
                _check_plan(item, typer, report)
    if only is not None:
        return [diagnostic for diagnostic in report.diagnostics if diagnostic.span.path in only]
    _check_policy_folder(policy_seen, report)
    report.extend(check_template_references(scope.templates, scope.fields, scope.scores, scope.metrics))
    return report.diagnostics


def _note_names(file: ast.File, playbooks: PlaybookChecker, policy_seen: dict[str, ast.Pos], scope: Scope) -> None:
    """What a file not checked tells the others: its playbooks' names and its policies' rules."""
    for item in file.items:
        if isinstance(item, ast.Playbook):
            playbooks.note_name(item)
        elif isinstance(item, ast.Policy):
            _check_policy(item, policy_seen, scope, Reporter())


# --------------------------------------------------------------------------- model


def _check_metric(metric: ast.Metric, typer: ExprTyper, report: Reporter) -> None:
    typer.event_name(metric.event)
    if metric.window.amount <= 0:
        report.error(metric.window.pos, f"metric window '{metric.window.text}' is no time: use a positive duration",
                     code="never-happens")
    check_duration(metric.window, report, f"metric window '{metric.window.text}'")


def _names_read(node: object) -> Iterator[ast.Name]:
    """Every name an expression of the syntax tree reads (the first part of each path)."""
    if isinstance(node, ast.Ref):
        yield node.path.parts[0]
    elif isinstance(node, tuple):
        for item in node:
            yield from _names_read(item)
    elif dataclasses.is_dataclass(node):
        for field in dataclasses.fields(node):
            if field.name != "pos":
                yield from _names_read(getattr(node, field.name))


def _check_audience_cycle(audience: ast.NamedAudience, scope: Scope, report: Reporter) -> None:
    """An audience may name others, but never itself, directly or through them (reported at the
    name in its own condition that leads back to it)."""
    own = audience.name.text
    pending = [(name, name) for name in _names_read(audience.condition)]
    seen: set[str] = set()
    while pending:
        first, name = pending.pop()
        if name.text == own:
            through = "" if first.text == own else f" through audience '{first.text}'"
            report.error(first.pos, f"audience '{own}' refers to itself{through}", code="playbook-structure")
            return
        if name.text in scope.audiences and name.text not in seen:
            seen.add(name.text)
            pending.extend((first, inner) for inner in _names_read(scope.audiences[name.text].condition))


def _check_score(score: ast.Score, scope: Scope, typer: ExprTyper, report: Reporter) -> None:
    typer.task_created = False
    names: set[str] = set()
    for component in score.components:
        if component.name.text in names:
            report.error(
                component.name.pos,
                f"component '{component.name.text}' is written twice in score {score.name.text}",
                code="duplicate",
            )
        names.add(component.name.text)
        _check_component(component, typer, report)
    _check_bands(score, report)


def _check_component(component: ast.Component, typer: ExprTyper, report: Reporter) -> None:
    name, top = component.name.text, component.max_points.value
    if top <= 0:
        report.error(component.max_points.pos, f"component '{name}' must have a max above 0", code="out-of-range")
    otherwise: ast.PointRule | None = None
    for rule in component.rules:
        if otherwise is not None:
            report.warning(rule.pos, "this rule is never used: the 'otherwise' rule above always holds first",
                           code="never-happens")
        points = rule.points.value
        if points > top:
            report.error(
                rule.points.pos,
                f"rule awards {rule.points.text} points, more than the max of component '{name}' "
                f"({component.max_points.text})",
                code="out-of-range",
            )
        elif points < 0:
            report.error(rule.points.pos, f"rule awards {rule.points.text} points: points cannot be negative",
                         code="out-of-range")
        if rule.when is None:
            otherwise = otherwise or rule
        else:
            typer.condition(rule.when, "a point rule")
    if otherwise is None:
        report.warning(
            component.name.pos,
            f"component '{name}' has no 'otherwise' rule: an account no rule matches gets 0 points",
            code="playbook-structure",
        )


def _check_bands(score: ast.Score, report: Reporter) -> None:
    seen: dict[str, ast.Band] = {}
    for band in score.bands:
        if band.name.text in seen:
            report.error(band.name.pos, f"band '{band.name.text}' is written twice in score {score.name.text}",
                         code="duplicate")
        seen[band.name.text] = band
        if band.low.value > band.high.value:
            report.error(
                band.pos,
                f"band '{band.name.text}' goes from {band.low.text} down to {band.high.text}: write the low end first",
                code="out-of-range",
            )
    ordered = sorted(seen.values(), key=lambda band: (band.low.value, band.high.value))
    for lower, upper in itertools.pairwise(ordered):
        if upper.low.value <= lower.high.value:
            report.error(
                upper.pos,
                f"band '{upper.name.text}' ({upper.low.text} to {upper.high.text}) overlaps band "
                f"'{lower.name.text}' ({lower.low.text} to {lower.high.text})",
                code="out-of-range",
            )
        elif upper.low.value > lower.high.value + 1:
            report.error(
                upper.pos,
                f"no band covers the scores between {lower.high.text} and {upper.low.text} "
                f"(between bands '{lower.name.text}' and '{upper.name.text}')",
                code="out-of-range",
            )
    if not ordered:
        return
    top = sum(component.max_points.value for component in score.components)
    if ordered[0].low.value > 0:
        report.error(ordered[0].pos, f"no band covers the scores below {ordered[0].low.text}", code="out-of-range")
    if ordered[-1].high.value < top:
        report.error(
            ordered[-1].pos,
            f"no band covers the scores above {ordered[-1].high.text} (the components add up to {_number(top)})",
            code="out-of-range",
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_task_template(template: ast.TaskTemplate, scope: Scope, report: Reporter) -> None:
    inline = InlineTemplates(scope.fields, scope.scores, scope.metrics)

    def check_text(text: ast.TextLit) -> None:
        report.extend(inline.check(text.value, text.pos.path, text.pos.line, text.pos.column + 1))

    WorkItemChecker(scope, report).template(template, check_text)


# --------------------------------------------------------------------------- policies


_OVER_CAP = ("defer", "drop")


def _check_plan(plan: ast.SuccessPlan, typer: ExprTyper, report: Reporter) -> None:
    """A success plan's milestones: each named once, reached by a known event or a condition, due
    a positive, bounded time after the plan's start."""
    seen: set[str] = set()
    for milestone in plan.milestones:
        name = milestone.name.text
        if name in seen:
            report.error(milestone.name.pos, f"milestone '{name}' is written twice in success plan "
                                             f"'{plan.name.text}'", code="duplicate")
        seen.add(name)
        if milestone.event is not None:
            typer.event_matches((milestone.event,), f"milestone '{name}'")
        if milestone.condition is not None:
            typer.condition(milestone.condition, f"milestone '{name}'")
        within = milestone.within
        check_duration(within, report, f"'within {within.text}'")
        if within.amount <= 0:
            report.error(within.pos, f"'within {within.text}' is no time: a milestone is due a positive time after "
                                     "the plan starts", code="never-happens")


def _once(item: ast.PolicyItem, word: str, seen: dict[str, ast.Pos], report: Reporter) -> None:
    """A rule of which a folder has one: a second is an error that names the first."""
    if word in seen:
        first = seen[word]
        report.error(item.pos, f"{word} {'are' if word.endswith('s') else 'is'} set twice "
                               f"(first at {first.path}:{first.line})", code="duplicate")
    seen.setdefault(word, item.pos)


def _check_policy(policy: ast.Policy, seen: dict[str, ast.Pos], scope: Scope, report: Reporter) -> None:
    for item in policy.items:
        if isinstance(item, ast.SendWindow):
            _once(item, "the send window", seen, report)
            check_time(item.start, report)
            check_time(item.end, report)
            if item.start.value == item.end.value:
                report.error(item.pos, "the send window opens and closes at the same time", code="never-happens")
            elif _minutes(item.start.value) > _minutes(item.end.value):
                report.error(item.pos, f"the send window must open before it closes: {item.start.value} is after "
                                       f"{item.end.value} (quiet hours are the rule for nights)",
                             code="out-of-range")
        elif isinstance(item, ast.Holidays):
            _once(item, "holidays", seen, report)
            name = item.field.text
            declared = scope.fields.get(name)
            if declared is None:
                message, near = with_nearest(f"unknown account field '{name}'", name, scope.fields)
                report.error(item.field.pos, message, code="unknown-name", suggestion=near)
            elif declared.type != "text":
                report.error(item.field.pos, f"holidays are read from a text field of dates "
                                             f"(\"2026-12-24, 2026-12-25\"): '{name}' is {declared.type}",
                             code="wrong-type")
        elif isinstance(item, ast.OverCap):
            _once(item, "over the cap", seen, report)
            if item.mode.text not in _OVER_CAP:
                message, near = with_nearest(f"over the cap: '{item.mode.text}' is neither 'defer' nor 'drop'",
                                             item.mode.text, _OVER_CAP)
                report.error(item.mode.pos, message, code="unknown-name", suggestion=near)
        elif isinstance(item, ast.QuietHours):
            _once(item, "quiet hours", seen, report)
            check_time(item.start, report)
            check_time(item.end, report)
            if item.start.value == item.end.value:
                report.error(item.pos, "quiet hours start and end at the same time", code="never-happens")
        else:
            if item.count <= 0:
                report.error(
                    item.pos,
                    f"'at most {item.count}' would send nothing",
                    code="never-happens",
                )
            if item.per.amount <= 0:
                report.error(item.per.pos, f"'{item.per.text}' is no time: use a positive duration",
                             code="never-happens")
            check_duration(item.per, report, f"'per {item.per.text}'")


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes or 0)


def _check_policy_folder(seen: dict[str, ast.Pos], report: Reporter) -> None:
    """Rules that need another rule of the folder's policies."""
    if "holidays" in seen and "the send window" not in seen:
        report.error(seen["holidays"], "holidays need a send window ('send on weekdays 09:00 to 17:00'): "
                                       "without one, mail goes on any day", code="playbook-structure")
