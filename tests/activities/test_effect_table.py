"""One table names the activity of each effect: the journey calls it, the registry registers it."""

from __future__ import annotations

from activities.registry import load_registry
from dsl import ir
from engine.workflows.effects import BUILTIN_PARAMS, EFFECTS, effect_of
from engine.workflows.payloads import PluginParams


def test_the_registry_registers_every_activity_of_the_table_under_its_name_with_its_params() -> None:
    registry = load_registry(only={"builtin"})
    for name, params in BUILTIN_PARAMS.items():
        spec = registry.get(name)
        assert spec is not None and spec.params is params and spec.internal, name


def test_every_effect_statement_has_its_activity_and_do_calls_the_plugin_it_names() -> None:
    assert {effect.activity for effect in EFFECTS.values()} == {
        "message.send", "task.create", "field.set", "score.update"}
    effect = effect_of(ir.Do(activity="slack.notify"))
    assert effect is not None and (effect.activity, effect.params) == ("slack.notify", PluginParams)
    assert effect_of(ir.Wait(duration=ir.Duration(amount=1, unit="days"))) is None
