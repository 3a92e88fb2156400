"""A backtest (and a simulation) never calls out: plugin activities are replaced by one that does nothing, and the
engine's own activities (which write only to the replay's temporary store and mail sink) are kept."""

from __future__ import annotations

from activities.registry import load_registry


async def test_plugin_activities_do_nothing_and_engine_activities_are_kept() -> None:
    registry = load_registry()
    dry = registry.dry()
    assert "webhook.post" in {spec.name for spec in dry.plugins()}
    for spec in dry.plugins():
        # no params, no context: anything that tried to send would fail on them
        assert await spec.fn(None, None) is None
        assert spec.params is registry.specs[spec.name].params
    internal = [spec for spec in registry if spec.internal]
    assert internal and all(dry.specs[spec.name] is spec for spec in internal)
