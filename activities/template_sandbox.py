"""The Jinja2 environment templates render in: a sandbox that counts its steps and bounds growth.

Templates are untrusted input. Beyond Jinja2's immutable sandbox (no `str.format` walks, no
`__class__`, no `.update()` on the context):

- every render runs against a `RenderBudget`: each loop iteration, each call (macro, method,
  global) and each item a filter reads is a step; past `MAX_TEMPLATE_STEPS` steps or the render's
  deadline (checked at every step, so a loop printing nothing is stopped too) it is refused;
- `range` yields at most `MAX_RANGE` items;
- whatever can grow text or a list is checked before it allocates: `*`, `**` (and `*` of two
  large integers), `+`, `~`, `%`, the `join`, `replace`, `center`, `indent`, `wordwrap` and
  `format` filters, the string methods that pad, replace, join, translate or format; an integer
  argument larger than `MAX_RENDERED_CHARS` to any filter or method is refused; any text or list
  a step produces longer than `MAX_RENDERED_CHARS` is refused;
- all the text and list items the steps make, kept or not, count against `MAX_PRODUCED`: a
  loop that keeps a thousand half-megabyte strings in a namespace is stopped at that bound, so a
  render's memory is bounded whatever it keeps;
- what is printed, joined or formatted must be data (text, numbers, lists, mappings) and at most
  `MAX_PRINTED_ITEMS` items deep and wide: a function, class or generator is refused rather than
  printed as `<function ... at 0x...>`, and a list of lists of lists is not printed into gigabytes;
- `lipsum` is bounded (100 paragraphs of 1,000 words), and nothing is folded at compile time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import lru_cache, wraps
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import do_format
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from markupsafe import soft_str

from activities.template_growth import GROWING_METHODS, check_arguments, check_format_string, check_growth
from dsl.template_bounds import MAX_RANGE, MAX_RENDERED_CHARS, MAX_TEMPLATE_STEPS

__all__ = ["MAX_POWER_BITS", "MAX_PRINTED_ITEMS", "RenderBudget", "budget", "sandbox"]

MAX_POWER_BITS = 64 * 1024  # an integer result longer than this (`**`, `*`) is refused
MAX_PRINTED_ITEMS = 100_000  # items of nested lists and mappings printed or joined at once
MAX_PRODUCED = 32 * MAX_RENDERED_CHARS  # characters and list items made in all by one render's steps

_PRINTABLE = (str, int, float, bool, Decimal, date, datetime, clock_time, timedelta, type(None), Undefined)


@dataclass
class RenderBudget:
    """What one render may still spend: steps, and the moment it must be done by."""

    steps: int
    deadline: float
    seconds: float
    produced: int = 0  # characters and items made by the render's steps so far

    def produce(self, size: int) -> None:
        self.produced += size
        if self.produced > MAX_PRODUCED:
            raise SecurityError(f"the template makes more than {MAX_PRODUCED:,} characters and items in all")

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise SecurityError(f"the template takes more than {MAX_TEMPLATE_STEPS:,} steps (loop iterations, "
                                "calls and items read)")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"rendering took longer than {self.seconds:g} s")


_BUDGET: ContextVar[RenderBudget | None] = ContextVar("render_budget", default=None)


def budget(seconds: float) -> RenderBudget:
    """A fresh budget for one render, in force for the code that runs in this context."""
    fresh = RenderBudget(steps=MAX_TEMPLATE_STEPS, deadline=time.monotonic() + seconds, seconds=seconds)
    _BUDGET.set(fresh)
    return fresh


def _spend(steps: int = 1) -> None:
    _current().spend(steps)


def _weigh(value: Any, depth: int = 0, seen: list[int] | None = None) -> int:
    """Items in `value` (nested lists and mappings), refusing past `MAX_PRINTED_ITEMS`, and
    refusing what would print as a Python object (a function, class, generator: its repr)."""
    counter = seen if seen is not None else [0]
    counter[0] += 1
    if counter[0] > MAX_PRINTED_ITEMS:
        raise SecurityError(f"a value printed or joined at once may hold at most {MAX_PRINTED_ITEMS:,} items")
    if isinstance(value, _PRINTABLE):
        return counter[0]
    if depth < 20 and isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _weigh(item, depth + 1, counter)
        return counter[0]
    if depth < 20 and isinstance(value, dict):
        for key, item in value.items():
            _weigh(key, depth + 1, counter)
            _weigh(item, depth + 1, counter)
        return counter[0]
    raise SecurityError(f"a template may print text, numbers, lists and mappings, not a {type(value).__name__} "
                        "object")


def _current() -> RenderBudget:
    current = _BUDGET.get()
    if current is None:  # rendered outside `render_*`: a budget of its own
        current = budget(5.0)
    return current


def _check_size(value: Any, what: str) -> Any:
    """`value`, counted against what the render may make in all; refused past the size cap."""
    if isinstance(value, str | list | tuple):
        if len(value) > MAX_RENDERED_CHARS:
            raise SecurityError(f"{what} would make a value of {len(value):,} items, over the size cap of "
                                f"{MAX_RENDERED_CHARS:,}")
        _current().produce(len(value))
    return value


def _counted(items: Any) -> Iterator[Any]:
    """`items`, one step spent for each."""
    for item in items:
        _spend()
        yield item


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range of {len(numbers):,} items: at most {MAX_RANGE:,} (MAX_RANGE)")
    return numbers


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if n > 100 or max > 1000:
        raise SecurityError("lipsum: at most 100 paragraphs of at most 1,000 words")
    return generate_lorem_ipsum(n, html, min, max)


def _printable(value: Any) -> Any:
    _spend(_weigh(value))
    return value


def _string_filter(value: Any) -> str:
    _weigh(value)
    return soft_str(value)


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    _weigh(args)
    _weigh(kwargs)
    check_format_string(value, "format")
    return do_format(value, *args, **kwargs)


def _checked_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with its steps counted and its growth checked before and after it runs."""

    @wraps(function)  # keeps `jinja_pass_arg`: Jinja passes the context, eval context or environment
    def checked(*args: Any, **kwargs: Any) -> Any:
        data = [arg for arg in args if not isinstance(arg, Context | SandboxedEnvironment) and
                type(arg).__name__ != "EvalContext"]
        if data:
            value, rest = data[0], tuple(data[1:])
            if isinstance(value, Iterator):  # a generator from `map`, `select`...: read item by item
                value = list(_counted(value))
                args = tuple(value if arg is data[0] else arg for arg in args)
            _spend(1 + check_arguments(f"|{name}", (value, *rest, *kwargs.values())))
            check_growth(name, value, rest, kwargs)
        return _check_size(function(*args, **kwargs), f"|{name}")

    return checked


class _CountingCode(CodeGenerator):
    """Three changes to the code Jinja2 writes for a template: `a ~ b` goes through
    `environment.joined` (Jinja2 joins with `str()` where no sandbox hook sees it); every `for`
    reads its items through `environment.counted`; and no `{{ ... }}` is evaluated while
    compiling (with autoescape on, Jinja2 escapes a constant before `finalize` sees it, so
    `{{ ''|attr('format') }}` would print the function)."""

    def _output_child_to_const(self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo) -> str:
        if isinstance(node, nodes.TemplateData):
            return super()._output_child_to_const(node, frame, finalize)
        raise nodes.Impossible()

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not getattr(node, "counted", False):
            node.iter = nodes.Call(nodes.EnvironmentAttribute("counted", lineno=node.lineno), [node.iter], [],
                                   None, None, lineno=node.lineno)
            node.counted = True  # type: ignore[attr-defined]  # a node compiled twice is wrapped once
        super().visit_For(node, frame)

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


def _sequence_length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None



class MissingValue(ChainableUndefined, StrictUndefined):
    """A value the account lacks: reading further into it gives another missing value (so
    `account.csm.name | default("your CSM")` works when `csm` itself is missing, as does
    `account.csm.name is defined`), while printing, comparing or looping over it is an error, as
    with `StrictUndefined`: a template never prints a silent blank."""

    __slots__ = ()

class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with steps counted and `*`, `**`, `+`, `%`, `~` bounded."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _CountingCode

    def counted(self, items: Any) -> Iterator[Any]:
        return _counted(items)

    def joined(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        _spend(_weigh(parts))
        return _check_size(join(parts), "joining text")

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        visible = {key: value for key, value in kwargs.items() if not key.startswith("_")}
        _spend(1 + check_arguments(f"{name or 'a call'}()", (*args, *visible.values())))
        owner = getattr(__obj, "__self__", None)
        if name in GROWING_METHODS and isinstance(owner, str):
            check_growth(name, owner, args, visible)
        return _check_size(super().call(__context, __obj, *args, **kwargs), f"{name or 'a call'}()")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if operator == "%":
            if isinstance(left, str):
                check_format_string(left, "%")
                _weigh(right)
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                length = _sequence_length(sequence)
                if length is not None and isinstance(times, int) and length * times > MAX_RENDERED_CHARS:
                    raise SecurityError(f"repeating {length:,} items {times:,} times is over the size cap of "
                                        f"{MAX_RENDERED_CHARS:,}")
            if (isinstance(left, int) and isinstance(right, int)
                    and abs(left).bit_length() + abs(right).bit_length() > MAX_POWER_BITS):
                raise SecurityError("the product is too large a number")
        elif operator == "**" and (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
                                   and right * abs(left).bit_length() > MAX_POWER_BITS):
            raise SecurityError(f"{left} ** {right} is too large a number")
        return _check_size(super().call_binop(context, operator, left, right), operator)


@lru_cache(maxsize=4)
def sandbox(autoescape: bool) -> SandboxedEnvironment:
    """The one environment of each kind (HTML autoescaped or not) every template renders in."""
    env = _Sandbox(undefined=MissingValue, autoescape=autoescape, finalize=_printable, optimized=False)
    env.filters["string"] = _string_filter
    env.filters["format"] = _format_filter
    env.filters = {name: _checked_filter(name, function) for name, function in env.filters.items()}
    env.globals["lipsum"] = _lipsum
    env.globals["range"] = _bounded_range
    return env
