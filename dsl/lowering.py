"""Lowering: checked syntax trees of a whole folder → the IR bundle the engine runs.

Names are resolved here, against every declaration of the folder: in an expression a bare name
is, in this order, a payload key of the triggering event (inside `where`), an account field, a
score (`health` is its value, `health.score` too, `health.band` its band) or a metric.

The rules that give the IR its meaning:
- `day N:` is a step N days after entry; `N days before FIELD:` a step on that date at 09:00
  (or its `at`); statements written directly under a playbook form a first step "entry" at day 0.
- `unless X:` is `If(Not(X), negated=True)`; every `If` keeps its source line.
- `health becomes red` and a condition trigger are `ConditionTrigger`s (edge-triggered).
- `exit:` gives one `ExitRule` per alternative; `goal:` puts its events in `goal_events` and its
  conditions, joined by `or`, in `goal`.
- `25k` is money 25000, `40%` is percent 40, `80% of F` is `PercentOf`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

from dsl import ast, ir
from dsl.diagnostics import Diagnostic, DiagnosticError

__all__ = ["lower"]

_WEEKDAYS = {
    "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
}
_Payload = dict[str, ir.FieldType]


def lower(files: Iterable[ast.File], templates: dict[str, ir.Template] | None = None) -> ir.Bundle:
    """The bundle of these (checked) files and templates, with a version per playbook."""
    files = list(files)
    templates = dict(templates or {})
    model, scores = _declarations(files)
    lowerer = _Lowerer(model, scores)
    policy = ir.Policy()
    playbooks: dict[str, ir.Playbook] = {}
    score_models: dict[str, ir.ScoreModel] = {}
    for file in files:
        for item in file.items:
            if isinstance(item, ast.Score):
                score_models[item.name.text] = lowerer.score(item)
            elif isinstance(item, ast.Policy):
                policy = _merge_policy(policy, item)
            elif isinstance(item, ast.Playbook):
                playbooks[item.id.text] = lowerer.playbook(item, file.path)
    bundle = ir.Bundle(
        model=model, scores=score_models, policy=policy, playbooks=playbooks, templates=templates
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
            Diagnostic(written.name.pos.span(), f"unknown type '{written.name.text}'")
        ) from None


def _declarations(files: list[ast.File]) -> tuple[ir.Model, dict[str, ast.Score]]:
    fields: dict[str, ir.FieldType] = {}
    events: dict[str, ir.EventDef] = {}
    metrics: dict[str, ir.MetricDef] = {}
    scores: dict[str, ast.Score] = {}
    for file in files:
        for item in file.items:
            if isinstance(item, ast.AccountFields):
                fields.update((decl.name.text, _field_type(decl.type)) for decl in item.fields)
            elif isinstance(item, ast.Events):
                for event in item.events:
                    payload = {key.name.text: _field_type(key.type) for key in event.payload}
                    events[event.name.text] = ir.EventDef(name=event.name.text, payload=payload)
            elif isinstance(item, ast.Metric):
                name, window = item.name.text, _duration(item.window)
                metrics[name] = ir.MetricDef(name=name, event=item.event.text, window=window)
            elif isinstance(item, ast.Score):
                scores[item.name.text] = item
    return ir.Model(fields=fields, events=events, metrics=metrics), scores


def _duration(duration: ast.Duration) -> ir.Duration:
    return ir.Duration(amount=duration.amount, unit=duration.unit)


def _merge_policy(policy: ir.Policy, written: ast.Policy) -> ir.Policy:
    quiet = policy.quiet_hours
    caps = list(policy.caps)
    for rule in written.items:
        if isinstance(rule, ast.QuietHours):
            quiet = ir.QuietHours(start=rule.start.value, end=rule.end.value)
        else:
            caps.append(ir.FrequencyCap(channel=rule.channel, count=rule.count, per=_duration(rule.per)))
    return ir.Policy(quiet_hours=quiet, caps=tuple(caps))


# --------------------------------------------------------------------------- the lowerer


class _Lowerer:
    def __init__(self, model: ir.Model, scores: dict[str, ast.Score]) -> None:
        self.model = model
        self.scores = scores

    # ------------------------------------------------------------------ expressions

    def expr(self, node: ast.Expr, payload: _Payload | None = None) -> ir.Expr:
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
                    within=_duration(within) if within else None,
                    older_than=_duration(older_than) if older_than else None,
                    since_entry=since_entry,
                )
            case ast.CountOf(op=op, count=count, args=args):
                return ir.CountTrue(op=op, count=count, args=tuple(self.expr(arg, payload) for arg in args))
            case ast.TaskIs(state=state):
                return ir.TaskState(state=state)
        raise AssertionError(f"no lowering for {type(node).__name__}")  # pragma: no cover

    def ref(self, path: ast.Path, payload: _Payload | None) -> ir.Expr:
        names = path.names
        head = names[0]
        if payload is not None and head in payload and len(names) == 1:
            return ir.EventField(name=head)
        if head in self.model.fields:
            return ir.FieldRef(path=names)
        if head in self.scores:
            part: Literal["value", "band"] = "band" if names[1:] == ("band",) else "value"
            return ir.ScoreRef(score=head, part=part)
        if head in self.model.metrics:
            return ir.MetricRef(metric=head)
        return ir.FieldRef(path=names)

    def negate(self, arg: ast.Expr, payload: _Payload | None) -> ir.Expr:
        inner = self.expr(arg, payload)
        if isinstance(inner, ir.Literal_) and isinstance(inner.value, int | float):
            return ir.Literal_(type=inner.type, value=-inner.value)
        return ir.Arith(op="-", left=ir.Literal_(type="number", value=0), right=inner)

    def is_(self, node: ast.Is, payload: _Payload | None) -> ir.Expr:
        value = node.value.text if isinstance(node.value, ast.Name) else node.value.value
        subject = node.subject
        if isinstance(subject, ast.Ref) and self._is_score(subject.path, payload):
            test = ir.BandIs(score=subject.path.names[0], band=value)
            return ir.Not(arg=test) if node.negated else test
        op: Literal["==", "!="] = "!=" if node.negated else "=="
        text = ir.Literal_(type="text", value=value)
        return ir.Compare(op=op, left=self.expr(subject, payload), right=text)

    def _is_score(self, path: ast.Path, payload: _Payload | None) -> bool:
        """Whether a bare name in `NAME is BAND` is a score (rather than a payload key or a field)."""
        name = path.names[0]
        if len(path.parts) != 1 or name not in self.scores:
            return False
        return not (payload is not None and name in payload) and name not in self.model.fields

    # ------------------------------------------------------------------ score models

    def score(self, score: ast.Score) -> ir.ScoreModel:
        components = tuple(self.component(component) for component in score.components)
        bands = tuple(ir.Band(name=b.name.text, low=b.low.value, high=b.high.value) for b in score.bands)
        title = score.title.value if score.title else ""
        return ir.ScoreModel(name=score.name.text, title=title, components=components, bands=bands)

    def component(self, component: ast.Component) -> ir.Component:
        rules = tuple(
            ir.PointRule(points=rule.points.value, when=self.expr(rule.when) if rule.when else None)
            for rule in component.rules
        )
        inputs: dict[str, None] = {}
        for rule in rules:
            if rule.when is not None:
                for name in _fields_read(rule.when):
                    inputs.setdefault(name, None)
        return ir.Component(
            name=component.name.text, max_points=component.max_points.value, rules=rules, inputs=tuple(inputs)
        )

    # ------------------------------------------------------------------ playbooks

    def playbook(self, playbook: ast.Playbook, path: str) -> ir.Playbook:
        trigger: ir.Trigger | None = None
        audience: ir.Expr | None = None
        exits: list[ir.ExitRule] = []
        goals: list[ir.Expr] = []
        goal_events: list[str] = []
        reentry = ir.Reentry()
        for clause in playbook.clauses:
            match clause:
                case ast.TriggerClause(trigger=written):
                    trigger = self.trigger(written)
                case ast.AudienceClause(condition=condition):
                    audience = self.expr(condition)
                case ast.ExitClause(alternatives=alternatives):
                    for alternative in alternatives:
                        if isinstance(alternative, ast.EventAlternative):
                            exits.append(ir.ExitRule(event=alternative.event.text))
                        else:
                            exits.append(ir.ExitRule(condition=self.expr(alternative)))
                case ast.GoalClause(alternatives=alternatives):
                    for alternative in alternatives:
                        if isinstance(alternative, ast.EventAlternative):
                            goal_events.append(alternative.event.text)
                        else:
                            goals.append(self.expr(alternative))
                case ast.ReentryClause(mode="never"):
                    reentry = ir.Reentry(mode="never")
                case ast.ReentryClause(after=after) if after is not None:
                    reentry = ir.Reentry(mode="after", after=_duration(after))
        if trigger is None:
            message = f"playbook '{playbook.id.text}' has no trigger"
            raise DiagnosticError(Diagnostic(playbook.id.pos.span(), message))
        steps = self.steps(playbook)
        goal: ir.Expr | None = None
        if len(goals) == 1:
            goal = goals[0]
        elif goals:
            goal = ir.Logic(op="or", args=tuple(goals))
        return ir.Playbook(
            id=playbook.id.text,
            title=playbook.title.value if playbook.title else "",
            path=path,
            trigger=trigger,
            audience=audience,
            exits=tuple(exits),
            goal=goal,
            goal_events=tuple(goal_events),
            reentry=reentry,
            steps=steps,
            templates=tuple(dict.fromkeys(_templates_used(step.body for step in steps))),
        )

    def trigger(self, trigger: ast.Trigger) -> ir.Trigger:
        match trigger:
            case ast.EventTrigger(event=event, where=where):
                definition = self.model.events.get(event.text)
                payload = dict(definition.payload) if definition else {}
                lowered = self.expr(where, payload) if where is not None else None
                return ir.EventTrigger(event=event.text, where=lowered)
            case ast.BecomesTrigger(score=score, band=band):
                return ir.ConditionTrigger(condition=ir.BandIs(score=score.text, band=band.text))
            case ast.ConditionTrigger(condition=condition):
                return ir.ConditionTrigger(condition=self.expr(condition))
            case ast.DateTrigger(direction=direction, field=field, at=at):
                days = -trigger.days if direction == "before" else trigger.days
                return ir.DateTrigger(field=field.text, offset_days=days, at=at.value if at else "09:00")
            case ast.ScheduleTrigger(every=every, day=day, weekday=weekday, at=at):
                number = _WEEKDAYS.get(weekday.text.lower(), 1) if weekday else (day or 1)
                return ir.ScheduleTrigger(every=every, day=number, at=at.value if at else "10:00")
            case ast.TrendTrigger(metric=metric, direction=direction, percent=percent, weeks=weeks):
                return ir.TrendTrigger(
                    metric=metric.text, direction=direction, percent=percent.value, weeks=weeks
                )
        raise AssertionError(f"no lowering for {type(trigger).__name__}")  # pragma: no cover

    def steps(self, playbook: ast.Playbook) -> tuple[ir.Step, ...]:
        steps: list[ir.Step] = []
        entry = playbook.statements
        if entry:
            steps.append(ir.Step(name="entry", body=self.block(entry, None)))
        for step in playbook.steps:
            body = self.block(step.body, None)
            if isinstance(step, ast.DayStep):
                offset = ir.Duration(amount=step.day, unit="days")
                steps.append(ir.Step(name=f"day {step.day}", anchor="entry", offset=offset, body=body))
            else:
                name = f"{step.amount} {step.unit if step.amount != 1 else step.unit[:-1]} {step.direction} "
                offset_days = -step.days if step.direction == "before" else step.days
                steps.append(
                    ir.Step(
                        name=name + step.field.text,
                        anchor=step.field.text,
                        offset_days=offset_days,
                        at=step.at.value if step.at else "09:00",
                        body=body,
                    )
                )
        return tuple(steps)

    # ------------------------------------------------------------------ statements

    def block(
        self, statements: Iterable[ast.Statement], payload: _Payload | None
    ) -> tuple[ir.Statement, ...]:
        return tuple(self.statement(statement, payload) for statement in statements)

    def statement(self, node: ast.Statement, payload: _Payload | None) -> ir.Statement:
        match node:
            case ast.SendEmail(template=template, to=to):
                return ir.SendEmail(template=template.text, to=to.names if to else ("primary_contact",))
            case ast.SendInApp(template=template):
                return ir.SendInApp(template=template.text)
            case ast.CreateTask(title=title, owner=owner, due=due, priority=priority):
                return ir.CreateTask(
                    title=title.value,
                    owner=owner.names,
                    due=_duration(due) if due else None,
                    priority=priority.text if priority else "normal",
                )
            case ast.SetField(field=field, value=value):
                return ir.SetField(field=field.text, value=self.expr(value, payload))
            case ast.UpdateScore(score=score):
                return ir.UpdateScore(score=score.text)
            case ast.Do(activity=activity, params=params):
                values = {param.name.text: self.param(param.value, payload) for param in params}
                return ir.Do(activity=activity.text, params=values)
            case ast.Wait(duration=duration):
                return ir.Wait(duration=_duration(duration))
            case ast.WaitUntil(events=events, task_done=task_done, timeout=timeout):
                names = tuple(event.text for event in events)
                return ir.WaitUntil(events=names, task_done=task_done, timeout=_duration(timeout))
            case ast.If(condition=condition, then=then, otherwise=otherwise, negated=negated):
                test = self.expr(condition, payload)
                return ir.If(
                    condition=ir.Not(arg=test) if negated else test,
                    then=self.block(then, payload),
                    otherwise=self.block(otherwise, payload),
                    negated=negated,
                    line=node.pos.line,
                )
            case ast.Split(shares=shares, arms=arms):
                return ir.Split(
                    arms=tuple(
                        ir.SplitArm(percent=share.value, body=self.block(arm.body, payload), label=arm.label.text)
                        for share, arm in zip(shares, arms, strict=False)
                    )
                )
        raise AssertionError(f"no lowering for {type(node).__name__}")  # pragma: no cover

    def param(self, value: ast.Expr, payload: _Payload | None) -> ir.ParamValue:
        if isinstance(value, ast.TextLit):
            templated = "{{" in value.value or "{%" in value.value
            kind: Literal["literal", "template"] = "template" if templated else "literal"
            return ir.ParamValue(kind=kind, value=value.value)
        if isinstance(value, ast.Ref):
            return ir.ParamValue(kind="field", path=value.path.names)
        lowered = self.expr(value, payload)
        if isinstance(lowered, ir.Literal_):
            return ir.ParamValue(kind="literal", value=lowered.value)
        raise DiagnosticError(Diagnostic(value.pos.span(), "a parameter takes a value, a field or text"))


# --------------------------------------------------------------------------- walks over the IR


def _children(expr: ir.Expr) -> Iterator[ir.Expr]:
    match expr:
        case ir.Compare(left=left, right=right) | ir.Arith(left=left, right=right):
            yield left
            yield right
        case ir.Logic(args=args) | ir.CountTrue(args=args):
            yield from args
        case ir.Not(arg=arg):
            yield arg
        case ir.PercentOf(percent=percent, of=of):
            yield percent
            yield of


def _fields_read(expr: ir.Expr) -> Iterator[str]:
    """The account fields an expression reads (the first part of each path), in order."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.FieldRef):
            yield node.path[0]
        stack.extend(reversed(list(_children(node))))


def _templates_used(blocks: Iterable[Iterable[ir.Statement]]) -> Iterator[str]:
    # `type(…) is`: an isinstance check on a pydantic model goes through ABCMeta, a Python call each.
    for body in blocks:
        for statement in body:
            if type(statement) is ir.SendEmail or type(statement) is ir.SendInApp:
                yield statement.template
            elif type(statement) is ir.If:
                yield from _templates_used((statement.then, statement.otherwise))
            elif type(statement) is ir.Split:
                yield from _templates_used(arm.body for arm in statement.arms)
