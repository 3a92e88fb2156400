"""Rendering templates for one account: Jinja2's sandbox, strict about what a template reads.

Templates are untrusted input. They render in `SandboxedEnvironment` with `StrictUndefined`
(a variable the account lacks is an error, never a silent blank), HTML parts autoescaped, and a
size cap on what a render may produce. The context is built from a snapshot of the account as
of the step's time (see `dsl/template_context.py` for its shape).

Beyond Jinja2's own sandbox (which keeps `str.format` and `__class__`-style walks away):

- the immutable sandbox: a template cannot change the lists and mappings it is given
  (`account.primary_contact.update({...})` would otherwise change the address a message goes
  to, which is read from the same snapshot after the render);

- no constant folding at compile time (`optimized=False`): `{{ 'x' * 10**8 }}` would otherwise
  be built, and written into Python source, while the template compiles;
- `*` and `**` are bounded before they run: repeating text or a list past the size cap, or a
  power with thousands of digits, is refused instead of allocated (or computed for hours);
- `~` is checked like `*`: joined text past the size cap is refused step by step (a loop that
  doubles a string forty times would otherwise ask for a terabyte);
- what `{{ ... }}`, `|string`, `|format`, `%` and `~` print must be data (text, numbers, lists, mappings): a
  function, class or generator is refused rather than printed as `<function ... at 0x...>`;
- `lipsum` is bounded (100 paragraphs of 1,000 words);
- a render that runs past `MAX_RENDER_SECONDS` while it produces output, or runs out of
  memory, is a `RenderError` like any other refusal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import do_format
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from markupsafe import soft_str

from activities.context import ActivityContext
from dsl import ir
from engine.records import Snapshot
from engine.snapshots import build_snapshot
from engine.workflows.messages import PluginParams

__all__ = ["MAX_POWER_BITS", "MAX_RENDERED_CHARS", "MAX_RENDER_SECONDS", "RenderError", "render_block",
           "render_params", "render_text", "template_context"]

MAX_RENDERED_CHARS = 512 * 1024
MAX_RENDER_SECONDS = 5.0
MAX_POWER_BITS = 64 * 1024  # `a ** b` with an integer result longer than this is refused

# printed as they are; an Undefined raises its own error when printed
_PRINTABLE = (str, int, float, bool, Decimal, date, datetime, clock_time, timedelta, type(None), Undefined)


class RenderError(ValueError):
    """A template could not be rendered for this account (a missing value, a sandbox refusal)."""


def _check_printable(value: Any, depth: int = 0) -> None:
    """Refuse what would print as a Python object (a function, class, generator: its repr)."""
    if isinstance(value, _PRINTABLE):
        return
    if depth < 20 and isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_printable(item, depth + 1)
        return
    if depth < 20 and isinstance(value, dict):
        for key, item in value.items():
            _check_printable(key, depth + 1)
            _check_printable(item, depth + 1)
        return
    raise SecurityError(f"a template may print text, numbers, lists and mappings, not a {type(value).__name__} "
                        "object")


def _printable(value: Any) -> Any:
    _check_printable(value)
    return value


def _string_filter(value: Any) -> str:
    _check_printable(value)
    return soft_str(value)


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_printable(args)
    _check_printable(kwargs)
    return do_format(value, *args, **kwargs)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if n > 100 or max > 1000:
        raise SecurityError("lipsum: at most 100 paragraphs of at most 1,000 words")
    return generate_lorem_ipsum(n, html, min, max)


def _sequence_length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class _CheckedCode(CodeGenerator):
    """Two changes to the code Jinja2 writes for a template.

    `a ~ b` goes through `environment.joined`: Jinja2 joins with `str()` where no sandbox hook
    sees it. And no `{{ ... }}` is evaluated while compiling: with autoescape on, Jinja2 escapes a
    constant before `finalize` sees it, so `{{ ''|attr('format') }}` would print the function.
    """

    def _output_child_to_const(self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo) -> str:
        if isinstance(node, nodes.TemplateData):
            return super()._output_child_to_const(node, frame, finalize)
        raise nodes.Impossible()

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.joined({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox (no `.update()`, `.append()`...) with `*`, `**`, `%` bounded."""

    intercepted_binops = frozenset({"*", "**", "%"})
    code_generator_class = _CheckedCode

    def joined(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        _check_printable(parts)
        text = join(parts)
        if len(text) > MAX_RENDERED_CHARS:
            raise SecurityError(f"joining text longer than the size cap of {MAX_RENDERED_CHARS:,}")
        return text

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "%":
            if isinstance(left, str):
                _check_printable(right)
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                length = _sequence_length(sequence)
                if length is not None and isinstance(times, int) and length * times > MAX_RENDERED_CHARS:
                    raise SecurityError(f"repeating {length:,} items {times:,} times is over the size cap of "
                                        f"{MAX_RENDERED_CHARS:,}")
        elif (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
              and right * abs(left).bit_length() > MAX_POWER_BITS):
            raise SecurityError(f"{left} ** {right} is too large a number")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=4)
def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = _Sandbox(undefined=StrictUndefined, autoescape=autoescape, finalize=_printable, optimized=False)
    env.filters["string"] = _string_filter
    env.filters["format"] = _format_filter
    env.globals["lipsum"] = _lipsum
    return env


@lru_cache(maxsize=512)
def _compile(source: str, autoescape: bool) -> Any:
    return _environment(autoescape).from_string(source)


def _bounded(pieces: Iterable[str], where: str) -> str:
    out: list[str] = []
    size = 0
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    for piece in pieces:
        size += len(piece)
        if size > MAX_RENDERED_CHARS:
            raise RenderError(f"{where}: the rendered text exceeds {MAX_RENDERED_CHARS:,} characters")
        if time.monotonic() > deadline:
            raise RenderError(f"{where}: rendering took longer than {MAX_RENDER_SECONDS:g} s")
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
    except (TemplateError, ArithmeticError, TypeError, ValueError, AttributeError, LookupError) as error:
        raise RenderError(f"{where}: {error}") from error
    except MemoryError:
        raise RenderError(f"{where}: the template needs more memory than a message may take") from None


def render_text(source: str, context: dict[str, Any], where: str = "text") -> str:
    """Render a template string written inline in a playbook (a task title, a `do` parameter)."""
    try:
        return _bounded(_compile(source, False).generate(context), where)
    except RenderError:
        raise
    except (TemplateError, ArithmeticError, TypeError, ValueError, AttributeError, LookupError) as error:
        raise RenderError(f"{where}: {error}") from error
    except MemoryError:
        raise RenderError(f"{where}: the template needs more memory than a message may take") from None


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
    snap = build_snapshot(context.reads, context.bundle, call.account, call.at)
    values = template_context(context.bundle, snap, playbook=call.playbook,
                              playbook_title=spec.title if spec else "")
    rendered = dict(call.params)
    for name in templated:
        rendered[name] = render_text(call.params[name], values, where=f"{call.activity} {name}")
    return rendered
