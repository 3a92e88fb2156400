"""The standard library under playbooks/ compiles cleanly and its IR says exactly what
playbooks.md and health-model.md prescribe: triggers, audiences, exits, re-entry, every step
and action, the health score model, the send policies and the account model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsl import ir
from dsl.diagnostics import render_all
from dsl.ir_text import describe, describe_duration, describe_statement, describe_trigger
from dsl.project import Compilation

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
EXAMPLE = ROOT / "examples" / "onboarding.jsonl"

PLAYBOOK_FILES = {
    "smb_onboarding": "onboarding.play",
    "health_red": "health_bands.play",
    "health_yellow": "health_bands.play",
    "health_green": "health_bands.play",
    "renewal": "renewal.play",
    "payment_recovery": "payments.play",
    "expansion_seats": "expansion.play",
    "expansion_data_volume": "expansion.play",
    "expansion_api_limit": "expansion.play",
    "expansion_premium_attempt": "expansion.play",
    "churn_login_drop": "churn.play",
    "churn_reonboarding": "churn.play",
    "churn_trial_rescue": "churn.play",
    "advocacy_testimonial": "advocacy.play",
    "advocacy_cab": "advocacy.play",
    "advocacy_speaker": "advocacy.play",
    "cadence_feature_spotlight": "cadence.play",
    "cadence_business_review": "cadence.play",
}


# --------------------------------------------------------------------------- readable IR
# Each statement is written in the language's words by the IR printer (`dsl.ir_text`).


def statements(body: Iterable[ir.Statement]) -> list[Any]:
    """Statements as their lines; a branch is a tuple of its head and its nested lines."""
    out: list[Any] = []
    for node in body:
        if isinstance(node, ir.If):
            assert not node.otherwise
            if node.negated:
                assert isinstance(node.condition, ir.Not)
            out.append((describe_statement(node), statements(node.then)))
        elif isinstance(node, ir.SendEmail | ir.SendInApp | ir.CreateTask | ir.WaitUntil | ir.Wait):
            out.append(describe_statement(node))
        else:
            raise AssertionError(f"unexpected statement {node!r}")
    return out


def steps(playbook: ir.Playbook) -> list[tuple[str, list[Any]]]:
    """Each step as `(when, lines)`: `day 7` relative to entry, `60 days before renewal_date`."""
    out = []
    for step in playbook.steps:
        if step.anchor == "entry":
            assert step.offset.seconds() % 86400 == 0, step
            when = f"day {step.offset.seconds() // 86400}"
        else:
            side = "before" if step.offset_days < 0 else "after"
            when = f"{abs(step.offset_days)} days {side} {step.anchor} at {step.at}"
        out.append((when, statements(step.body)))
    return out


def merged_entry_steps(playbook: ir.Playbook) -> list[tuple[str, list[Any]]]:
    """Steps with equal `when` joined (statements at entry may form their own `day 0` step)."""
    joined: dict[str, list[Any]] = {}
    for when, lines in steps(playbook):
        joined.setdefault(when, []).extend(lines)
    return list(joined.items())


# --------------------------------------------------------------------------- the folder


def test_library_compiles_without_errors(standard_compilation: Compilation) -> None:
    errors = [d for d in standard_compilation.diagnostics if d.is_error]
    assert errors == [], render_all(errors, standard_compilation.sources)


def test_library_compiles_without_warnings(standard_compilation: Compilation) -> None:
    warnings = [d for d in standard_compilation.diagnostics if not d.is_error]
    assert warnings == [], render_all(warnings, standard_compilation.sources)


def test_every_standard_playbook_is_present_and_no_other(bundle: ir.Bundle) -> None:
    assert set(bundle.playbooks) == set(PLAYBOOK_FILES)


@pytest.mark.parametrize(("playbook_id", "file_name"), sorted(PLAYBOOK_FILES.items()))
def test_playbook_lives_in_its_file(bundle: ir.Bundle, playbook_id: str, file_name: str) -> None:
    assert Path(bundle.playbooks[playbook_id].path).name == file_name


def test_every_playbook_has_a_title(bundle: ir.Bundle) -> None:
    assert all(p.title for p in bundle.playbooks.values())


def test_every_playbook_has_a_version(bundle: ir.Bundle) -> None:
    assert set(bundle.versions) == set(PLAYBOOK_FILES)


# --------------------------------------------------------------------------- headers

HEADERS: dict[str, dict[str, Any]] = {
    "smb_onboarding": {"trigger": "event signed", "audience": 'segment == "smb"', "exits": ["event churned"]},
    "health_red": {"trigger": "health becomes red", "reentry": ("after", "30 days")},
    "health_yellow": {"trigger": "health becomes yellow"},
    "health_green": {"trigger": "health becomes green"},
    "renewal": {"trigger": "90 days before renewal_date"},
    "payment_recovery": {"trigger": "event payment_failed", "exits": ["event payment_succeeded"]},
    "expansion_seats": {"trigger": "seats_used >= 80% of seats_licensed"},
    "expansion_data_volume": {"trigger": "data_volume_gb > tier_limit_gb"},
    "expansion_api_limit": {"trigger": "api_calls_pct >= 90%"},
    "expansion_premium_attempt": {"trigger": "event premium_feature_attempted"},
    "churn_login_drop": {"trigger": "weekly_logins down 40% week over week for 3 weeks"},
    "churn_reonboarding": {"trigger": 'core_usage_trend == "declining" and ticket_trend == "increasing"'},
    "churn_trial_rescue": {"trigger": "event signed", "audience": 'segment == "trial"'},
    "advocacy_testimonial": {"trigger": "event nps_response where score >= 9"},
    "advocacy_cab": {"trigger": "engagement_high and referrals_90d >= 3"},
    "advocacy_speaker": {"trigger": "community_answers_30d >= 5"},
    "cadence_feature_spotlight": {
        "trigger": "every month",
        "audience": 'segment == "smb" and seen signed more than 30 days ago',
    },
    "cadence_business_review": {
        "trigger": "every quarter",
        "audience": 'segment == "smb" and seen signed more than 30 days ago',
    },
}


@pytest.mark.parametrize("playbook_id", sorted(HEADERS))
def test_playbook_header_is_as_specified(bundle: ir.Bundle, playbook_id: str) -> None:
    playbook = bundle.playbooks[playbook_id]
    want = HEADERS[playbook_id]
    exits = [f"event {e.event}" if e.event or e.condition is None else describe(e.condition) for e in playbook.exits]
    after = playbook.reentry.after
    reentry = (playbook.reentry.mode, describe_duration(after) if after else None)
    got = {
        "trigger": describe_trigger(playbook.trigger),
        "audience": describe(playbook.audience) if playbook.audience is not None else None,
        "exits": exits,
        "goal": describe(playbook.goal) if playbook.goal is not None else None,
        "reentry": reentry,
    }
    assert got == {
        "trigger": want["trigger"],
        "audience": want.get("audience"),
        "exits": want.get("exits", []),
        "goal": None,
        "reentry": want.get("reentry", ("after_end", None)),
    }


# --------------------------------------------------------------------------- steps and actions

STEPS: dict[str, list[tuple[str, list[Any]]]] = {
    "smb_onboarding": [
        ("day 0", ["send email welcome to primary_contact"]),
        ("day 3", ["send in_app core_workflows_tutorial"]),
        ("day 7", [("unless seen project_created", ["send email first_project to primary_contact"])]),
        ("day 14", ["send email webinar_invite to primary_contact"]),
        ("day 21", [("if tasks_completed >= 10", ["send email milestone_10_tasks to primary_contact"])]),
        ("day 30", [("if feature_adoption < 20%", [
            'create task "Onboarding rescue: {{ account.name }}" for csm due 48h priority high',
        ])]),
    ],
    "health_red": [
        ("day 0", [
            'create task "Outreach: {{ account.name }}" for csm due 48h priority urgent',
            "wait until task done or 48h",
            ("if task open", ['create task "Escalation: {{ account.name }}" for csm.manager due 24h priority urgent']),
        ]),
    ],
    "health_yellow": [("day 0", ['create task "Check-in: {{ account.name }}" for csm due 7 days'])],
    "health_green": [
        ("day 0", ['create task "Expansion conversation: {{ account.name }}" for csm due 14 days']),
    ],
    "renewal": [
        ("90 days before renewal_date at 09:00", ["send email renewal_roi_summary to primary_contact"]),
        ("60 days before renewal_date at 09:00", [("if arr > 15000 or health is red", [
            'create task "Renewal call: {{ account.name }}" for csm due 5 days',
        ])]),
        ("30 days before renewal_date at 09:00", ["send email renewal_invitation to primary_contact"]),
    ],
    "payment_recovery": [
        ("day 0", ["send email payment_update to primary_contact"]),
        ("day 3", ["send email payment_reminder to primary_contact"]),
        ("day 7", ['create task "Payment still failing: {{ account.name }}" for csm due 48h']),
    ],
    "expansion_seats": [
        ("day 0", ['create task "Team expansion offer: {{ account.name }}" for csm due 5 days']),
    ],
    "expansion_data_volume": [("day 0", ["send email upgrade_recommendation to primary_contact"])],
    "expansion_api_limit": [
        ("day 0", ['create task "Enterprise tier consultation: {{ account.name }}" for csm due 7 days']),
    ],
    "expansion_premium_attempt": [("day 0", ["send in_app upgrade_prompt"])],
    "churn_login_drop": [
        ("day 0", ['create task "Usage drop intervention: {{ account.name }}" for csm due 48h priority high']),
    ],
    "churn_reonboarding": [
        ("day 0", ["send email reonboarding_1 to primary_contact"]),
        ("day 7", ["send email reonboarding_2 to primary_contact"]),
    ],
    "churn_trial_rescue": [
        ("day 14", [("if feature_adoption < 30%", [
            "send email trial_rescue to primary_contact",
            'create task "Trial rescue outreach: {{ account.name }}" for csm due 48h',
        ])]),
    ],
    "advocacy_testimonial": [("day 0", ["send email testimonial_request to primary_contact"])],
    "advocacy_cab": [
        ("day 0", ['create task "Customer advisory board invitation: {{ account.name }}" for csm due 14 days']),
    ],
    "advocacy_speaker": [
        ("day 0", ['create task "User conference speaker invitation: {{ account.name }}" for csm due 30 days']),
    ],
    "cadence_feature_spotlight": [("day 0", ["send email feature_spotlight to primary_contact"])],
    "cadence_business_review": [("day 0", ["send email digital_business_review to primary_contact"])],
}


@pytest.mark.parametrize("playbook_id", sorted(STEPS))
def test_playbook_steps_and_actions_are_as_specified(bundle: ir.Bundle, playbook_id: str) -> None:
    assert merged_entry_steps(bundle.playbooks[playbook_id]) == STEPS[playbook_id]


def _tasks(body: Iterable[Any]) -> Iterator[ir.CreateTask]:
    for node in body:
        if isinstance(node, ir.CreateTask):
            yield node
        elif isinstance(node, ir.If):
            yield from _tasks(node.then)
            yield from _tasks(node.otherwise)


def test_every_task_title_names_the_account_after_its_spec_words(bundle: ir.Bundle) -> None:
    titles = [t.title for p in bundle.playbooks.values() for s in p.steps for t in _tasks(s.body)]
    assert len(titles) == 13
    assert all(title.endswith(": {{ account.name }}") for title in titles)


# --------------------------------------------------------------------------- templates


def _sent(body: Iterable[Any]) -> Iterator[tuple[str, str]]:
    for node in body:
        if isinstance(node, ir.SendEmail):
            yield node.template, "email"
        elif isinstance(node, ir.SendInApp):
            yield node.template, "in_app"
        elif isinstance(node, ir.If):
            yield from _sent(node.then)
            yield from _sent(node.otherwise)


def test_every_sent_template_exists_with_its_channel(bundle: ir.Bundle) -> None:
    sent = {pair for p in bundle.playbooks.values() for s in p.steps for pair in _sent(s.body)}
    assert sent
    for name, channel in sent:
        assert name in bundle.templates, name
        assert bundle.templates[name].channel == channel


def test_every_template_is_sent_by_some_playbook(bundle: ir.Bundle) -> None:
    sent = {name for p in bundle.playbooks.values() for s in p.steps for name, _ in _sent(s.body)}
    assert set(bundle.templates) == sent


def test_each_playbook_lists_the_templates_it_sends(bundle: ir.Bundle) -> None:
    for playbook in bundle.playbooks.values():
        sent = {name for s in playbook.steps for name, _ in _sent(s.body)}
        assert set(playbook.templates) == sent, playbook.id


def test_emails_have_html_and_in_app_messages_are_in_app(bundle: ir.Bundle) -> None:
    in_app = {name for name, t in bundle.templates.items() if t.channel == "in_app"}
    assert in_app == {"core_workflows_tutorial", "upgrade_prompt"}
    assert all(t.html is not None for t in bundle.templates.values() if t.channel == "email")


# --------------------------------------------------------------------------- the health score


def test_health_score_has_the_five_components_with_their_maxima(bundle: ir.Bundle) -> None:
    health = bundle.scores["health"]
    assert health.title == "Account health"
    assert [(c.name, c.max_points) for c in health.components] == [
        ("product_usage", 40),
        ("engagement", 25),
        ("support_health", 15),
        ("relationship", 15),
        ("financial", 5),
    ]
    assert sum(c.max_points for c in health.components) == 100


def test_health_rules_give_the_points_of_the_model_in_order(bundle: ir.Bundle) -> None:
    rules = {
        c.name: [(r.points, describe(r.when) if r.when is not None else "otherwise") for r in c.rules]
        for c in bundle.scores["health"].components
    }
    assert rules == {
        "product_usage": [
            (40, "dau_pct >= 70% and feature_adoption >= 60%"),
            (20, "dau_pct >= 40% and feature_adoption >= 30%"),
            (0, "otherwise"),
        ],
        "engagement": [
            (25, "qbr_attended and training_done and responsive"),
            (12, "exactly 2 of (qbr_attended, training_done, responsive)"),
            (0, "otherwise"),
        ],
        "support_health": [
            (15, 'ticket_trend != "increasing" and csat >= 4'),
            (7, "csat >= 3"),
            (0, "otherwise"),
        ],
        "relationship": [
            (15, "exec_sponsor and champion and nps >= 9"),
            (7, "champion and nps >= 7"),
            (0, "otherwise"),
        ],
        "financial": [
            (5, "payments_on_time and expanded_last_12m"),
            (2, "payments_on_time"),
            (0, "otherwise"),
        ],
    }


def test_health_components_read_exactly_the_model_inputs(bundle: ir.Bundle) -> None:
    assert {c.name: set(c.inputs) for c in bundle.scores["health"].components} == {
        "product_usage": {"dau_pct", "feature_adoption"},
        "engagement": {"qbr_attended", "training_done", "responsive"},
        "support_health": {"ticket_trend", "csat"},
        "relationship": {"exec_sponsor", "champion", "nps"},
        "financial": {"payments_on_time", "expanded_last_12m"},
    }


def test_health_bands_cover_zero_to_hundred(bundle: ir.Bundle) -> None:
    bands = [(b.name, b.low, b.high) for b in bundle.scores["health"].bands]
    assert bands == [("green", 80, 100), ("yellow", 50, 79), ("red", 0, 49)]


def _value(node: Any, account: dict[str, Any]) -> Any:
    """A small evaluator for the expressions a score model uses."""
    if isinstance(node, ir.Literal_):
        return node.value
    if isinstance(node, ir.FieldRef):
        return account[node.path[0]]
    if isinstance(node, ir.Compare):
        left, right = _value(node.left, account), _value(node.right, account)
        return {
            "==": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right,
        }[node.op]
    if isinstance(node, ir.Logic):
        values = [bool(_value(a, account)) for a in node.args]
        return all(values) if node.op == "and" else any(values)
    if isinstance(node, ir.Not):
        return not _value(node.arg, account)
    if isinstance(node, ir.CountTrue):
        count = sum(1 for a in node.args if _value(a, account))
        return {"exactly": count == node.count, "at_least": count >= node.count, "at_most": count <= node.count}[
            node.op
        ]
    raise AssertionError(f"unexpected expression in a score: {node!r}")


def _score(bundle: ir.Bundle, account: dict[str, Any]) -> tuple[dict[str, float], float, str]:
    health = bundle.scores["health"]
    points = {}
    for component in health.components:
        points[component.name] = next(
            r.points for r in component.rules if r.when is None or _value(r.when, account)
        )
    total = sum(points.values())
    band = next(b.name for b in health.bands if b.low <= total <= b.high)
    return points, total, band


TECHCORP = {
    "dau_pct": 65, "feature_adoption": 55, "qbr_attended": True, "training_done": True, "responsive": True,
    "ticket_trend": "stable", "csat": 4.2, "exec_sponsor": False, "champion": True, "nps": 8,
    "payments_on_time": True, "expanded_last_12m": False,
}


def test_health_worked_example_scores_69_yellow(bundle: ir.Bundle) -> None:
    points, total, band = _score(bundle, TECHCORP)
    assert points == {"product_usage": 20, "engagement": 25, "support_health": 15, "relationship": 7, "financial": 2}
    assert (total, band) == (69, "yellow")


def test_health_worked_example_with_higher_usage_scores_89_green(bundle: ir.Bundle) -> None:
    assert _score(bundle, dict(TECHCORP, dau_pct=75, feature_adoption=65))[1:] == (89, "green")


def test_health_of_an_account_with_bad_inputs_scores_2_red(bundle: ir.Bundle) -> None:
    globex = dict(
        TECHCORP, dau_pct=20, feature_adoption=10, qbr_attended=False, training_done=False, responsive=False,
        ticket_trend="increasing", csat=2, champion=False, nps=3,
    )
    assert _score(bundle, globex)[1:] == (2, "red")


def test_health_engagement_gives_12_for_exactly_two_and_0_for_one(bundle: ir.Bundle) -> None:
    two = dict(TECHCORP, qbr_attended=False)
    one = dict(TECHCORP, qbr_attended=False, training_done=False)
    assert _score(bundle, two)[0]["engagement"] == 12
    assert _score(bundle, one)[0]["engagement"] == 0


def test_health_support_with_increasing_tickets_falls_to_7(bundle: ir.Bundle) -> None:
    assert _score(bundle, dict(TECHCORP, ticket_trend="increasing"))[0]["support_health"] == 7


# --------------------------------------------------------------------------- policies and model


def test_policy_has_quiet_hours_and_the_email_cap(bundle: ir.Bundle) -> None:
    policy = bundle.policy
    assert policy.quiet_hours == ir.QuietHours(start="20:00", end="08:00")
    assert [(c.channel, c.count, describe_duration(c.per)) for c in policy.caps] == [("email", 3, "7 days")]


MODEL_FIELDS = {
    "name": "text", "segment": "enum", "arr": "money", "timezone": "text", "renewal_date": "date",
    "csm": "owner", "primary_contact": "contact", "seats_licensed": "number", "seats_used": "number",
    "dau_pct": "percent", "feature_adoption": "percent", "tasks_completed": "number",
    "core_usage_trend": "enum", "data_volume_gb": "number", "tier_limit_gb": "number", "api_calls_pct": "percent",
    "qbr_attended": "boolean", "training_done": "boolean", "responsive": "boolean", "ticket_trend": "enum",
    "csat": "number", "exec_sponsor": "boolean", "champion": "boolean", "nps": "number",
    "payments_on_time": "boolean", "expanded_last_12m": "boolean", "engagement_high": "boolean",
    "referrals_90d": "number", "community_answers_30d": "number",
}


def test_model_declares_every_field_with_its_type(bundle: ir.Bundle) -> None:
    assert {name: f.type for name, f in bundle.model.fields.items()} == MODEL_FIELDS


def test_model_enumerations_have_their_values(bundle: ir.Bundle) -> None:
    fields = bundle.model.fields
    assert fields["segment"].values == ("enterprise", "mid_market", "smb", "trial")
    assert fields["ticket_trend"].values == ("decreasing", "stable", "increasing")
    assert fields["core_usage_trend"].values == ("declining", "stable", "growing")


def test_model_declares_the_events_and_their_payloads(bundle: ir.Bundle) -> None:
    events = {name: {k: t.type for k, t in e.payload.items()} for name, e in bundle.model.events.items()}
    for reserved in ("task_completed", "unsubscribed", "bounced"):
        events.pop(reserved, None)
    assert events == {
        "signed": {},
        "churned": {},
        "project_created": {},
        "login": {},
        "payment_failed": {"amount": "money"},
        "payment_succeeded": {},
        "nps_response": {"score": "number", "comment": "text"},
        "premium_feature_attempted": {"feature": "text"},
    }


def test_model_defines_weekly_logins(bundle: ir.Bundle) -> None:
    metric = bundle.model.metrics["weekly_logins"]
    assert (metric.aggregate, metric.event, describe_duration(metric.window)) == ("count", "login", "7 days")


# --------------------------------------------------------------------------- the example timeline


def _example() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_example_timeline_uses_only_declared_events_and_fields(bundle: ir.Bundle) -> None:
    python_types: dict[str, type | tuple[type, ...]] = {
        "text": str, "enum": str, "date": str, "owner": dict, "contact": dict, "boolean": bool,
        "number": (int, float), "money": (int, float), "percent": (int, float),
    }
    for row in _example():
        assert row["account"]
        if "event" in row:
            assert row["event"] in bundle.model.events, row
            payload = bundle.model.events[row["event"]].payload
            for key, value in row.get("data", {}).items():
                if key in payload:
                    assert isinstance(value, python_types[payload[key].type]), (row, key)
        for key, value in row.get("traits", {}).items():
            declared = bundle.model.fields[key]
            assert isinstance(value, python_types[declared.type]), (row, key)
            if declared.type == "enum":
                assert value in declared.values, (row, key)
            if declared.type in ("owner", "contact"):
                assert "email" in value


def test_example_timeline_is_ordered_with_unique_ids_over_a_month() -> None:
    rows = _example()
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    times = [datetime.fromisoformat(row["at"].replace("Z", "+00:00")) for row in rows]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert times[0] == datetime.fromisoformat("2026-01-05T08:00:00+00:00")
    assert times[-1] - times[0] <= timedelta(days=31)


def test_example_timeline_has_the_promised_accounts_and_moments() -> None:
    rows = _example()
    traits: dict[str, dict[str, Any]] = {}
    for row in rows:
        traits.setdefault(row["account"], {}).update(row.get("traits", {}))
    events = [(row["account"], row["event"], row.get("data", {})) for row in rows if "event" in row]
    smb = [a for a, t in traits.items() if t.get("segment") == "smb"]
    assert smb and all(traits[a]["timezone"] == "Europe/Berlin" and "renewal_date" in traits[a] for a in smb)
    assert set(MODEL_FIELDS) <= set(traits[smb[0]])
    assert any(t.get("segment") == "trial" for t in traits.values())
    signed = {a for a, e, _ in events if e == "signed"}
    assert smb[0] in signed and any(traits[a].get("segment") == "trial" for a in signed)
    names = [e for _, e, _ in events]
    for name in ("project_created", "login", "payment_failed", "payment_succeeded", "nps_response"):
        assert name in names
    assert names.index("payment_failed") < names.index("payment_succeeded")
    assert any(e == "nps_response" and d.get("score") == 10 for _, e, d in events)


def test_example_timeline_has_one_green_or_yellow_smb_account_and_one_red_account(bundle: ir.Bundle) -> None:
    inputs = set(bundle.scores["health"].inputs)
    traits: dict[str, dict[str, Any]] = {}
    bands: dict[str, str] = {}
    for row in _example():  # the band each account first gets, once all inputs are known
        account = traits.setdefault(row["account"], {})
        account.update(row.get("traits", {}))
        if row["account"] not in bands and inputs <= set(account):
            bands[row["account"]] = _score(bundle, account)[2]
    assert sorted(bands.values()) == ["red", "yellow"]
    assert traits[next(a for a, b in bands.items() if b == "yellow")]["segment"] == "smb"
