"""What `playbook check` accepts runs: generated playbooks, printed with `fmt` and checking clean
against the standard library's model, simulated over a generated timeline, log no `failed` action.

Each example is a folder of `PLAYBOOKS_PER_RUN` generated playbooks (every statement kind, task
titles and `do` parameters reading every kind of template variable) beside the library's model,
score models and templates, simulated over accounts whose optional fields are sent or not at
random. The only failures allowed are those `check` cannot know of, listed in `OUTSIDE_CAUSES`:
none can happen here (the mail is captured, plugins are dry runs, every account has its name and
owners, the values templates print without a guard).
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cli.commands.plugins import installed_catalog
from dsl.formatter import format_source
from dsl.project import compile_files
from dsl.templates import load_templates
from simulation.simulate import simulate
from tests.dsl.test_properties import LIBRARY, MODEL_PATH, SCORES_PATH, Line, bodies, expressions, layouts, triggers

PLAYBOOKS_PER_RUN = 50
RUNS = 4  # 200 generated playbooks in all
OUTSIDE_CAUSES: tuple[str, ...] = ()  # e.g. an SMTP refusal or a plugin's remote error: none here
START = datetime(2026, 3, 2, 9, tzinfo=UTC)

TITLES = [
    "Call {{ account.name }}",
    "{{ account.name }}: {{ account.seats_used | default('?') }} of {{ account.seats_licensed | default('?') }} seats",
    "Health {{ health.score | default('unscored', true) }} ({{ health.band | default('no band', true) }})",
    "{{ metrics.weekly_logins }} logins this week",
    "{{ playbook.title }} for {{ account.csm.name | default('the CSM') }}",
    "After {{ event.name | default('a change', true) }}",
    "Manager: {{ account.csm.manager.name | default('none') }}, contact {{ account.primary_contact.email }}",
]


@st.composite
def statement_lines(draw: st.DrawFn, depth: int) -> list[Line]:
    """The statements the shared generator lacks: task titles reading each kind of variable, `do`."""
    kind = draw(st.sampled_from(["task", "do", "other"]))
    if kind == "task":
        title = draw(st.sampled_from(TITLES)).replace('"', "'")
        return [(depth, ["create", "task", f'"{title}"', "for", draw(st.sampled_from(["csm", "csm.manager"]))])]
    if kind == "do":
        text = draw(st.sampled_from(TITLES)).replace('"', "'")
        return [(depth, ["do", "slack.notify", "channel", "=", '"#cs"', "text", "=", f'"{text}"'])]
    return draw(bodies(depth, 1))


@st.composite
def playbook_lines(draw: st.DrawFn, index: int) -> list[Line]:
    lines: list[Line] = [(0, ["playbook", f"generated_{index}", f'"Generated {index}"', ":"]),
                         (1, ["trigger", ":", *draw(triggers)])]
    if draw(st.booleans()):
        lines.append((1, ["audience", ":", *draw(expressions)]))
    if draw(st.booleans()):
        lines.append((1, ["exit", ":", "event", "churned", "or", "health", "is", "red"]))
    for day in sorted(draw(st.sets(st.integers(0, 20), min_size=1, max_size=3))):
        lines.append((1, ["day", str(day), ":"]))
        lines += draw(statement_lines(2))
        lines += draw(bodies(2, 1))
    return lines


@st.composite
def folders(draw: st.DrawFn) -> dict[str, str]:
    """File name to the `fmt`-printed text of each generated playbook."""
    written = {}
    for index in range(PLAYBOOKS_PER_RUN):
        path = str(LIBRARY / f"generated_{index}.play")
        written[path] = format_source(draw(layouts(draw(playbook_lines(index)))), path)
    return written


def _account(rng: random.Random, index: int) -> list[dict[str, Any]]:
    """An account's lines: its name and owners always, every other field sent or not at random."""
    name = f"acct-{index}"
    traits: dict[str, Any] = {
        "name": name.title(),  # printed unguarded by titles, as authors do: a missing name fails the step
        "csm": {"email": f"csm{index}@vendor.example", "name": rng.choice(["Sam", None]),
                "manager": {"email": "lee@vendor.example"}},
        "primary_contact": {"email": f"pat@{name}.example", **({"name": "Pat"} if rng.random() < 0.5 else {})},
    }
    optional: dict[str, Any] = {
        "segment": rng.choice(["enterprise", "mid_market", "smb", "trial"]),
        "arr": rng.choice([5000, 25000.0, 120000]), "timezone": rng.choice(["UTC", "Europe/Paris", "Asia/Tokyo"]),
        "renewal_date": (START + timedelta(days=rng.randint(5, 90))).date().isoformat(),
        "seats_licensed": 20, "seats_used": rng.choice([0, 5.0, 19]), "dau_pct": rng.choice([3, 40.5, 90]),
        "feature_adoption": rng.choice([10, 55]), "tasks_completed": rng.choice([0, 12]),
        "core_usage_trend": rng.choice(["declining", "stable", "growing"]),
        "ticket_trend": rng.choice(["decreasing", "stable", "increasing"]), "nps": rng.choice([2, 9]),
        "csat": rng.choice([2, 4.5]), "qbr_attended": rng.random() < 0.5, "training_done": rng.random() < 0.5,
        "responsive": True, "exec_sponsor": rng.random() < 0.5, "champion": rng.random() < 0.5,
        "payments_on_time": rng.random() < 0.5, "expanded_last_12m": False, "engagement_high": rng.random() < 0.5,
    }
    traits.update({key: value for key, value in optional.items() if rng.random() < 0.7})
    lines: list[dict[str, Any]] = [{"account": name, "at": START.isoformat(), "traits": traits}]
    for day in range(20):
        at = START + timedelta(days=day, hours=rng.randint(0, 8))
        if rng.random() < 0.4:
            lines.append({"account": name, "at": at.isoformat(), "event": "login"})
        if day == 0:
            lines.append({"account": name, "at": (at + timedelta(minutes=1)).isoformat(), "event": "signed"})
        if rng.random() < 0.1:
            lines.append({"account": name, "at": at.isoformat(), "event": "nps_response",
                          "data": {"score": rng.randint(0, 10), "comment": "ok"}})
        if rng.random() < 0.05:
            lines.append({"account": name, "at": at.isoformat(), "event": "project_created"})
        if rng.random() < 0.08:
            lines.append({"account": name, "at": at.isoformat(), "traits": {"dau_pct": rng.choice([1, 50, 95])}})
    if rng.random() < 0.1:
        lines.append({"account": name, "at": (START + timedelta(days=15)).isoformat(), "event": "churned"})
    return lines


def _timeline(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    lines = [line for index in range(12) for line in _account(rng, index)]
    lines.sort(key=lambda line: line["at"])
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@settings(max_examples=RUNS, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                                 HealthCheck.function_scoped_fixture])
@given(folders(), st.integers(0, 2**32 - 1))
def test_generated_playbooks_that_check_clean_never_fail_at_run_time(
        tmp_path_factory: Any, written: dict[str, str], seed: int) -> None:
    library = {str(path): path.read_text(encoding="utf-8") for path in (Path(MODEL_PATH), Path(SCORES_PATH))}
    templates, problems = load_templates(LIBRARY)
    assert not [problem for problem in problems if problem.is_error]
    compilation = compile_files({**library, **written}, templates, installed_catalog())
    assert compilation.ok, compilation.render()
    assert compilation.bundle is not None
    timeline = _timeline(tmp_path_factory.mktemp("generated") / "timeline.jsonl", seed)
    result = asyncio.run(simulate(compilation.bundle, timeline, start=START, days=25))
    failed = [action for action in result.actions if action.kind == "failed"
              and not any(cause in str(action.data.get("error")) for cause in OUTSIDE_CAUSES)]
    shown = [f"{action.playbook} {action.data}\n{written.get(str(LIBRARY / f'{action.playbook}.play'))}"
             for action in failed[:3]]
    assert not failed, "\n".join(shown)
    assert any(action.kind in ("task", "email", "call") for action in result.actions)
