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
    values: tuple[str, ...] = ()  # a text parameter that takes one of these values only (an enum, a Literal)
    minimum: float | None = None  # a number parameter's bounds, when its model gives them
    maximum: float | None = None
    pattern: str | None = None  # a text written in the playbook must match it (JSON schema `pattern`)
    description: str = ""  # the model's `Field(description=...)`
    shape: str = "scalar"  # "list" or "object": written as text, turned into a list or an object at run time


@dataclass(frozen=True)
class PluginActivity:
    """One activity a playbook may call with `do NAME key=value ...`."""

    name: str
    params: Mapping[str, PluginParam] = field(default_factory=dict)
    description: str = ""
    max_attempts: int | None = None  # the attempts it declares: a `do` may ask for fewer, not more

    @classmethod
    def of(cls, name: str, params: Iterable[PluginParam], description: str = "") -> PluginActivity:
        return cls(name, {param.name: param for param in params}, description)

    @classmethod
    def from_json_schema(cls, name: str, schema: Mapping[str, Any]) -> PluginActivity:
        """An activity described by the JSON schema of its parameters (`Model.model_json_schema()`).

        Keys whose type is not text, number or boolean (objects, lists, unions) are taken as text;
        a list or an object is written as text and converted when the step runs (`shape`).
        """
        required = set(schema.get("required", ()))
        definitions = dict(schema.get("$defs", {}))
        params = []
        for key, given in dict(schema.get("properties", {})).items():
            spec = _resolved(given, definitions)
            low, high = _bounds(spec)
            params.append(PluginParam(key, _value_type(spec), key in required, _choices(spec, definitions),
                                      low, high, _pattern(spec), str(spec.get("description", "")),
                                      _shape(spec, definitions)))
        return cls.of(name, params, str(schema.get("description", "")))


def _resolved(spec: Mapping[str, Any], definitions: Mapping[str, Any]) -> Mapping[str, Any]:
    """A property's schema with a `$ref` to `$defs` (an Enum class) replaced by the definition."""
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**definitions.get(ref.removeprefix("#/$defs/"), {}), **{k: v for k, v in spec.items() if k != "$ref"}}
    return spec


def _choices(spec: Mapping[str, Any], definitions: Mapping[str, Any]) -> tuple[str, ...]:
    """The text values a property takes, when its schema lists them (`enum`, `const`, or one of
    those beside `null`); empty when it takes any text."""
    if "enum" in spec:
        values = list(spec["enum"])
    elif "const" in spec:
        values = [spec["const"]]
    else:
        options = [_resolved(option, definitions) for option in spec.get("anyOf", ()) if option.get("type") != "null"]
        if len(options) != 1:
            return ()
        return _choices(options[0], definitions)
    return tuple(values) if values and all(isinstance(value, str) for value in values) else ()


def _bounds(spec: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The lowest and highest number a property takes (`ge`/`le` of a pydantic field), if given."""
    options = [spec, *(option for option in spec.get("anyOf", ()) if option.get("type") != "null")]
    low = next((option[k] for option in options for k in ("minimum",) if isinstance(option.get(k), int | float)),
               None)
    high = next((option[k] for option in options for k in ("maximum",) if isinstance(option.get(k), int | float)),
                None)
    return low, high


def _pattern(spec: Mapping[str, Any]) -> str | None:
    for option in (spec, *spec.get("anyOf", ())):
        if isinstance(option.get("pattern"), str):
            return str(option["pattern"])
    return None


def _shape(spec: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    options = [spec, *(_resolved(option, definitions) for option in spec.get("anyOf", ()))]
    kinds = {option.get("type") for option in options} | {"object" for option in options if "properties" in option}
    if "array" in kinds:
        return "list"
    return "object" if "object" in kinds else "scalar"


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
