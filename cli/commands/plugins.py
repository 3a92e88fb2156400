"""`playbook plugins [--json]`: the activities a playbook may call with `do`, and broken plugins.

    hubspot.create_task  Create a task in HubSpot for the account's owner.
        subject      text     required
        due_days     number   optional, default 3

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
from activities.registry import Registry, load_registry
from dsl.plugin_catalog import PluginCatalog

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
            params.append(entry)
        activities.append({"name": spec.name, "description": spec.description, "params": params})
    failed = [{"plugin": failure.plugin, "error": failure.error} for failure in registry.errors]
    return {"activities": activities, "failed": failed}


def _text(document: dict[str, Any]) -> str:
    lines: list[str] = []
    activities = document["activities"]
    width = max((len(a["name"]) for a in activities), default=0)
    for activity in activities:
        lines.append(f"{activity['name']:<{width}}  {activity['description']}".rstrip())
        name_width = max((len(p["name"]) for p in activity["params"]), default=0)
        for param in activity["params"]:
            need = "required" if param["required"] else "optional"
            if "default" in param:
                need += f", default {json.dumps(param['default'])}"
            lines.append(f"    {param['name']:<{name_width}}  {param['type']:<7}  {need}")
    if not activities:
        lines.append("no plugin activities installed")
    if document["failed"]:
        lines.append("")
        lines.append("failed to load:")
        lines.extend(f"    {failure['plugin']}: {failure['error']}" for failure in document["failed"])
    return "\n".join(lines) + "\n"


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
