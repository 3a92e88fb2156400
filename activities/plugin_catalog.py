"""From the activity registry to what the checker knows: `registry → dsl.plugin_catalog.PluginCatalog`.

Each activity a playbook may call with `do` (the non-internal ones) is described by the JSON
schema of its pydantic params model; its registered description wins over the model's docstring.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from activities.registry import ActivitySpec, Registry
from dsl.plugin_catalog import PluginActivity, PluginCatalog

__all__ = ["describe_activity", "param_defaults", "plugin_catalog"]


def describe_activity(spec: ActivitySpec) -> PluginActivity:
    activity = PluginActivity.from_json_schema(spec.name, spec.params.model_json_schema())
    return replace(activity, description=spec.description or activity.description, max_attempts=spec.max_attempts)


def plugin_catalog(registry: Registry) -> PluginCatalog:
    """Every `do`-callable activity of the registry, for `compile_folder(..., plugins=...)`."""
    return PluginCatalog.of(describe_activity(spec) for spec in registry.plugins())


def param_defaults(spec: ActivitySpec) -> dict[str, Any]:
    """The default of each optional parameter that has one (for listings)."""
    defaults: dict[str, Any] = {}
    for name, field in spec.params.model_fields.items():
        if not field.is_required() and field.default_factory is None:
            defaults[name] = field.default
    return defaults
