"""YAML for test files, read with the line of every mapping and key, and without YAML's surprises.

A test file is plain YAML, but two of YAML 1.1's implicit conversions would bite people who write
it by hand: `on:` (and `yes`, `no`, `off`) would be read as a boolean, and `2026-01-05` as a date
object. Here only `true`/`false` are booleans and dates stay text; everything else is standard.
Each mapping remembers the line it starts on and the line of each of its keys, so an error can
name `file:line`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["LocatedMap", "YamlError", "load"]

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlError(Exception):
    """The text is not valid YAML; `line` is where the parser gave up (1-based)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class LocatedMap(dict[str, Any]):
    """A YAML mapping that knows its line and the line of each key (both 1-based)."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps and with `true`/`false` as the only booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LocatedMap:
    located = LocatedMap()
    located.line = node.start_mark.line + 1
    located.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        located[str(key)] = loader.construct_object(value_node, deep=True)
        located.key_lines[str(key)] = key_node.start_mark.line + 1
    return located


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def load(text: str) -> Any:
    """The document in `text`, its mappings as `LocatedMap`; raises `YamlError` with a line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "not valid YAML"
        raise YamlError(problem, line) from None
    except yaml.YAMLError as error:
        raise YamlError(str(error), 1) from None
