"""docs/plugins.md documents every activity a playbook can call, with its parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.registry import ActivitySpec, load_registry

DOC = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
ACTIVITIES = load_registry().plugins()


@pytest.mark.parametrize("spec", ACTIVITIES, ids=lambda spec: spec.name)
def test_every_callable_activity_has_a_section_in_the_plugin_docs(spec: ActivitySpec) -> None:
    assert f"### `{spec.name}`" in DOC


@pytest.mark.parametrize("spec", [s for s in ACTIVITIES if s.name in ("webhook.post", "slack.notify")],
                         ids=lambda spec: spec.name)
def test_every_parameter_of_the_shipped_activities_is_in_its_table(spec: ActivitySpec) -> None:
    section = DOC.split(f"### `{spec.name}`", 1)[1].split("\n### ", 1)[0]
    for name in spec.params.model_fields:
        assert f"| `{name}` |" in section, name
