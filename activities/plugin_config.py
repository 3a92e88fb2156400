"""A plugin's declared configuration: its settings model, filled from `playbook.toml` and the environment.

An activity declares `config=` on its `ActivitySpec`: a pydantic model (base URL, token typed
`SecretStr`, ...). The values come from the section `[plugins.NAME]` of `playbook.toml` in the
working folder, NAME being the plugin's entry-point name; an environment variable
`PLAYBOOK_PLUGIN_<NAME>_<FIELD>` (upper case, `-` and `.` as `_`) overrides a key. The worker
validates every configuration as it starts (`temporal_activities`), and refuses to start when a
plugin one of its playbooks calls is not configured, saying which keys are missing or wrong and
where they go; the values themselves are never printed (secrets stay out of messages and logs).
A plugin no playbook calls is not required to be configured. The activity reads its
configuration as `call.config`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from activities.registry import ActivitySpec, Registry
from dsl import ir
from engine.workflows.effects import effect_activities

__all__ = ["CONFIG_FILE", "PluginNotConfigured", "bundle_configs", "env_name", "plugin_configs"]

CONFIG_FILE = Path("playbook.toml")


class PluginNotConfigured(Exception):
    """One or more plugins that playbooks call lack a valid configuration; the message says what to set."""


def env_name(plugin: str, key: str) -> str:
    """The environment variable overriding `key` of `[plugins.<plugin>]`."""
    return "PLAYBOOK_PLUGIN_" + re.sub(r"[^A-Za-z0-9]", "_", f"{plugin}_{key}").upper()


def _sections(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PluginNotConfigured(f"{path}: cannot read the plugins' configuration: {error}") from None
    plugins = document.get("plugins", {})
    return plugins if isinstance(plugins, dict) else {}


def _values(model: type[BaseModel], plugin: str, section: Mapping[str, Any],
            environ: Mapping[str, str]) -> dict[str, Any]:
    values = dict(section)
    for name, field in model.model_fields.items():
        for key in {name, field.alias or name}:
            if (variable := env_name(plugin, key)) in environ:
                values[key] = environ[variable]
    return values


def _problems(error: ValidationError, plugin: str, path: Path) -> list[str]:
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in problem["loc"])
        if problem["type"] == "missing":
            problems.append(f"{key} is not set: set `{key}` under [plugins.{plugin}] in {path} "
                            f"or {env_name(plugin, key)}")
        else:
            problems.append(f"{key}: {str(problem['msg']).removeprefix('Value error, ')}")
    return problems


def plugin_configs(registry: Registry, used: Iterable[str], *, path: Path = CONFIG_FILE,
                   environ: Mapping[str, str] | None = None) -> dict[str, BaseModel]:
    """Each configured activity's validated settings, by activity name.

    Raises `PluginNotConfigured` when an activity in `used` (the ones the deployed playbooks call)
    declares a configuration that is missing or invalid; others are left out quietly.
    """
    environ = os.environ if environ is None else environ
    sections = _sections(path)
    used = set(used)
    configs: dict[str, BaseModel] = {}
    refusals: list[str] = []
    validated: dict[tuple[str, type[BaseModel]], BaseModel | list[str]] = {}
    for spec in registry.plugins():
        if spec.config is None or spec.dry:
            continue
        plugin = _plugin(registry, spec)
        found = validated.get((plugin, spec.config))
        if found is None:
            section = sections.get(plugin, {})
            try:
                found = spec.config.model_validate(_values(spec.config, plugin, section if isinstance(
                    section, dict) else {}, environ))
            except ValidationError as error:
                found = _problems(error, plugin, path)
            validated[(plugin, spec.config)] = found
        if isinstance(found, BaseModel):
            configs[spec.name] = found
        elif spec.name in used:
            refusals.append(f"plugin {plugin} ({spec.name}) is not configured: " + "; ".join(found))
    if refusals:
        raise PluginNotConfigured("\n".join(refusals))
    return configs


def bundle_configs(registry: Registry, bundle: ir.Bundle) -> dict[str, BaseModel]:
    """`plugin_configs` for the activities the bundle's playbooks call."""
    used = {name for playbook in bundle.playbooks.values() for name in effect_activities(playbook)}
    return plugin_configs(registry, used)


def _plugin(registry: Registry, spec: ActivitySpec) -> str:
    origin = registry.origins.get(spec.name)
    return origin.plugin if origin else spec.name.split(".")[0]
