"""How fast `playbook check` is on a large folder: parse, check and lower 1,000 playbooks.

    .venv/bin/python bench/check_speed.py [--files 1000] [--repeat 3] [--profile] [--keep DIR]

Generates a folder of realistic playbooks (varied triggers, audiences, exits, timed steps,
branches, waits, tasks, emails and in-app messages; about 50 lines each), an account model and
the templates they use, so that the folder checks clean. Then times `compile_folder` on it and
prints files, lines, seconds and lines per second. The goal is 10,000 lines per second or more.
`--profile` prints where the time goes (cProfile, the top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

from dsl.diagnostics import render_all
from dsl.project import Compilation, compile_folder

GOAL_LINES_PER_SECOND = 10_000

EMAILS = [f"email_{name}" for name in (
    "welcome", "first_project", "webinar", "milestone", "checklist", "tips", "renewal_roi",
    "renewal_invite", "payment_update", "payment_reminder", "upgrade", "reonboarding",
    "testimonial", "spotlight", "review", "trial_rescue", "survey", "case_study", "training",
    "feedback",
)]
IN_APPS = [f"in_app_{name}" for name in ("tutorial", "upgrade_prompt", "tour", "nudge", "survey")]

MODEL = """\
# The account model of the benchmark folder.

account fields:
    name: text
    segment: one of enterprise, mid_market, smb, trial
    arr: money
    timezone: text
    renewal_date: date
    signed_date: date
    csm: owner
    primary_contact: contact
    seats_licensed: number
    seats_used: number
    dau_pct: percent
    feature_adoption: percent
    tasks_completed: number
    api_calls_pct: percent
    nps: number
    csat: number
    champion: boolean
    exec_sponsor: boolean
    lifecycle_stage: text

events:
    signed
    churned
    login
    project_created
    payment_failed: amount money
    payment_succeeded
    nps_response: score number, comment text
    premium_feature_attempted: feature text

metric weekly_logins = count login over 7 days

score health "Account health":
    component usage max 60:
        60 if dau_pct >= 70% and feature_adoption >= 60%
        30 if dau_pct >= 40%
        0 otherwise
    component relationship max 40:
        40 if champion and nps >= 9
        20 if champion
        0 otherwise
    bands:
        green: 80 to 100
        yellow: 50 to 79
        red: 0 to 49

policy:
    quiet hours 20:00 to 08:00 account time
    at most 3 emails per account per 7 days
"""

TRIGGERS = [
    "event signed",
    "event payment_failed",
    "event nps_response where score >= 9",
    "event premium_feature_attempted",
    "seats_used >= 80% of seats_licensed",
    "api_calls_pct >= 90%",
    "health becomes red",
    "health becomes yellow",
    "90 days before renewal_date",
    "14 days after signed_date at 10:00",
    "every month on day 1 at 10:00",
    "every quarter",
    "every week on monday at 09:00",
    "weekly_logins down 40% week over week for 3 weeks",
]
AUDIENCES = [
    'segment == "smb"',
    'segment == "enterprise" and arr >= 100k',
    'segment == "mid_market" or arr > 25k',
    "seats_used > 10 and dau_pct < 50%",
    'not (segment == "trial")',
    "nps >= 7 and champion",
]
EXITS = ["event churned", "event churned or health is red", "event payment_succeeded", "health is green"]
GOALS = ["feature_adoption >= 30%", "tasks_completed >= 10", "seats_used >= 90% of seats_licensed"]
CONDITIONS = [
    "tasks_completed >= 10",
    "feature_adoption < 20%",
    "dau_pct >= 40% and feature_adoption >= 30%",
    "arr > 15k or health is red",
    "seen project_created within 7 days",
    "not champion",
    "health is not green",
    "seats_used * 2 > seats_licensed + 5",
    "csat >= 4 and nps >= 8",
]
OWNERS = ["csm", "csm.manager"]
PRIORITIES = ["low", "normal", "high", "urgent"]
DUES = ["48h", "24h", "5 days", "7 days", "2 business days", "3 weeks"]


def _action(rng: random.Random, depth: int) -> list[str]:
    pad = "    " * depth
    roll = rng.random()
    if roll < 0.35:
        return [f"{pad}send email {rng.choice(EMAILS)} to primary_contact"]
    if roll < 0.5:
        return [f"{pad}send in_app {rng.choice(IN_APPS)}"]
    if roll < 0.75:
        title = rng.choice(["Check-in", "Renewal call", "Outreach", "Expansion offer", "Rescue"])
        return [
            f'{pad}create task "{title}: {{{{ account.name }}}}" for {rng.choice(OWNERS)} '
            f"due {rng.choice(DUES)} priority {rng.choice(PRIORITIES)}"
        ]
    if roll < 0.85:
        return [f"{pad}wait until event project_created or {rng.choice(['7 days', '48h', '3 days'])}"]
    if roll < 0.92:
        return [f'{pad}set lifecycle_stage = "{rng.choice(["adopting", "at_risk", "expanding"])}"']
    return [f"{pad}wait {rng.choice(['3 days', '12h', '1 day'])}"]


def _block(rng: random.Random, depth: int, budget: int) -> list[str]:
    lines: list[str] = []
    while len(lines) < budget:
        if depth < 4 and rng.random() < 0.3:
            pad = "    " * depth
            keyword = rng.choice(["if", "if", "unless"])
            condition = "seen project_created" if keyword == "unless" else rng.choice(CONDITIONS)
            lines.append(f"{pad}{keyword} {condition}:")
            lines.extend(_block(rng, depth + 1, rng.randint(1, 3)))
            if keyword == "if" and rng.random() < 0.4:
                lines.append(f"{pad}else:")
                lines.extend(_block(rng, depth + 1, rng.randint(1, 2)))
        else:
            lines.extend(_action(rng, depth))
    return lines


def playbook_source(index: int, rng: random.Random) -> str:
    """One realistic playbook of about 50 lines."""
    trigger = rng.choice(TRIGGERS)
    lines = [
        f"# Benchmark playbook {index}: generated, realistic in shape.",
        "",
        f'playbook bench_{index:04d} "Benchmark playbook {index}":',
        f"    trigger: {trigger}",
    ]
    if rng.random() < 0.8:
        lines.append(f"    audience: {rng.choice(AUDIENCES)}")
    if rng.random() < 0.7:
        lines.append(f"    exit: {rng.choice(EXITS)}")
    if rng.random() < 0.4:
        lines.append(f"    goal: {rng.choice(GOALS)}")
    if rng.random() < 0.3:
        lines.append(f"    reentry: {rng.choice(['never', 'after 30 days'])}")
    steps = rng.randint(4, 6)
    if trigger.endswith("renewal_date"):
        offsets = sorted(rng.sample([90, 75, 60, 45, 30, 14, 7], steps), reverse=True)
        headers = [f"{days} days before renewal_date:" for days in offsets]
    else:
        days = [0]
        while len(days) < steps:
            days.append(days[-1] + rng.randint(1, 10))
        headers = [f"day {day}:" for day in days]
    for header in headers:
        lines.append("")
        lines.append(f"    {header}")
        if rng.random() < 0.3:
            lines.append("        # A step the team reviews each quarter.")
        lines.extend(_block(rng, 2, rng.randint(4, 6)))
    return "\n".join(lines) + "\n"


def template_source(channel: str) -> str:
    """The text of one template file: subject and text blocks, and an html block for an email."""
    html = "{% block html %}<p>A note for {{ account.name }}.</p>{% endblock %}\n"
    return (
        f"{{% block subject %}}A note for {{{{ account.name }}}}{{% endblock %}}\n"
        "\n"
        "{% block text -%}\n"
        "Hi {{ account.primary_contact.name | default(\"there\", true) }},\n"
        "\n"
        f"This {channel} message is from your customer success team about {{{{ account.name }}}}.\n"
        "{%- endblock %}\n"
    ) + (html if channel == "email" else "")


def generate(folder: Path, files: int, seed: int = 7) -> None:
    """Write the model, `files` playbooks and their templates into `folder`."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.play").write_text(MODEL, encoding="utf-8")
    templates = folder / "templates"
    templates.mkdir(exist_ok=True)
    for channel, names in (("email", EMAILS), ("in_app", IN_APPS)):
        for name in names:
            (templates / f"{name}.{channel}.jinja").write_text(template_source(channel), encoding="utf-8")
    for index in range(files):
        (folder / f"bench_{index:04d}.play").write_text(playbook_source(index, rng), encoding="utf-8")


def measure(folder: Path, repeat: int) -> tuple[Compilation, float, float]:
    """The compilation, and the best wall and CPU times of `repeat` runs of `compile_folder`.

    CPU time is reported too because on a shared machine the wall time measures the neighbours.
    """
    best_wall = best_cpu = float("inf")
    compilation: Compilation | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        compilation = compile_folder(folder)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    assert compilation is not None
    return compilation, best_wall, best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=1000, help="how many playbooks (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs to time; the best counts (default 3)")
    parser.add_argument("--profile", action="store_true", help="print the top functions by time")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        folder = args.keep or Path(scratch) / "playbooks"
        generate(folder, args.files)
        compilation, seconds, cpu_seconds = measure(folder, max(args.repeat, 1))
        errors = [d for d in compilation.diagnostics if d.is_error]
        if errors:
            print(render_all(errors[:20], compilation.sources), file=sys.stderr)
            print(f"the generated folder has {len(errors)} errors; the figure below is not meaningful",
                  file=sys.stderr)
        rate = compilation.lines / seconds if seconds else float("inf")
        print(f"files:        {len(compilation.files):,}")
        print(f"lines:        {compilation.lines:,}")
        print(f"seconds:      {seconds:.3f} wall, {cpu_seconds:.3f} CPU (best of {max(args.repeat, 1)})")
        print(f"lines/second: {rate:,.0f} wall, {compilation.lines / cpu_seconds:,.0f} CPU "
              f"(goal {GOAL_LINES_PER_SECOND:,})")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            compile_folder(folder)
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
        return 0 if not errors and rate >= GOAL_LINES_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
