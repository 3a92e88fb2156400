"""Rendering templates for one account: Jinja2's sandbox, strict about what a template reads.

Templates are untrusted input. They render in `SandboxedEnvironment` with `StrictUndefined`
(a variable the account lacks is an error, never a silent blank), HTML parts autoescaped, and a
size cap on what a render may produce. The context is built from a snapshot of the account as
of the step's time (see `dsl/template_context.py` for its shape).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from activities.context import ActivityContext
from dsl import ir
from engine.records import Snapshot
from engine.snapshots import build_snapshot
from engine.workflows.messages import PluginParams

__all__ = ["MAX_RENDERED_CHARS", "RenderError", "render_block", "render_params", "render_text", "template_context"]

MAX_RENDERED_CHARS = 512 * 1024


class RenderError(ValueError):
    """A template could not be rendered for this account (a missing value, a sandbox refusal)."""


@lru_cache(maxsize=4)
def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape)


@lru_cache(maxsize=512)
def _compile(source: str, autoescape: bool) -> Any:
    return _environment(autoescape).from_string(source)


def _bounded(pieces: Any, where: str) -> str:
    out: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            raise RenderError(f"{where}: the rendered text exceeds {MAX_RENDERED_CHARS:,} characters")
        out.append(piece)
    return "".join(out)


def render_block(part: ir.TemplateText, block: str, context: dict[str, Any], *, html: bool = False) -> str:
    """Render one block (`subject`, `text`, `html`) of a template file."""
    where = f"{part.path or 'template'} ({block})"
    try:
        template = _compile(part.source, html)
        render = template.blocks.get(block)
        if render is None:
            raise RenderError(f"{where}: the template has no '{block}' block")
        return _bounded(render(template.new_context(context)), where)
    except RenderError:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, AttributeError) as error:
        raise RenderError(f"{where}: {error}") from error


def render_text(source: str, context: dict[str, Any], where: str = "text") -> str:
    """Render a template string written inline in a playbook (a task title, a `do` parameter)."""
    try:
        return _bounded(_compile(source, False).generate(context), where)
    except RenderError:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, AttributeError) as error:
        raise RenderError(f"{where}: {error}") from error


def template_context(bundle: ir.Bundle, snap: Snapshot, *, playbook: str | None, playbook_title: str = "",
                     contact: dict[str, Any] | None = None, unsubscribe_url: str | None = None,
                     event: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    account = dict(snap.fields)
    account["id"] = snap.account
    context: dict[str, Any] = {
        "account": account,
        "metrics": dict(snap.metrics),
        "playbook": {"id": playbook or "", "title": playbook_title},
        "event": {"name": event or "", "data": dict(data or {})},
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
        context["contact"] = {"name": contact.get("name") or contact.get("email", ""), "email": contact.get("email")}
    if unsubscribe_url is not None:
        context["unsubscribe_url"] = unsubscribe_url
    return context


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def render_params(context: ActivityContext, call: PluginParams) -> dict[str, Any]:
    """A plugin call's parameters with every template value rendered for the account."""
    spec = context.bundle.playbooks.get(call.playbook)
    templated = {name for name, value in call.params.items() if isinstance(value, str) and "{" in value}
    if not templated:
        return dict(call.params)
    snap = build_snapshot(context.store, context.bundle, call.account, call.at)
    values = template_context(context.bundle, snap, playbook=call.playbook,
                              playbook_title=spec.title if spec else "")
    rendered = dict(call.params)
    for name in templated:
        rendered[name] = render_text(call.params[name], values, where=f"{call.activity} {name}")
    return rendered
