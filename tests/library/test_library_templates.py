"""The standard library's email and in-app templates: every block renders, and the copy says
what playbooks.md promises (checklist, links, figures, an unsubscribe link in every email).

Templates are rendered the way the engine renders them: Jinja2's sandbox with StrictUndefined,
one block at a time, HTML with autoescaping on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from dsl import ir

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "playbooks" / "templates"

EMAILS = (
    "welcome",
    "first_project",
    "webinar_invite",
    "milestone_10_tasks",
    "payment_update",
    "payment_reminder",
    "renewal_roi_summary",
    "renewal_invitation",
    "upgrade_recommendation",
    "reonboarding_1",
    "reonboarding_2",
    "trial_rescue",
    "testimonial_request",
    "feature_spotlight",
    "digital_business_review",
)
IN_APP = ("core_workflows_tutorial", "upgrade_prompt")

UNSUBSCRIBE = "https://app.acme.example/unsubscribe/tok-123"

SAM = {"name": "Sam", "email": "sam@vendor.example", "manager": {"name": "Lee", "email": "lee@vendor.example"}}
ANA = {"name": "Ana", "email": "ana@techcorp.example"}

# Every field of playbooks/model.play, plus `id` (test_library.py checks the two stay in step).
FULL_ACCOUNT: dict[str, Any] = {
    "id": "techcorp",
    "name": "TechCorp",
    "segment": "smb",
    "arr": 18000,
    "timezone": "Europe/Berlin",
    "renewal_date": "2026-04-20",
    "csm": SAM,
    "primary_contact": ANA,
    "seats_licensed": 25,
    "seats_used": 21,
    "dau_pct": 65,
    "feature_adoption": 55,
    "tasks_completed": 12,
    "core_usage_trend": "stable",
    "data_volume_gb": 53.5,
    "tier_limit_gb": 50,
    "api_calls_pct": 92,
    "qbr_attended": True,
    "training_done": True,
    "responsive": True,
    "ticket_trend": "stable",
    "csat": 4.2,
    "exec_sponsor": False,
    "champion": True,
    "nps": 8,
    "payments_on_time": True,
    "expanded_last_12m": False,
    "engagement_high": True,
    "referrals_90d": 3,
    "community_answers_30d": 6,
}

HEALTH_69 = {
    "score": 69,
    "band": "yellow",
    "components": [
        {"name": "product_usage", "points": 20, "max": 40},
        {"name": "engagement", "points": 25, "max": 25},
        {"name": "support_health", "points": 15, "max": 15},
        {"name": "relationship", "points": 7, "max": 15},
        {"name": "financial", "points": 2, "max": 5},
    ],
}


def full_context(**changes: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "account": dict(FULL_ACCOUNT),
        "contact": dict(ANA),
        "health": HEALTH_69,
        "metrics": {"weekly_logins": 42},
        "playbook": {"id": "smb_onboarding", "title": "SMB onboarding, days 0 to 30"},
        "unsubscribe_url": UNSUBSCRIBE,
        "event": {
            "name": "payment_failed",
            "data": {"amount": 1500, "score": 10, "comment": "Great", "feature": "audit_log"},
        },
    }
    context.update(changes)
    return context


def sparse_context() -> dict[str, Any]:
    """A brand-new account: only its id and a contact without a name; unscored; no event."""
    return {
        "account": {"id": "newco", "primary_contact": {"email": "x@newco.example"}},
        "contact": {"email": "x@newco.example"},
        "health": {"score": None, "band": None, "components": []},
        "metrics": {},
        "playbook": {"id": "smb_onboarding", "title": "SMB onboarding"},
        "unsubscribe_url": UNSUBSCRIBE,
        "event": None,
    }


TEXT_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
HTML_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


def render(name: str, block: str, context: dict[str, Any]) -> str:
    file = template_file(name)
    env = HTML_ENV if block == "html" else TEXT_ENV
    template = env.from_string(file.read_text(encoding="utf-8"))
    return "".join(template.blocks[block](template.new_context(context)))


def template_file(name: str) -> Path:
    matches = sorted(TEMPLATES.glob(f"{name}.*.jinja"))
    assert len(matches) == 1, f"expected one template file for {name!r}, found {matches}"
    return matches[0]


def blocks_of(name: str) -> tuple[str, ...]:
    return ("subject", "text", "html") if name in EMAILS else ("subject", "text")


ALL_BLOCKS = [(name, block) for name in EMAILS + IN_APP for block in blocks_of(name)]


# --------------------------------------------------------------------------- the set of files


def test_template_folder_holds_exactly_the_library_templates() -> None:
    files = {path.name for path in TEMPLATES.glob("*.jinja")}
    expected = {f"{name}.email.jinja" for name in EMAILS} | {f"{name}.in_app.jinja" for name in IN_APP}
    assert files == expected


@pytest.mark.parametrize("name", EMAILS + IN_APP)
def test_template_defines_each_block_once(name: str) -> None:
    source = template_file(name).read_text(encoding="utf-8")
    for block in blocks_of(name):
        assert len(re.findall(r"\{%-?\s*block\s+" + block + r"\b", source)) == 1


# --------------------------------------------------------------------------- rendering


@pytest.mark.parametrize(("name", "block"), ALL_BLOCKS)
def test_block_renders_for_fully_populated_account(name: str, block: str) -> None:
    out = render(name, block, full_context())
    assert out.strip()
    assert "None" not in out


@pytest.mark.parametrize(("name", "block"), ALL_BLOCKS)
def test_block_renders_for_new_unscored_account_with_missing_fields(name: str, block: str) -> None:
    out = render(name, block, sparse_context())
    assert out.strip()
    assert "None" not in out


@pytest.mark.parametrize("name", EMAILS + IN_APP)
@pytest.mark.parametrize("context", [full_context(), sparse_context()], ids=["full", "sparse"])
def test_subject_is_one_line(name: str, context: dict[str, Any]) -> None:
    subject = render(name, "subject", context).strip()
    assert subject
    assert "\n" not in subject and "\r" not in subject


@pytest.mark.parametrize("name", EMAILS)
def test_subject_is_personal(name: str) -> None:
    assert "Ana" in render(name, "subject", full_context())


@pytest.mark.parametrize("name", EMAILS)
def test_email_text_and_html_carry_the_unsubscribe_link(name: str) -> None:
    assert UNSUBSCRIBE in render(name, "text", full_context())
    html = render(name, "html", full_context())
    assert f'href="{UNSUBSCRIBE}"' in html


@pytest.mark.parametrize("name", EMAILS)
def test_email_html_is_inline_styled_without_stylesheets(name: str) -> None:
    html = render(name, "html", full_context())
    assert html.lstrip().startswith("<div style=")
    assert "<style" not in html and "<link" not in html and "<script" not in html


@pytest.mark.parametrize("name", EMAILS)
def test_email_html_escapes_account_values(name: str) -> None:
    account = dict(FULL_ACCOUNT, name="<b>Evil</b> & Co")
    html = render(name, "html", full_context(account=account, contact={"name": "<i>Ana</i>", "email": "a@x"}))
    assert "<b>Evil" not in html and "<i>Ana" not in html


# --------------------------------------------------------------------------- the copy


def test_welcome_subject_greets_the_contact_by_name() -> None:
    assert render("welcome", "subject", full_context()).strip() == "Welcome to Acme, Ana"


def test_welcome_text_contains_the_getting_started_checklist() -> None:
    text = render("welcome", "text", full_context())
    assert "getting-started checklist" in text
    for item in (
        "Set up your workspace",
        "Invite your teammates",
        "Connect the tools you already use",
        "Create your first project",
        "Assign and complete your first task",
    ):
        assert item in text
    assert len(re.findall(r"^\[ \] \d\. ", text, flags=re.MULTILINE)) == 5


def test_welcome_html_contains_the_checklist_as_a_list() -> None:
    html = render("welcome", "html", full_context())
    assert "getting-started checklist" in html
    assert html.count("<li") == 5


def test_first_project_links_the_video_walkthrough() -> None:
    for block in ("text", "html"):
        out = render("first_project", block, full_context())
        assert "video walkthrough" in out
        assert "https://acme.example/videos/first-project" in out


def test_webinar_invite_names_the_webinar() -> None:
    assert "power user tips for new customers" in render("webinar_invite", "subject", full_context())
    assert "https://acme.example/webinars/power-user-tips" in render("webinar_invite", "text", full_context())


def test_milestone_email_states_the_tasks_completed() -> None:
    assert "12 tasks" in render("milestone_10_tasks", "text", full_context())


def test_payment_emails_link_the_payment_update_page() -> None:
    for name in ("payment_update", "payment_reminder"):
        for block in ("text", "html"):
            assert "https://app.acme.example/billing/payment-method" in render(name, block, full_context())


def test_payment_update_states_the_failed_amount_from_the_event() -> None:
    assert "1500.00" in render("payment_update", "text", full_context())
    assert "1500.00" not in render("payment_update", "text", sparse_context())


def test_renewal_roi_summary_has_roi_renewal_options_and_expansion_incentives() -> None:
    text = render("renewal_roi_summary", "text", full_context())
    assert "Your return on Acme" in text
    assert "Seats in use: 21 of 25" in text
    assert "Renewal options" in text
    assert "Expansion incentives" in text
    assert "2026-04-20" in text


def test_renewal_invitation_offers_self_service_renewal_and_upgrades() -> None:
    text = render("renewal_invitation", "text", full_context())
    assert "https://app.acme.example/billing/renew" in text
    assert "Upgrade options" in text
    assert "https://app.acme.example/billing/plans" in text


def test_upgrade_recommendation_states_volume_against_the_limit() -> None:
    text = render("upgrade_recommendation", "text", full_context())
    assert "53.5 GB" in text and "50 GB" in text


def test_testimonial_request_thanks_for_the_score() -> None:
    assert "10 out of 10" in render("testimonial_request", "text", full_context())


def test_upgrade_prompt_names_the_attempted_feature() -> None:
    assert "audit log" in render("upgrade_prompt", "subject", full_context())
    assert "This feature" in render("upgrade_prompt", "subject", sparse_context())


def test_business_review_text_lists_usage_figures_and_score_breakdown() -> None:
    text = render("digital_business_review", "text", full_context())
    assert "Daily active users: 65%" in text
    assert "Feature adoption: 55%" in text
    assert "Seats: 21 used of 25 licensed" in text
    assert "Logins in the last 7 days: 42" in text
    assert "Account health: 69 out of 100 (yellow)" in text
    for line in (
        "- Product usage: 20 of 40",
        "- Engagement: 25 of 25",
        "- Support health: 15 of 15",
        "- Relationship: 7 of 15",
        "- Financial: 2 of 5",
    ):
        assert line in text


def test_business_review_html_renders_score_breakdown_as_a_table() -> None:
    html = render("digital_business_review", "html", full_context())
    assert ">69</strong>" in html and ">yellow</strong>" in html
    rows = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td></tr>", html)
    assert rows == [
        ("Product usage", "20", "40"),
        ("Engagement", "25", "25"),
        ("Support health", "15", "15"),
        ("Relationship", "7", "15"),
        ("Financial", "2", "5"),
    ]


def test_business_review_for_unscored_account_says_not_scored() -> None:
    text = render("digital_business_review", "text", sparse_context())
    assert "not scored yet" in text
    assert "Product usage" not in text


def test_sample_account_holds_every_model_field(bundle: ir.Bundle) -> None:
    assert set(FULL_ACCOUNT) == set(bundle.model.fields) | {"id"}
