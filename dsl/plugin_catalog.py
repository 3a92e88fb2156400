"""What the checker knows of plugin activities: their names and parameters.

`do slack.notify channel="#cs" text="Red: {{ account.name }}"` is checked against a
`PluginCatalog`: the activity must exist, every parameter must be one it takes, every required
parameter must be given, and each value must fit the parameter's type. The language knows no
plugin itself; the activity registry builds the catalog (for instance from each activity's
pydantic parameters model, through `PluginActivity.from_json_schema`) and hands it to the
checker.

Parameter types are the language's value types (`dsl.ir.ValueType`): a `text` parameter takes
text (a template, checked like a task title) or any field; a `number` one takes a number, money
or percent, literal or field; a `boolean` one takes `true`, `false` or a boolean field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.ir import ValueType

__all__ = ["PluginActivity", "PluginCatalog", "PluginParam"]

_JSON_TYPES: dict[str, ValueType] = {
    "string": "text",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class PluginParam:
    name: str
    type: ValueType = "text"
    required: bool = False
    pattern: str | None = None  # a text written in the playbook must match it (JSON schema `pattern`)


@dataclass(frozen=True)
class PluginActivity:
    """One activity a playbook may call with `do NAME key=value ...`."""

    name: str
    params: Mapping[str, PluginParam] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def of(cls, name: str, params: Iterable[PluginParam], description: str = "") -> PluginActivity:
        return cls(name, {param.name: param for param in params}, description)

    @classmethod
    def from_json_schema(cls, name: str, schema: Mapping[str, Any]) -> PluginActivity:
        """An activity described by the JSON schema of its parameters (`Model.model_json_schema()`).

        Keys whose type is not text, number or boolean (objects, lists, unions) are taken as text.
        """
        required = set(schema.get("required", ()))
        params = []
        for key, spec in dict(schema.get("properties", {})).items():
            params.append(PluginParam(key, _value_type(spec), key in required, _pattern(spec)))
        return cls.of(name, params, str(schema.get("description", "")))


def _pattern(spec: Mapping[str, Any]) -> str | None:
    for option in (spec, *spec.get("anyOf", ())):
        if isinstance(option.get("pattern"), str):
            return str(option["pattern"])
    return None


def _value_type(spec: Mapping[str, Any]) -> ValueType:
    kind = spec.get("type")
    if isinstance(kind, str):
        return _JSON_TYPES.get(kind, "text")
    options = [option.get("type") for option in spec.get("anyOf", ()) if option.get("type") != "null"]
    if len(options) == 1 and isinstance(options[0], str):
        return _JSON_TYPES.get(options[0], "text")
    return "text"


@dataclass(frozen=True)
class PluginCatalog:
    """Activity name (`slack.notify`) to its description."""

    activities: Mapping[str, PluginActivity] = field(default_factory=dict)

    @classmethod
    def of(cls, activities: Iterable[PluginActivity]) -> PluginCatalog:
        return cls({activity.name: activity for activity in activities})

    def get(self, name: str) -> PluginActivity | None:
        return self.activities.get(name)

    def names(self) -> list[str]:
        return list(self.activities)
