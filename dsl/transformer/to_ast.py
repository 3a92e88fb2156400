"""`ToAst`: the rule methods of every concept in one builder, each wrapped as Lark calls it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dsl import ast
from dsl.transformer.callbacks import KEYWORD_RULES, RuleCallback, rule_methods
from dsl.transformer.declarations import DeclarationRules
from dsl.transformer.expressions import ExpressionRules
from dsl.transformer.literals import LiteralRules
from dsl.transformer.playbooks import PlaybookRules
from dsl.transformer.statements import StatementRules
from dsl.transformer.success_plans import SuccessPlanRules
from dsl.transformer.work_items import WorkItemRules

__all__ = ["ToAst"]


class ToAst(LiteralRules, ExpressionRules, DeclarationRules, PlaybookRules, StatementRules, WorkItemRules,
            SuccessPlanRules):
    """Builds `ast` nodes for one file, rule by rule, while the LALR parser reduces.

    Lark calls one attribute per rule with the rule's children, every token kept (the parser is
    built with `keep_all_tokens`); each attribute is a `RuleCallback` around the rule's method,
    computing the rule's position from its first and last child and passing on only the children
    that carry meaning. `source_path` goes into every position: set it before each parse.
    """

    def __init__(self, path: str = "<string>") -> None:
        super().__init__(path)
        for name, method in _methods().items():
            setattr(self, name, RuleCallback(self, method, keep_keywords=name in KEYWORD_RULES))

    # ------------------------------------------------------------------ file

    def start(self, pos: ast.Pos, items: list[ast.FileItem]) -> ast.File:
        whole = ast.Pos(self.source_path, 1, 1, pos.end_line, pos.end_column)
        return ast.File(pos=whole, path=self.source_path, items=tuple(items))


@lru_cache(maxsize=1)
def _methods() -> dict[str, Any]:
    return rule_methods(ToAst)
