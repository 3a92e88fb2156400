"""Completion by context: what may be written where the cursor is, read from the line before it.

Works on a half-written line (the file need not parse): after `send email` the email templates,
after `to` (and each `,` after it) the contact fields, after `for` the owners (and their
managers), after `priority` the priorities (after `priority:`, `send policy:`, `over the cap:`
and `reentry:` the words each takes), after `event` or `seen` the events, after
`record arm as` the text and `one of` fields, after `update score` the scores, after `is` or
`becomes` a score's bands or an enumeration's values, after `do` the plugin activities and then
their parameters not yet written, after `wait`, `due`, `within`, `over`, `after` or `per`
durations, after `X.` the members of `X`; at the start of a line the keywords; in an expression
the fields, metrics, scores and named audiences. In a template, the variables of the template
context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from lsprotocol import types

from lsp.declarations import Declarations, type_text
from lsp.text_places import line_of, to_column

__all__ = ["complete"]

Kind = types.CompletionItemKind

PRIORITIES = ("low", "normal", "high", "urgent")
CLAUSE_WORDS = {"priority:": ("high", "normal", "low"), "send policy:": ("standard", "transactional"),
                "over the cap:": ("defer", "drop"), "reentry:": ("never", "after")}
DURATIONS = ("1 day", "3 days", "7 days", "2 weeks", "48h", "30m", "2 business days")
LINE_STARTS = (
    "account fields:", "events:", "metric", "score", "policy:", "playbook", "trigger:", "audience:", "exit:",
    "goal:", "reentry:", "day", "send email", "send in_app", "create task", "set", "update score", "do", "wait",
    "wait until", "if", "unless", "else:", "split", "component", "bands:", "quiet hours", "at most",
    "send on weekdays", "holidays from", "over the cap:", "send policy:", "priority:", "start plan", "success plan",
    "milestone",
)
EXPRESSION_WORDS = ("and", "or", "not", "is", "seen", "task open", "task done", "exactly", "at least", "at most",
                    "true", "false")
TEMPLATE_VARIABLES = ("account", "contact", "metrics", "playbook", "unsubscribe_url", "event")
OWNER_MEMBERS = ("name", "email", "manager")
CONTACT_MEMBERS = ("name", "email")

_PARTIAL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*$")
_DO = re.compile(r"^\s*do\s+([A-Za-z_][\w.]*)((?:\s+\w+\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|\S+))*)\s+$")


def complete(
    text: str, position: types.Position, declarations: Declarations, template: bool
) -> list[types.CompletionItem]:
    """What may be written at `position`; `template` for a template file."""
    line = line_of(text, position.line)
    prefix = line[: to_column(line, position.character)]
    partial_match = _PARTIAL.search(prefix)
    partial = partial_match.group() if partial_match else ""
    head = prefix[: len(prefix) - len(partial)]
    if template:
        return _in_template(head, partial, declarations)
    if "." in partial:
        return _members(partial.rsplit(".", 1)[0], declarations)
    return _by_context(head, declarations)


def _items(names: Iterable[str], kind: types.CompletionItemKind, detail: str = "") -> list[types.CompletionItem]:
    return [types.CompletionItem(label=name, kind=kind, detail=detail or None) for name in names]


def _members(base: str, declarations: Declarations) -> list[types.CompletionItem]:
    if base in declarations.scores:
        return _items(("score", "band"), Kind.Property, f"of score {base}")
    parts = base.split(".")
    declared = declarations.fields.get(parts[0])
    if declared is not None:
        if declared.type == "owner" and all(part == "manager" for part in parts[1:]):
            return _items(OWNER_MEMBERS, Kind.Property, "of an owner")
        if declared.type == "contact" and len(parts) == 1:
            return _items(CONTACT_MEMBERS, Kind.Property, "of a contact")
    activities = [name[len(base) + 1:] for name in declarations.activities if name.startswith(base + ".")]
    return _items(activities, Kind.Function, "plugin activity")


def _by_context(head: str, declarations: Declarations) -> list[types.CompletionItem]:
    words = head.split()
    last = words[-1] if words else ""
    two = " ".join(words[-2:])
    templates = declarations.templates
    if two == "send email":
        return _items([n for n, t in templates.items() if t.channel == "email"], Kind.File, "email template")
    if two == "send in_app":
        return _items([n for n, t in templates.items() if t.channel == "in_app"], Kind.File, "in-app template")
    if len(words) >= 3 and words[-3:-1] == ["send", "email"] and last != "to":
        return _items(["to"], Kind.Keyword)
    if (last == "to" or head.rstrip().endswith(",")) and "send email" in head and " to " in f"{head} ":
        return _items(declarations.fields_of_type("contact"), Kind.Variable, "contact")
    if last == "as" and "record arm" in head:
        return _items(declarations.fields_of_type("text", "enum"), Kind.Field, "text or one-of field")
    if last == "for" and "create task" in head:
        owners = declarations.fields_of_type("owner")
        return _items([*owners, *(f"{owner}.manager" for owner in owners)], Kind.Variable, "owner")
    if last == "priority":
        return _items(PRIORITIES, Kind.EnumMember, "priority")
    clause_words = CLAUSE_WORDS.get(head.strip())
    if clause_words is not None:
        return _items(clause_words, Kind.EnumMember, head.strip().rstrip(":"))
    if two == "update score":
        return _items(declarations.scores, Kind.Class, "score")
    if last in ("event", "seen", "count"):
        return [types.CompletionItem(label=name, kind=Kind.Event, detail=_event_detail(payload))
                for name, payload in declarations.events.items()]
    if last in ("wait", "due", "within", "over", "after", "per") or (last == "or" and "wait until" in head):
        extra = ["until"] if last == "wait" else []
        return [*_items(DURATIONS, Kind.Unit, "duration"), *_items(extra, Kind.Keyword)]
    do = _DO.match(head)
    if do is not None:
        return _parameters(do.group(1), do.group(2), declarations)
    if last == "do":
        return [types.CompletionItem(label=name, kind=Kind.Function, detail=activity.description or None)
                for name, activity in declarations.activities.items()]
    if last == "becomes" and len(words) >= 2:
        return _items(declarations.bands(words[-2]), Kind.EnumMember, f"band of {words[-2]}")
    if last == "is" or (two.endswith("is not") and len(words) >= 3):
        subject = words[-2] if last == "is" else words[-3]
        return _values(subject, declarations)
    if last == "set":
        return _items(declarations.fields, Kind.Field, "account field")
    if not words:
        return _items(LINE_STARTS, Kind.Keyword)
    return [
        *[types.CompletionItem(label=name, kind=Kind.Field, detail=type_text(declared))
          for name, declared in declarations.fields.items()],
        *_items([d.name for ds in declarations.names.values() for d in ds if d.kind == "metric"], Kind.Variable,
                "metric"),
        *_items(declarations.scores, Kind.Class, "score"),
        *_items([d.name for ds in declarations.names.values() for d in ds if d.kind == "audience"], Kind.Constant,
                "audience"),
        *_items(EXPRESSION_WORDS, Kind.Keyword),
    ]


def _values(subject: str, declarations: Declarations) -> list[types.CompletionItem]:
    if subject in declarations.scores:
        return _items(declarations.bands(subject), Kind.EnumMember, f"band of {subject}")
    declared = declarations.fields.get(subject)
    if declared is not None and declared.type == "enum":
        return _items(declared.values or (), Kind.EnumMember, f"value of {subject}")
    return []


def _parameters(name: str, written: str, declarations: Declarations) -> list[types.CompletionItem]:
    activity = declarations.activities.get(name)
    if activity is None:
        return []
    given = set(re.findall(r"(\w+)\s*=", written))
    return [
        types.CompletionItem(label=f"{param.name}=", kind=Kind.Property, insert_text=f"{param.name}=",
                             detail=f"{param.type}{', required' if param.required else ''}")
        for param in activity.params.values()
        if param.name not in given
    ]


def _event_detail(payload: Mapping[str, object]) -> str:
    return ("payload: " + ", ".join(payload)) if payload else "no payload"


def _in_template(head: str, partial: str, declarations: Declarations) -> list[types.CompletionItem]:
    opened = max(head.rfind("{{"), head.rfind("{%"))
    if opened < 0 or max(head.rfind("}}"), head.rfind("%}")) > opened:
        return []
    if "." in partial:
        base = partial.rsplit(".", 1)[0]
        if base == "account":
            return _items(["id", *declarations.fields], Kind.Field, "account field")
        if base == "contact":
            return _items(CONTACT_MEMBERS, Kind.Property, "of the recipient")
        if base in declarations.scores:
            return _items(("score", "band", "components"), Kind.Property, f"of score {base}")
        if base.startswith("account."):
            return _members(base.removeprefix("account."), declarations)
        return []
    return [*_items(TEMPLATE_VARIABLES, Kind.Variable, "template variable"),
            *_items(declarations.scores, Kind.Class, "score")]
