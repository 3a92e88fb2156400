"""The shape of what a template may read: the variables the engine passes when it renders one.

A template (a file under `templates/`, a task title, a `do` parameter written as text) is
rendered with these variables:

- `account`: every field of the account model, plus `id`; an `owner` field has `name`, `email`
  and `manager` (an owner), a `contact` field has `name` and `email`;
- `contact`: the recipient of the message, `name` and `email` (messages only: not task titles
  or `do` parameters);
- one variable per score model, e.g. `health`: `score` (a number), `band` (its name) and
  `components` (a list of objects with `name`, `points`, `max`);
- `metrics`: metric name to number, e.g. `metrics.weekly_logins`;
- `playbook`: `id`, `title`;
- `unsubscribe_url`: the recipient's unsubscribe link (messages only);
- `event`: the event that triggered the journey, `name` and `data` (its payload).

A `Shape` describes one value of that context: a record whose fields are known (and checked),
or an opaque value (a scalar, a list, a free-form payload) whose insides are not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dsl.ir import FieldType

__all__ = ["Shape", "template_context"]


@dataclass(eq=False)
class Shape:
    """A value a template may read: `fields` is None for a value whose insides are not checked."""

    name: str  # how messages name it: "account", "account.csm"
    fields: dict[str, Shape] | None = field(default=None)

    @property
    def is_record(self) -> bool:
        return self.fields is not None


def _leaf(name: str) -> Shape:
    return Shape(name)


def _contact(name: str) -> Shape:
    return Shape(name, {"name": _leaf(f"{name}.name"), "email": _leaf(f"{name}.email")})


def _owner(name: str, depth: int = 0) -> Shape:
    """An owner has a manager, itself an owner; the chain is cut where no template reaches."""
    manager = _owner(f"{name}.manager", depth + 1) if depth < 4 else Shape(f"{name}.manager")
    return Shape(name, {"name": _leaf(f"{name}.name"), "email": _leaf(f"{name}.email"), "manager": manager})


def _account(model_fields: Mapping[str, FieldType]) -> Shape:
    fields: dict[str, Shape] = {"id": _leaf("account.id")}
    for name, declared in model_fields.items():
        path = f"account.{name}"
        if declared.type == "owner":
            fields[name] = _owner(path)
        elif declared.type == "contact":
            fields[name] = _contact(path)
        else:
            fields[name] = _leaf(path)
    return Shape("account", fields)


def _score(name: str) -> Shape:
    return Shape(
        name,
        {
            "score": _leaf(f"{name}.score"),
            "band": _leaf(f"{name}.band"),
            "components": _leaf(f"{name}.components"),
        },
    )


def _event(payload: Mapping[str, FieldType] | None) -> Shape:
    data = Shape("event.data")
    if payload is not None:
        data = Shape("event.data", {key: _leaf(f"event.data.{key}") for key in payload})
    return Shape("event", {"name": _leaf("event.name"), "data": data})


def template_context(
    model_fields: Mapping[str, FieldType],
    scores: Iterable[str],
    metrics: Iterable[str],
    *,
    message: bool = True,
    event_payload: Mapping[str, FieldType] | None = None,
) -> dict[str, Shape]:
    """The top-level variables of a template.

    `message` is True for a message template (it has a recipient: `contact`, `unsubscribe_url`);
    `event_payload`, when known (an event-triggered playbook), makes `event.data` keys checked.
    """
    context: dict[str, Shape] = {}
    for score in scores:
        context[score] = _score(score)
    context["account"] = _account(model_fields)
    context["metrics"] = Shape("metrics", {name: _leaf(f"metrics.{name}") for name in metrics})
    context["playbook"] = Shape("playbook", {"id": _leaf("playbook.id"), "title": _leaf("playbook.title")})
    context["event"] = _event(event_payload)
    if message:
        context["contact"] = _contact("contact")
        context["unsubscribe_url"] = _leaf("unsubscribe_url")
    return context
