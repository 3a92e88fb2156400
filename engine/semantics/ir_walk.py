"""Every statement of a playbook's block with its step path, in the order the journey runs them.

The paths are those of the journey's idempotency keys and decisions (`day 7/0/then/1`), so what
reads the log (stats, why) and what checks a bundle (the outbound policy of plugin calls) walk
the IR the one same way.
"""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir

__all__ = ["walk"]


def walk(body: tuple[ir.Statement, ...], path: str) -> Iterator[tuple[str, ir.Statement]]:
    """Every statement of a block with its step path, depth first, in the order they run."""
    for index, statement in enumerate(body):
        here = f"{path}/{index}"
        yield here, statement
        if isinstance(statement, ir.If):
            yield from walk(statement.then, f"{here}/then")
            yield from walk(statement.otherwise, f"{here}/else")
        elif isinstance(statement, ir.Split):
            for number, arm in enumerate(statement.arms, start=1):
                yield from walk(arm.body, f"{here}/arm{number}")
        elif isinstance(statement, ir.Do) and statement.otherwise:
            yield from walk(statement.otherwise, f"{here}/else")  # when the call failed
