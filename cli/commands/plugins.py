"""`playbook plugins [--json]`: the activities a playbook may call with `do`, and broken plugins.

    hubspot.create_task  Create a task in HubSpot for the account's owner.
        from playbook-hubspot-tasks 0.1.0 (entry point hubspot)
        Create a HubSpot task for an owner, due some days after the step.
        subject      text     required             The task's subject; a template.
        due_days     number   optional, default 3  Days after the step the task is due. (0 to 365)
        priority     text     optional             one of LOW, MEDIUM, HIGH

The first line under an activity names its package and version, the second the params model's
docstring; each parameter shows its `Field(description=...)`, the values it takes (a `Literal`
or an `Enum`), its bounds and whether it is a list or an object written as text.

A plugin that failed to load is listed with its error under `failed to load:`, and the exit
status is then 1. `installed_catalog()` is what `check`, `compile` and `simulate` check `do`
statements against; it reports broken plugins on stderr the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from activities.plugin_catalog import describe_activity, param_defaults, plugin_catalog
from activities.registry import ActivitySpec, Registry, load_registry
from dsl.plugin_catalog import PluginCatalog, PluginParam

__all__ = ["installed_catalog", "listing", "register", "run"]


def report_failures(registry: Registry) -> None:
    for failure in registry.errors:
        print(f"playbook: plugin '{failure.plugin}' failed to load: {failure.error}", file=sys.stderr)


def installed_catalog() -> PluginCatalog:
    """The installed plugins' catalog; plugins that fail to load are reported on stderr by name.

    The engine's internal activities (entry point `builtin`) cannot be called with `do`, so they
    are not loaded here: checking a folder does not pay for importing the engine.
    """
    registry = load_registry(exclude={"builtin"})
    report_failures(registry)
    return plugin_catalog(registry)


def listing(registry: Registry) -> dict[str, Any]:
    """The `--json` document: every `do`-callable activity and every plugin that failed to load."""
    activities = []
    for spec in registry.plugins():
        described = describe_activity(spec)
        defaults = param_defaults(spec)
        params = []
        for param in described.params.values():
            entry: dict[str, Any] = {"name": param.name, "type": param.type, "required": param.required}
            if param.name in defaults and defaults[param.name] is not None:
                entry["default"] = defaults[param.name]
            entry.update(_param_facts(param))
            params.append(entry)
        origin = registry.origins.get(spec.name)
        activities.append({
            "name": spec.name, "description": spec.description, "model": (spec.params.__doc__ or "").strip(),
            "plugin": origin.plugin if origin else "", "package": origin.package if origin else "",
            "version": origin.version if origin else "", "params": params, "config": _config_keys(spec)})
    failed = [{"plugin": failure.plugin, "error": failure.error} for failure in registry.errors]
    return {"activities": activities, "failed": failed}


def _config_keys(spec: ActivitySpec) -> list[dict[str, Any]]:
    """The keys of the activity's declared configuration: name, required, secret (never a value)."""
    if spec.config is None:
        return []
    return [{"name": name, "required": field.is_required(),
             "secret": "SecretStr" in str(field.annotation) or "SecretBytes" in str(field.annotation)}
            for name, field in spec.config.model_fields.items()]


def _config_key(key: dict[str, Any]) -> str:
    notes = [word for word, on in (("required", key["required"]), ("secret", key["secret"])) if on]
    return key["name"] + (f" ({', '.join(notes)})" if notes else "")


def _param_facts(param: PluginParam) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if param.description:
        facts["description"] = param.description
    if param.values:
        facts["values"] = list(param.values)
    if param.minimum is not None:
        facts["minimum"] = param.minimum
    if param.maximum is not None:
        facts["maximum"] = param.maximum
    if param.shape != "scalar":
        facts["shape"] = param.shape
    return facts


def _param_line(param: dict[str, Any]) -> str:
    """What a parameter means and takes, after its type: description, values, bounds, shape."""
    parts = [param.get("description", "")]
    if param.get("values"):
        parts.append("one of " + ", ".join(param["values"]))
    low, high = param.get("minimum"), param.get("maximum")
    if low is not None or high is not None:
        parts.append(f"({_number(low) if low is not None else '…'} to {_number(high) if high is not None else '…'})")
    if param.get("shape") == "list":
        parts.append("(a list: JSON or comma-separated text)")
    elif param.get("shape") == "object":
        parts.append("(a JSON object as text)")
    return " ".join(part for part in parts if part)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _text(document: dict[str, Any]) -> str:
    lines: list[str] = []
    activities = document["activities"]
    width = max((len(a["name"]) for a in activities), default=0)
    for activity in activities:
        lines.append(f"{activity['name']:<{width}}  {activity['description']}".rstrip())
        if activity["package"]:
            lines.append(f"    from {activity['package']} {activity['version']} (entry point {activity['plugin']})")
        if activity["model"] and activity["model"] != activity["description"]:
            lines.extend(f"    {line.strip()}" for line in activity["model"].splitlines() if line.strip())
        if activity["config"]:
            keys = [_config_key(key) for key in activity["config"]]
            lines.append(f"    config [plugins.{activity['plugin']}]: {', '.join(keys)}")
        name_width = max((len(p["name"]) for p in activity["params"]), default=0)
        needs = [_need(param) for param in activity["params"]]
        need_width = max((len(need) for need in needs), default=0)
        for param, need in zip(activity["params"], needs, strict=True):
            lines.append(f"    {param['name']:<{name_width}}  {param['type']:<7}  {need:<{need_width}}  "
                         f"{_param_line(param)}".rstrip())
    if not activities:
        lines.append("no plugin activities installed")
    if document["failed"]:
        lines.append("")
        lines.append("failed to load:")
        lines.extend(f"    {failure['plugin']}: {failure['error']}" for failure in document["failed"])
    return "\n".join(lines) + "\n"


def _need(param: dict[str, Any]) -> str:
    need = "required" if param["required"] else "optional"
    return need + (f", default {json.dumps(param['default'])}" if "default" in param else "")


def run(args: argparse.Namespace) -> int:
    registry = load_registry()
    document = listing(registry)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_text(document))
    return 1 if registry.errors else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list the activities playbooks may call with `do`, and plugins that failed to load",
        description="List the installed plugin activities (name, description, parameters) and any plugin "
                    "that failed to load, with its error. PLAYBOOK_PLUGINS=a,b limits which plugins load.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)
