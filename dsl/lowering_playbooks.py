"""Lowering of score models and playbooks: checked syntax trees → `ir.ScoreModel` and `ir.Playbook`.

The rules that give the IR its meaning:
- `day N:` is a step N days after entry; `N days before FIELD:` a step on that date at 09:00
  (or its `at`); statements written directly under a playbook form a first step "entry" at day 0.
- `unless X:` is `If(Not(X), negated=True)`; every `If` keeps its source line.
- `day N at HH:MM:` is a step on the entry's date shifted by N days, at HH:MM (`day_at`).
- `health becomes red`, `plan becomes enterprise` and a condition trigger are `ConditionTrigger`s
  (edge-triggered); `csm changes [from A] [to B]` is a `ChangeTrigger`.
- `exit:` gives one `ExitRule` per alternative; `goal:` puts its events in `goal_events` and its
  conditions, joined by `or`, in `goal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

from dsl import ast, ir
from dsl.diagnostics import Diagnostic, DiagnosticError
from dsl.lowering_expressions import ExpressionLowerer, Payload, fields_read, lower_duration
from dsl.lowering_tasks import lower_task
from dsl.scope import RESERVED_EVENTS
from dsl.wording import weekday_number

__all__ = ["PlaybookLowerer"]


class PlaybookLowerer:
    """Lowers score models and playbooks; their expressions go to an `ExpressionLowerer`."""

    def __init__(self, model: ir.Model, scores: dict[str, ast.Score],
                 audiences: dict[str, ast.NamedAudience] | None = None,
                 task_templates: Mapping[str, ast.TaskTemplate] | None = None,
                 plans: Mapping[str, ast.SuccessPlan] | None = None) -> None:
        self.model = model
        self.task_templates = task_templates or {}
        self.plans = plans or {}
        self.expressions = ExpressionLowerer(model, scores, audiences)

    def expr(self, node: ast.Expr, payload: Payload | None = None) -> ir.Expr:
        return self.expressions.expr(node, payload)

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
                for name in fields_read(rule.when):
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
        goal_where: dict[str, ir.Expr] = {}
        reentry = ir.Reentry()
        send_policy: Literal["standard", "transactional"] = "standard"
        priority: Literal["high", "normal", "low"] = "normal"
        for clause in playbook.clauses:
            match clause:
                case ast.TriggerClause(trigger=written):
                    trigger = self.trigger(written)
                case ast.AudienceClause(condition=condition):
                    audience = self.expr(condition)
                case ast.ExitClause(alternatives=alternatives):
                    for alternative in alternatives:
                        if isinstance(alternative, ast.EventAlternative):
                            exits.append(ir.ExitRule(event=alternative.event.text, where=self.where(alternative)))
                        else:
                            exits.append(ir.ExitRule(condition=self.expr(alternative)))
                case ast.GoalClause(alternatives=alternatives):
                    for alternative in alternatives:
                        if isinstance(alternative, ast.EventAlternative):
                            goal_events.append(alternative.event.text)
                            if (where := self.where(alternative)) is not None:
                                goal_where[alternative.event.text] = where
                        else:
                            goals.append(self.expr(alternative))
                case ast.ReentryClause(mode="never"):
                    reentry = ir.Reentry(mode="never")
                case ast.ReentryClause(after=after) if after is not None:
                    reentry = ir.Reentry(mode="after", after=lower_duration(after))
                case ast.SendPolicyClause(mode=mode):
                    send_policy = "transactional" if mode.text == "transactional" else "standard"
                case ast.PriorityClause(level=level):
                    priority = "high" if level.text == "high" else "low" if level.text == "low" else "normal"
        if trigger is None:
            message = f"playbook '{playbook.id.text}' has no trigger"
            raise DiagnosticError(Diagnostic(playbook.id.pos.span(), message, code="playbook-structure"))
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
            goal_where=goal_where,
            reentry=reentry,
            send_policy=send_policy,
            priority=priority,
            steps=steps,
            templates=tuple(dict.fromkeys(_templates_used(step.body for step in steps))),
        )

    def trigger(self, trigger: ast.Trigger) -> ir.Trigger:
        match trigger:
            case ast.EventTrigger(event=event, where=where):
                lowered = self.expr(where, self.payload(event.text)) if where is not None else None
                return ir.EventTrigger(event=event.text, where=lowered)
            case ast.BecomesTrigger(subject=subject, value=value):
                if subject.text not in self.model.fields:
                    assert isinstance(value, ast.Name)
                    return ir.ConditionTrigger(condition=ir.BandIs(score=subject.text, band=value.text))
                right = self.trigger_value(value, subject.text)
                test = ir.Compare(op="==", left=ir.FieldRef(path=(subject.text,)), right=right)
                return ir.ConditionTrigger(condition=test, becomes=True)
            case ast.ChangeTrigger(field=field, before=before, after=after):
                return ir.ChangeTrigger(
                    field=field.text,
                    before=self.trigger_value(before, field.text) if before is not None else None,
                    after=self.trigger_value(after, field.text) if after is not None else None,
                )
            case ast.ConditionTrigger(condition=condition):
                return ir.ConditionTrigger(condition=self.expr(condition))
            case ast.DateTrigger(direction=direction, field=field, at=at):
                days = -trigger.days if direction == "before" else trigger.days
                return ir.DateTrigger(field=field.text, offset_days=days, at=at.value if at else "09:00")
            case ast.ScheduleTrigger(every=every, day=day, weekday=weekday, at=at):
                number = weekday_number(weekday.text) if weekday else (day or 1)
                return ir.ScheduleTrigger(every=every, day=number, at=at.value if at else "10:00")
            case ast.TrendTrigger(metric=metric, direction=direction, percent=percent, weeks=weeks):
                return ir.TrendTrigger(
                    metric=metric.text, direction=direction, percent=percent.value, weeks=weeks
                )
        raise AssertionError(f"no lowering for {type(trigger).__name__}")  # pragma: no cover

    def trigger_value(self, value: ast.TriggerValue, field: str) -> ir.Literal_:
        """A value of a field trigger: a value of a list (`enterprise` or `"enterprise"`) is an `enum` literal."""
        declared = self.model.fields.get(field)
        if declared is not None and declared.type == "enum":
            return ir.Literal_(type="enum", value=value.text if isinstance(value, ast.Name) else str(value.value))
        if isinstance(value, ast.Name):
            return ir.Literal_(type="text", value=value.text)
        lowered = self.expr(value)
        assert isinstance(lowered, ir.Literal_)
        return lowered

    def steps(self, playbook: ast.Playbook) -> tuple[ir.Step, ...]:
        steps: list[ir.Step] = []
        entry = playbook.statements
        if entry:
            steps.append(ir.Step(name="entry", body=self.block(entry, None)))
        for step in playbook.steps:
            body = self.block(step.body, None)
            if isinstance(step, ast.DayStep):
                offset = ir.Duration(amount=step.day, unit="days")
                steps.append(ir.Step(name=f"day {step.day}", anchor="entry", offset=offset,
                                     day_at=step.at.value if step.at else None, body=body))
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

    def plan(self, plan: ast.SuccessPlan) -> ir.SuccessPlan:
        """A success plan, its milestones' conditions lowered as a wait's are."""
        return ir.SuccessPlan(name=plan.name.text, title=plan.title.value if plan.title else None, milestones=tuple(
            ir.Milestone(name=milestone.name.text, event=milestone.event.event.text if milestone.event else None,
                         where=self.where(milestone.event) if milestone.event else None,
                         condition=self.expr(milestone.condition) if milestone.condition is not None else None,
                         within=lower_duration(milestone.within))
            for milestone in plan.milestones))

    def where(self, alternative: ast.EventAlternative) -> ir.Expr | None:
        """The condition on an event alternative, its bare names read from that event's payload."""
        if alternative.where is None:
            return None
        return self.expr(alternative.where, self.payload(alternative.event.text))

    def payload(self, event: str) -> Payload:
        """The payload keys of a declared event, or of a built-in one (`email_clicked`…)."""
        definition = self.model.events.get(event)
        return dict(definition.payload) if definition else dict(RESERVED_EVENTS.get(event, {}))

    # ------------------------------------------------------------------ statements

    def block(
        self, statements: Iterable[ast.Statement], payload: Payload | None
    ) -> tuple[ir.Statement, ...]:
        return tuple(self.statement(statement, payload) for statement in statements)

    def statement(self, node: ast.Statement, payload: Payload | None) -> ir.Statement:
        match node:
            case ast.SendEmail(template=template, to=to, also_to=also_to, sender=sender, review=review):
                return ir.SendEmail(template=template.text, to=to.names if to else ("primary_contact",),
                                    also_to=tuple(path.names for path in also_to),
                                    sender=sender.names if sender is not None else (),
                                    review=ir.Review(by=review.by.names, within=lower_duration(review.within),
                                                     then="send" if review.then and review.then.text == "send"
                                                     else "drop") if review is not None else None)
            case ast.StartPlan(plan=plan):
                return ir.StartPlan(plan=self.plan(self.plans[plan.text]))
            case ast.SendInApp(template=template):
                return ir.SendInApp(template=template.text)
            case ast.CreateTask():
                return lower_task(node, self.task_templates)
            case ast.SetField(field=field, value=value):
                return ir.SetField(field=field.text, value=self.expr(value, payload))
            case ast.UpdateScore(score=score):
                return ir.UpdateScore(score=score.text)
            case ast.Do(activity=activity, params=params, otherwise=otherwise, attempts=attempts):
                values = {param.name.text: self.param(param.value, payload) for param in params}
                return ir.Do(activity=activity.text, params=values, otherwise=self.block(otherwise, payload),
                             attempts=attempts)
            case ast.Wait(duration=duration):
                return ir.Wait(duration=lower_duration(duration))
            case ast.WaitUntil(events=events, task_done=task_done, timeout=timeout, conditions=conditions):
                lowered = [self.expr(condition) for condition in conditions]
                return ir.WaitUntil(
                    events=tuple(event.event.text for event in events),
                    task_done=task_done,
                    timeout=lower_duration(timeout),
                    where={event.event.text: where for event in events if (where := self.where(event)) is not None},
                    since_entry=tuple(event.event.text for event in events if event.since_entry),
                    condition=lowered[0] if len(lowered) == 1 else ir.Logic(op="or", args=tuple(lowered)) if lowered
                    else None,
                )
            case ast.If(condition=condition, then=then, otherwise=otherwise, negated=negated):
                test = self.expr(condition, payload)
                return ir.If(
                    condition=ir.Not(arg=test) if negated else test,
                    then=self.block(then, payload),
                    otherwise=self.block(otherwise, payload),
                    negated=negated,
                    line=node.pos.line,
                )
            case ast.Split(shares=shares, arms=arms, record_as=record_as):
                return ir.Split(
                    arms=tuple(
                        ir.SplitArm(percent=share.value, body=self.block(arm.body, payload), label=arm.label.text)
                        for share, arm in zip(shares, arms, strict=False)
                    ),
                    record_as=record_as.text if record_as is not None else None,
                )
        raise AssertionError(f"no lowering for {type(node).__name__}")  # pragma: no cover

    def param(self, value: ast.Expr, payload: Payload | None) -> ir.ParamValue:
        if isinstance(value, ast.TextLit):
            templated = "{{" in value.value or "{%" in value.value
            kind: Literal["literal", "template"] = "template" if templated else "literal"
            return ir.ParamValue(kind=kind, value=value.value)
        if isinstance(value, ast.Ref):
            return ir.ParamValue(kind="field", path=value.path.names)
        lowered = self.expr(value, payload)
        if isinstance(lowered, ir.Literal_):
            return ir.ParamValue(kind="literal", value=lowered.value)
        raise DiagnosticError(Diagnostic(value.pos.span(), "a parameter takes a value, a field or text",
                                         code="wrong-type"))


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
            elif type(statement) is ir.Do and statement.otherwise:
                yield from _templates_used((statement.otherwise,))
