"""Rendering templates for one account, in the counting sandbox, strict about what a template reads.

Templates are untrusted input. They render in the sandbox of `activities/template_sandbox.py`
(steps counted, growth bounded, no Python object printed) with `StrictUndefined` (a variable the
account lacks is an error, never a silent blank), HTML parts autoescaped, and caps on what a
render may produce and how long it may take. The context is built from a snapshot of the account
as of the step's time (see `dsl/template_context.py` for its shape).

A render is synchronous and CPU-bound: the worker's activities run it off the event loop with
`render_off_loop` (a thread; the budget stops it, and the loop keeps serving other journeys).
A render that runs out of steps, size, time or memory is a `RenderError` like any other refusal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar

from jinja2 import TemplateError

from activities.context import ActivityContext
from activities.template_sandbox import MAX_POWER_BITS, budget, sandbox
from activities.trigger_event import trigger_event
from dsl import ir
from dsl.template_bounds import MAX_RENDERED_CHARS, MAX_TEMPLATE_STEPS
from engine.records import Snapshot
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import PluginParams

__all__ = ["MAX_POWER_BITS", "MAX_RENDERED_CHARS", "MAX_RENDER_SECONDS", "MAX_TEMPLATE_STEPS", "RenderError",
           "render_block", "render_off_loop", "render_params", "render_text", "template_context"]

MAX_RENDER_SECONDS = 5.0

_P = ParamSpec("_P")
_T = TypeVar("_T")


class RenderError(ValueError):
    """A template could not be rendered for this account (a missing value, a sandbox refusal)."""


async def render_off_loop(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`function(*args, **kwargs)` on a thread: a render never holds the worker's event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


@lru_cache(maxsize=512)
def _compile(source: str, autoescape: bool) -> Any:
    return sandbox(autoescape).from_string(source)


def _bounded(pieces: Iterable[str], where: str) -> str:
    out: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            raise RenderError(f"{where}: the rendered text exceeds {MAX_RENDERED_CHARS:,} characters")
        out.append(piece)
    return "".join(out)


def _rendered(produce: Callable[[], Iterable[str]], where: str) -> str:
    """The text `produce` yields, within one fresh budget; every refusal a `RenderError`."""
    budget(MAX_RENDER_SECONDS)
    try:
        text = _bounded(produce(), where)
    except RenderError:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, AttributeError, LookupError) as error:
        raise RenderError(f"{where}: {error}") from error
    except RecursionError:
        raise RenderError(f"{where}: the template nests calls too deep") from None
    except MemoryError:
        raise RenderError(f"{where}: the template needs more memory than a message may take") from None
    return text


def render_block(part: ir.TemplateText, block: str, context: dict[str, Any], *, html: bool = False) -> str:
    """Render one block (`subject`, `text`, `html`) of a template file."""
    where = f"{part.path or 'template'} ({block})"

    def produce() -> Iterable[str]:
        template = _compile(part.source, html)
        render = template.blocks.get(block)
        if render is None:
            raise RenderError(f"{where}: the template has no '{block}' block")
        return render(template.new_context(context))

    return _rendered(produce, where)


def render_text(source: str, context: dict[str, Any], where: str = "text") -> str:
    """Render a template string written inline in a playbook (a task title, a `do` parameter)."""
    return _rendered(lambda: _compile(source, False).generate(context), where)


def template_context(bundle: ir.Bundle, snap: Snapshot, *, playbook: str | None, playbook_title: str = "",
                     contact: dict[str, Any] | None = None, unsubscribe_url: str | None = None,
                     event: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    account = _whole_numbers(snap.fields)
    account["id"] = snap.account
    context: dict[str, Any] = {
        "account": account,
        "metrics": _whole_numbers(snap.metrics),
        "playbook": {"id": playbook or "", "title": playbook_title},
        "event": {"name": event or "", "data": _whole_numbers(data or {})},
    }
    for name, model in bundle.scores.items():
        state = snap.scores.get(name)
        components = [
            {"name": component.name, "points": (state.breakdown.get(component.name) if state else None),
             "max": component.max_points}
            for component in model.components
        ]
        context[name] = {
            "score": _number(state.value) if state else None,
            "band": state.band if state else None,
            "components": components,
        }
    if contact is not None:
        # a contact without a name has an empty one (never the address): `default("there", true)` applies
        context["contact"] = {"name": contact.get("name") or "", "email": contact.get("email")}
    if unsubscribe_url is not None:
        context["unsubscribe_url"] = unsubscribe_url
    return context


def _whole_numbers(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with each whole float as an int: a count of 5 prints as `5`, not `5.0`."""
    return {key: (int(value) if isinstance(value, float) and value.is_integer() else value)
            for key, value in values.items()}


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


async def render_params(context: ActivityContext, call: PluginParams) -> dict[str, Any]:
    """A plugin call's parameters with every template value rendered for the account (off the loop)."""
    spec = context.bundle.playbooks.get(call.playbook)
    templated = {name for name, value in call.params.items() if isinstance(value, str) and "{" in value}
    if not templated:
        return dict(call.params)
    snap = build_snapshot(context.reads, context.bundle, call.account, call.at)
    event, data = (trigger_event(context, call.playbook, call.account, call.workflow_id)
                   if any("event" in call.params[name] for name in templated) else (None, {}))
    values = template_context(context.bundle, snap, playbook=call.playbook,
                              playbook_title=spec.title if spec else "", event=event, data=data)
    rendered = dict(call.params)
    for name in templated:
        rendered[name] = await render_off_loop(render_text, call.params[name], values,
                                               where=f"{call.activity} {name}")
    return rendered
