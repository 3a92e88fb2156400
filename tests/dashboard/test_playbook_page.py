"""The playbook page: statements shown nested inside their `if`, `unless` or arm, the results per
arm of a split, and the goal conversion."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from dsl import ir
from dsl.project import compile_folder
from engine.records import ActionRecord
from engine.store import Store
from tests.dashboard.conftest import dashboard, sign_in

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)

TRIAL_MODEL = "account fields:\n    name: text\n\nevents:\n    signed\n    upgraded\n"
TRIAL = """\
playbook trial "Trial offer":
    trigger: event signed
    goal: event upgraded

    split 50% / 50%:
        control:
            send in_app plain
        offer:
            send in_app discount
"""


def _trial_bundle(root: Path) -> ir.Bundle:
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(TRIAL_MODEL)
    (root / "trial.play").write_text(TRIAL)
    for name in ("plain", "discount"):
        (root / "templates" / f"{name}.in_app.jinja").write_text(
            "{% block subject %}" + name + "{% endblock %}\n{% block text %}" + name + "{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(depth, block, statement) of each statement row."""
    found = re.findall(r'<tr class="depth-(\d)" data-path="[^"]*"><td class="statement">'
                       r'(?:<span class="block"[^>]*>([^<]*) \u203a</span> )?<code>([^<]*)</code>', page)
    return [(depth, block, statement) for depth, block, statement in found]


async def test_a_statement_inside_unless_is_shown_nested_under_it(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/playbooks/smb_onboarding")).text
    day7 = page[page.index('<h3 id="step-3">'):page.index('<h3 id="step-4">')]
    assert _rows(day7) == [("0", "", "unless seen project_created"),
                           ("1", "then", "send email first_project to primary_contact")]


async def test_a_split_shows_each_arm_s_journeys_sends_goals_and_the_goal_conversion_and_the_list_counts_them(
        store: Store, tmp_path: Path) -> None:
    bundle = _trial_bundle(tmp_path / "playbooks")
    for number in range(4):
        account, run = f"acct{number}", f"run{number}"
        arm, label = (1, "control") if number < 2 else (2, "offer")
        workflow = f"journey/trial/{account}"
        store.journey_entered(workflow, run, "trial", account, "v1", T0)
        store.log_action(ActionRecord(at=T0, account=account, playbook="trial", kind="decided",
                                      data={"what": "split", "outcome": label, "path": "entry/0"},
                                      key=f"{workflow}/{run}/entry/0/split/0"))
        store.log_action(ActionRecord(at=T0, account=account, playbook="trial", kind="in_app",
                                      data={"template": "plain" if arm == 1 else "discount"},
                                      key=f"{workflow}/{run}/entry/0/arm{arm}/0"))
        if number in (0, 2, 3):
            store.journey_ended(workflow, run, T0, "goal_reached", "event upgraded")
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/playbooks/trial")).text
        listing = (await client.get("/playbooks")).text
    row = listing[listing.index('href="/playbooks/trial"'):]
    counts = re.findall(r'<td class="num">(\d+)</td>', row[:row.index("</tr>")])
    assert counts == ["4", "1", "0", "3", "0", "0"]  # entered, active, completed, goal reached, exited, failed
    assert re.search(r'class="conversion">75.0%', page)
    arms = dict(re.findall(r'<tr data-arm="([a-z]+)">.*?<td class="num">[^<]*</td>\s*<td class="num">\d+</td>'
                           r'<td class="num">\d+</td>\s*<td class="num">([^<]+)</td>', page, re.S))
    assert arms == {"control": "50.0%", "offer": "100.0%"}
    assert "not enough data" in page
    assert _rows(page) == [("0", "", "split 50% / 50%"), ("1", "arm control", "send in_app plain"),
                           ("1", "arm offer", "send in_app discount")]
