"""How much work a template may do, and the loops `check` can tell are over it before any render.

A render is a budget of steps: every loop iteration, every call (a macro, a method, a global)
and every item a filter reads is one step. The engine stops a render that runs out of steps,
time or size (`activities/template_sandbox.py`); `check` refuses what is over the budget whatever
the account holds:

- loops over constant `range(...)`s whose iteration counts, multiplied through the nesting,
  exceed `MAX_TEMPLATE_STEPS`, or a `range` longer than `MAX_RANGE`;
- a macro that calls itself (its depth and its work depend on nothing a template bounds).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import nodes

__all__ = ["MAX_RANGE", "MAX_RENDERED_CHARS", "MAX_TEMPLATE_STEPS", "Unbounded", "unbounded_parts"]

MAX_TEMPLATE_STEPS = 200_000  # loop iterations, calls and items read by filters, in one render
MAX_RANGE = 10_000  # items in one `range(...)`
MAX_RENDERED_CHARS = 512 * 1024  # characters one render (or one value inside it) may reach


@dataclass(frozen=True)
class Unbounded:
    """One part of a template that `check` refuses: where, and why."""

    line: int
    name: str  # what to point at on that line
    message: str


def _constant_range(node: nodes.Node) -> int | None:
    """How many items `range(...)` with constant arguments yields, or None when not that."""
    if not (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range"):
        return None
    if node.kwargs or node.dyn_args or node.dyn_kwargs or not 1 <= len(node.args) <= 3:
        return None
    values: list[int] = []
    for arg in node.args:
        try:
            value = arg.as_const()
        except nodes.Impossible:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        values.append(value)
    try:
        return len(range(*values))
    except (ValueError, OverflowError):
        return None


def _walk_loops(node: nodes.Node, outer: int, found: list[Unbounded]) -> None:
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.For):
            count = _constant_range(child.iter)
            total = outer * (count if count is not None else 1)
            if count is not None and count > MAX_RANGE:
                found.append(Unbounded(child.lineno, "range", f"range of {count:,} items: a template may loop over "
                                                              f"at most {MAX_RANGE:,} items of one range"))
            elif count is not None and total > MAX_TEMPLATE_STEPS:
                found.append(Unbounded(child.lineno, "for", f"nested loops run {total:,} iterations: a template "
                                                            f"may take at most {MAX_TEMPLATE_STEPS:,} steps"))
            else:
                _walk_loops(child, total, found)
        else:
            _walk_loops(child, outer, found)


def _recursive_macros(tree: nodes.Template) -> list[Unbounded]:
    found: list[Unbounded] = []
    for macro in tree.find_all(nodes.Macro):
        for call in macro.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == macro.name:
                found.append(Unbounded(call.lineno, macro.name, f"macro '{macro.name}' calls itself: a template's "
                                                                "macros may not recurse"))
                break
    return found


def unbounded_parts(tree: nodes.Template) -> list[Unbounded]:
    """What in `tree` is over the budget whatever the account holds."""
    found: list[Unbounded] = []
    for call in tree.find_all(nodes.Call):
        count = _constant_range(call)
        if count is not None and count > MAX_RANGE and not _is_loop_iter(tree, call):
            found.append(Unbounded(call.lineno, "range", f"range of {count:,} items: a template may use at most "
                                                         f"{MAX_RANGE:,} items of one range"))
    _walk_loops(tree, 1, found)
    found.extend(_recursive_macros(tree))
    return sorted(found, key=lambda part: part.line)


def _is_loop_iter(tree: nodes.Template, call: nodes.Call) -> bool:
    return any(loop.iter is call for loop in tree.find_all(nodes.For))
