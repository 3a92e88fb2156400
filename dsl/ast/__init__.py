"""The syntax tree of a `.play` file, as written, with a source position on every node.

The parser builds these nodes; the checker reads them to report problems at the exact place;
the formatter prints them back in the canonical layout; lowering turns a checked tree into the IR.

Conventions
- Every node carries `pos` (1-based line and column of its first character, and where it ends).
- Names written in the source (fields, events, templates, scores, owners) are `Name` or `Path`
  nodes with their own position, so a message can underline exactly the name.
- Bare names in expressions are `Ref`: whether a name is an account field, a score, a metric or
  an event payload key is decided by the checker and lowering, which see the whole folder.
- Sequences are tuples; the nodes are frozen.

The nodes live in one module per concept and are all available here (`ast.Playbook`):
- `dsl.ast.places`: positions, names, dotted paths and comments;
- `dsl.ast.literals`: numbers, amounts, percentages, texts, booleans, dates, times, durations;
- `dsl.ast.expressions`: conditions and arithmetic;
- `dsl.ast.declarations`: the account model, score models and send policies;
- `dsl.ast.statements`: what a playbook does;
- `dsl.ast.playbooks`: triggers, clauses, steps and playbooks;
- `dsl.ast.work_items`: the task types and task templates;
- `dsl.ast.files`: a whole file.
"""

from __future__ import annotations

from dsl.ast.declarations import (
    AccountFields,
    Band,
    Component,
    EnumType,
    EventDecl,
    Events,
    FieldDecl,
    FrequencyCap,
    Holidays,
    Metric,
    NamedAudience,
    NamedType,
    OverCap,
    PayloadKey,
    PointRule,
    Policy,
    PolicyItem,
    QuietHours,
    Score,
    SendWindow,
    TypeRef,
)
from dsl.ast.expressions import (
    Arith,
    Compare,
    CountOf,
    Expr,
    Group,
    Is,
    Logic,
    Negate,
    Not,
    PercentOf,
    Ref,
    Seen,
    TaskIs,
)
from dsl.ast.files import (
    File,
    FileItem,
)
from dsl.ast.literals import (
    BoolLit,
    DateLit,
    Duration,
    DurationUnit,
    MoneyLit,
    NumberLit,
    PercentLit,
    TextLit,
    TimeOfDay,
)
from dsl.ast.places import (
    Comment,
    Name,
    Path,
    Pos,
)
from dsl.ast.playbooks import (
    AudienceClause,
    BecomesTrigger,
    ChangeTrigger,
    Clause,
    ConditionTrigger,
    DateStep,
    DateTrigger,
    DayStep,
    EventAlternative,
    EventTrigger,
    ExitClause,
    GoalClause,
    Playbook,
    PlaybookItem,
    PriorityClause,
    ReentryClause,
    ScheduleTrigger,
    SendPolicyClause,
    Step,
    TrendTrigger,
    Trigger,
    TriggerClause,
    TriggerValue,
)
from dsl.ast.statements import (
    CreateTask,
    Do,
    DoParam,
    If,
    Review,
    SendEmail,
    SendInApp,
    SetField,
    Split,
    SplitArm,
    StartPlan,
    Statement,
    UpdateScore,
    Wait,
    WaitUntil,
)
from dsl.ast.success_plans import Milestone, SuccessPlan
from dsl.ast.work_items import ChecklistStep, Escalation, TaskTemplate, TaskTypes, Team

__all__ = [
    "Milestone",
    "StartPlan",
    "SuccessPlan",
    "Review",
    "TaskTemplate",
    "TaskTypes",
    "Team",
    "AccountFields",
    "Arith",
    "AudienceClause",
    "Band",
    "BecomesTrigger",
    "ChangeTrigger",
    "BoolLit",
    "Clause",
    "Comment",
    "Compare",
    "Component",
    "ConditionTrigger",
    "CountOf",
    "ChecklistStep",
    "Escalation",
    "CreateTask",
    "DateLit",
    "DateStep",
    "DateTrigger",
    "DayStep",
    "Do",
    "DoParam",
    "Duration",
    "DurationUnit",
    "EnumType",
    "EventAlternative",
    "EventDecl",
    "EventTrigger",
    "Events",
    "ExitClause",
    "Expr",
    "FieldDecl",
    "File",
    "FileItem",
    "FrequencyCap",
    "Holidays",
    "GoalClause",
    "Group",
    "If",
    "Is",
    "Logic",
    "Metric",
    "NamedAudience",
    "MoneyLit",
    "Name",
    "NamedType",
    "Negate",
    "Not",
    "NumberLit",
    "Path",
    "PayloadKey",
    "PercentLit",
    "PercentOf",
    "Playbook",
    "PlaybookItem",
    "PointRule",
    "OverCap",
    "Policy",
    "PolicyItem",
    "PriorityClause",
    "Pos",
    "QuietHours",
    "ReentryClause",
    "SendPolicyClause",
    "SendWindow",
    "Ref",
    "ScheduleTrigger",
    "Score",
    "Seen",
    "SendEmail",
    "SendInApp",
    "SetField",
    "Split",
    "SplitArm",
    "Statement",
    "Step",
    "TaskIs",
    "TextLit",
    "TimeOfDay",
    "TrendTrigger",
    "Trigger",
    "TriggerValue",
    "TriggerClause",
    "TypeRef",
    "UpdateScore",
    "Wait",
    "WaitUntil",
]
