"""From the values a playbook writes to the values a plugin's params model takes.

A playbook writes every plugin parameter as text, a number, a boolean or a field. A parameter
the model types as a list takes text: a JSON array (`'["a", "b"]'`) or comma-separated values
(`"a, b"`, each one stripped, empty ones dropped); one typed as an object (a nested model, a
dict) takes a JSON object as text (other text is left to the model, which says what is wrong).
Templates are rendered first, so `tags="{{ account.plan }}, vip"` works. A value that does not
fit is reported in sentences, without pydantic's links.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from dsl.plugin_catalog import PluginActivity

__all__ = ["coerced_params", "validation_text"]


@cache
def _shapes(model: type[BaseModel]) -> dict[str, str]:
    described = PluginActivity.from_json_schema("params", model.model_json_schema())
    return {name: param.shape for name, param in described.params.items()}


def coerced_params(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """`values` with text given to a list or object parameter turned into a list or an object."""
    shapes = _shapes(model)
    coerced = dict(values)
    for name, value in values.items():
        shape = shapes.get(name, "scalar")
        if not isinstance(value, str) or shape == "scalar":
            continue
        if shape == "list":
            coerced[name] = _list(name, value)
        else:
            coerced[name] = _object(value)
    return coerced


def _list(name: str, text: str) -> list[Any]:
    if text.lstrip().startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{name} is not a valid JSON list: {error.msg} (at character {error.pos})") from None
        if not isinstance(parsed, list):
            raise ValueError(f"{name} must be a list")
        return parsed
    return [part.strip() for part in text.split(",") if part.strip()]


def _object(text: str) -> Any:
    """The JSON object the text holds; the text itself when it holds none (the model then says why)."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return text
    return parsed if isinstance(parsed, dict) else text


def validation_text(error: ValidationError) -> str:
    """Each problem as `where: what`, joined with `; ` (no input dumps, no documentation links)."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in problem["loc"]) or "params"
        message = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(problems)
