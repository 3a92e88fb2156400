"""From Lark's parse tree to the typed syntax tree of `dsl.ast`.

One method per grammar rule, each given the rule's position and its meaningful children. The
methods run inside the LALR parser, as it reduces each rule (Lark's `transformer=` option): no
parse tree is built and nothing recurses, so the tree of a file costs one pass. Small
rules that only carry a keyword (`direction`, `period`, …) return plain values; `block` returns
a tuple of statements. A problem found here (a fraction where a whole number is needed, a `wait
until` without a time limit) is raised as a `DiagnosticError` naming its place.

The rule methods are grouped by concept, as `dsl.ast` is: `literals`, `expressions`,
`declarations` (account model, scores, policies), `playbooks` (clauses, triggers, steps) and
`statements`, each a class over `places.RuleBase` (positions, names, errors); `to_ast.ToAst`
joins them, and `callbacks.RuleCallback` is how Lark (or `dsl.table_parser`) calls each one.
"""

from __future__ import annotations

from dsl.transformer.to_ast import ToAst

__all__ = ["ToAst"]
