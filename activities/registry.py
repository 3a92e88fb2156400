"""The activity registry: every effect a playbook can cause, built-ins and plugins alike.

An activity is a small async function taking one pydantic params model and the engine's
`ActivityContext`, registered under a name (`email.send`, `slack.notify`). Packages join through
the entry-point group `playbook.activities`: each entry point names a `register(registry)`
function. The built-ins register through the very same group (see `activities/builtin.py` and
pyproject.toml), so there is one path for all of them.

Loading happens in `load_registry()`, never at import time. A plugin whose import or
registration raises is reported by name and the others still load.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from engine.workflows.payloads import ActivityOptions

__all__ = ["ENTRY_POINT_GROUP", "ActivitySpec", "PluginLoadError", "PluginOrigin", "Registry", "load_registry"]

ENTRY_POINT_GROUP = "playbook.activities"

ActivityFn = Callable[[Any, Any], Awaitable[Any]]


@dataclass(frozen=True)
class ActivitySpec:
    """One registered activity: its name, function, params model and how it is run.

    `timeout` is how long one attempt may take (Temporal's start-to-close timeout) and
    `max_attempts` how many attempts it gets in all; a journey calls the activity with both.
    `heartbeat`: the engine reports the attempt alive this often (a quarter of it) while it runs,
    and an attempt silent for that long (its worker was killed) is retried at once instead of
    after the whole `timeout`. `backoff` is the wait before the second attempt, doubling after
    each one up to `max_backoff`. `config` is the plugin's settings model (see
    `activities/plugin_config.py`): the values from `[plugins.NAME]` reach the call as `call.config`.
    """

    name: str
    fn: ActivityFn
    params: type[BaseModel]
    description: str
    timeout: timedelta = timedelta(minutes=2)
    max_attempts: int = 20
    permanent_errors: tuple[type[BaseException], ...] = ()
    internal: bool = False  # engine plumbing, not callable with `do`
    heartbeat: timedelta | None = None
    backoff: timedelta = timedelta(seconds=1)
    max_backoff: timedelta = timedelta(minutes=1)
    dry: bool = False  # a simulation's stand-in that sends nothing (`Registry.dry`)
    config: type[BaseModel] | None = None
    # Parameters renamed in a release: old name -> new name (a running journey's pending step
    # still gives the old one); `upgrade` turns the values of an older release into this one's
    # (it receives them after the aliases are applied, and must accept this release's too).
    aliases: Mapping[str, str] = field(default_factory=dict)
    upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.timeout <= timedelta(0):
            raise ValueError(f"activity {self.name!r}: the timeout must be positive")
        if self.max_attempts < 1:
            raise ValueError(f"activity {self.name!r}: max_attempts must be at least 1")
        if self.heartbeat is not None and not timedelta(0) < self.heartbeat <= self.timeout:
            raise ValueError(f"activity {self.name!r}: the heartbeat must be positive and at most the timeout")
        if not timedelta(0) < self.backoff <= self.max_backoff:
            raise ValueError(f"activity {self.name!r}: the backoff must be positive and at most max_backoff")
        for old, new in self.aliases.items():
            if new not in self.params.model_fields or old in self.params.model_fields:
                raise ValueError(f"activity {self.name!r}: the alias {old!r} must name a parameter that is gone "
                                 f"and {new!r} one of the model's")

    def upgraded(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values a playbook gave, renamed by the aliases and passed through `upgrade`."""
        renamed = {self.aliases.get(name, name) if self.aliases.get(name) not in values else name: value
                   for name, value in values.items()}
        return self.upgrade(renamed) if self.upgrade is not None else renamed

    def options(self) -> ActivityOptions:
        return ActivityOptions(
            timeout_seconds=self.timeout.total_seconds(), max_attempts=self.max_attempts,
            heartbeat_seconds=None if self.heartbeat is None else self.heartbeat.total_seconds(),
            backoff_seconds=self.backoff.total_seconds(), max_backoff_seconds=self.max_backoff.total_seconds())


@dataclass(frozen=True)
class PluginLoadError:
    plugin: str
    error: str


@dataclass(frozen=True)
class PluginOrigin:
    """Where an activity comes from: its entry point, and the package (and version) holding it."""

    plugin: str
    package: str = ""
    version: str = ""


@dataclass
class Registry:
    specs: dict[str, ActivitySpec] = field(default_factory=dict)
    errors: list[PluginLoadError] = field(default_factory=list)
    origins: dict[str, PluginOrigin] = field(default_factory=dict)  # by activity name

    def add(self, spec: ActivitySpec) -> None:
        if spec.name in self.specs:
            raise ValueError(f"activity {spec.name!r} is registered twice")
        self.specs[spec.name] = spec

    def activity(
        self,
        name: str,
        params: type[BaseModel],
        description: str,
        **options: Any,
    ) -> Callable[[ActivityFn], ActivityFn]:
        """Decorator form of `add`: `@registry.activity("slack.notify", SlackParams, "...")`."""

        def wrap(fn: ActivityFn) -> ActivityFn:
            self.add(ActivitySpec(name=name, fn=fn, params=params, description=description, **options))
            return fn

        return wrap

    def get(self, name: str) -> ActivitySpec | None:
        return self.specs.get(name)

    def __iter__(self) -> Iterator[ActivitySpec]:
        return iter(sorted(self.specs.values(), key=lambda spec: spec.name))

    def plugins(self) -> list[ActivitySpec]:
        """The activities a playbook may call with `do`."""
        return [spec for spec in self if not spec.internal]

    def dry(self) -> Registry:
        """This registry with every plugin activity replaced by one that does nothing.

        Simulations and backtests run on it: the engine still logs each `call` (activity and
        rendered params), but no request leaves the machine.
        """

        async def recorded(_params: Any, _call: Any) -> None:
            return None

        dry = Registry(errors=list(self.errors), origins=dict(self.origins))
        for spec in self.specs.values():
            dry.add(spec if spec.internal else replace(spec, fn=recorded, permanent_errors=(), dry=True))
        return dry


def load_registry(only: set[str] | None = None, exclude: set[str] | None = None) -> Registry:
    """Every installed activity. `PLAYBOOK_PLUGINS=a,b` (or `only`) limits which plugins load;
    `exclude` skips entry points (the checker skips `builtin`: the engine's own internal steps)."""
    registry = Registry()
    allowed = only
    if allowed is None and os.environ.get("PLAYBOOK_PLUGINS"):
        allowed = {name.strip() for name in os.environ["PLAYBOOK_PLUGINS"].split(",")} | {"builtin"}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: (p.name != "builtin", p.name)):
        if (allowed is not None and point.name not in allowed) or (exclude and point.name in exclude):
            continue
        before = set(registry.specs)
        try:
            register = point.load()
            register(registry)
        except Exception as error:  # a broken plugin must not take the others down
            registry.errors.append(PluginLoadError(point.name, f"{type(error).__name__}: {error}"))
        dist = point.dist
        origin = PluginOrigin(point.name, dist.name if dist else "", dist.version if dist else "")
        registry.origins.update({name: origin for name in set(registry.specs) - before})
    return registry
