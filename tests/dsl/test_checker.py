"""The checker's messages for unknown names and type errors, each at its place with a caret."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Literal

import pytest

from dsl import ir
from dsl.checker import check
from dsl.diagnostics import render_all
from dsl.parser import parse

MODEL = """\
account fields:
    name: text
    segment: one of enterprise, mid_market, smb, trial
    arr: money
    renewal_date: date
    dau_pct: percent
    feature_adoption: percent
    seats_used: number
    seats_licensed: number
    engaged: boolean
    csm: owner
    primary_contact: contact

events:
    signed
    churned
    login
    project_created
    nps_response: score number, comment text

metric weekly_logins = count login over 7 days

score health "Health":
    component usage max 100:
        100 if dau_pct >= 70%
        0 otherwise
    bands:
        green: 80 to 100
        yellow: 50 to 79
        red: 0 to 49
"""


def _template(name: str, channel: Literal["email", "in_app"]) -> ir.Template:
    text = ir.TemplateText(source="{% block subject %}Hi{% endblock %}{% block text %}Hi{% endblock %}")
    return ir.Template(name=name, channel=channel, subject=text, text=text)


TEMPLATES = {"welcome": _template("welcome", "email"), "tour": _template("tour", "in_app")}


def problems(source: str) -> str:
    """Every diagnostic of `test.play` (with the model above), rendered with its caret."""
    text = textwrap.dedent(source)
    files = [parse(MODEL, "model.play"), parse(text, "test.play")]
    return render_all(check(files, TEMPLATES), {"model.play": MODEL, "test.play": text})


def expected(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_clean_playbook_reports_nothing() -> None:
    assert (
        problems(
            """\
            playbook onboarding "Onboarding":
                trigger: event signed
                audience: segment == "smb" and arr < 25k and not engaged
                exit: event churned or health is red
                goal: feature_adoption >= 30% or seats_used >= 80% of seats_licensed
                reentry: after 30 days

                send email welcome
                day 3:
                    send in_app tour
                    create task "Call {{ account.name }} ({{ health.score }})" for csm.manager due 48h priority high
                    wait until task done or 48h
                    if task open and health.band == "red":
                        update score health
                day 7:
                    unless seen project_created within 7 days:
                        send email welcome to primary_contact
                    if exactly 1 of (engaged, dau_pct > 10, renewal_date < 2026-04-15):
                        set segment = "mid_market"
                    wait until event project_created or 3 days
            """
        )
        == ""
    )


def test_unknown_field_suggests_nearest_name() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            if feature_adoptoin < 20%:
                send email welcome
        """
    ) == expected(
        """
        test.play:3:8: unknown field 'feature_adoptoin' (did you mean 'feature_adoption'?)
                if feature_adoptoin < 20%:
                   ^^^^^^^^^^^^^^^^
        """
    )


def test_unknown_events_in_trigger_exit_seen_and_wait() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signd
            exit: event chruned
            unless seen project_creatd:
                wait until event logn or 3 days
        """
    ) == expected(
        """
        test.play:2:20: unknown event 'signd' (did you mean 'signed'?)
                trigger: event signd
                               ^^^^^
        test.play:3:17: unknown event 'chruned' (did you mean 'churned'?)
                exit: event chruned
                            ^^^^^^^
        test.play:4:17: unknown event 'project_creatd' (did you mean 'project_created'?)
                unless seen project_creatd:
                            ^^^^^^^^^^^^^^
        test.play:5:26: unknown event 'logn' (did you mean 'login'?)
                    wait until event logn or 3 days
                                     ^^^^
        """
    )


def test_reserved_events_are_known_with_their_payload() -> None:
    assert (
        problems(
            """\
            playbook p "P":
                trigger: event task_completed where playbook == "renewal"
                exit: event unsubscribed or event bounced
                send email welcome
            """
        )
        == ""
    )


def test_where_clause_reads_only_payload_keys_and_fields() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event nps_response where scroe >= 9 and arr > 10k
            send email welcome
        """
    ) == expected(
        """
        test.play:2:39: 'scroe' is neither a payload key of event 'nps_response' nor an account field \
(did you mean 'score'?)
                trigger: event nps_response where scroe >= 9 and arr > 10k
                                                  ^^^^^
        """
    )


def test_unknown_metric_score_and_band() -> None:
    assert problems(
        """\
        playbook a "A":
            trigger: weekly_login down 40% week over week for 3 weeks
            update score helth
            if health is purple:
                send email welcome

        playbook b "B":
            trigger: health becomes rde
            send email welcome
        """
    ) == expected(
        """
        test.play:2:14: unknown metric 'weekly_login' (did you mean 'weekly_logins'?)
                trigger: weekly_login down 40% week over week for 3 weeks
                         ^^^^^^^^^^^^
        test.play:3:18: unknown score 'helth' (did you mean 'health'?)
                update score helth
                             ^^^^^
        test.play:4:18: unknown band 'purple' of score health; its bands are green, yellow, red
                if health is purple:
                             ^^^^^^
        test.play:8:29: unknown band 'rde' of score health (did you mean 'red'?)
                trigger: health becomes rde
                                        ^^^
        """
    )


def test_becomes_on_a_number_field_asks_for_a_change_or_a_condition() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: seats_used becomes smb
            send email welcome
        """
    ) == expected(
        """
        test.play:2:14: 'seats_used' is a number: 'becomes' works on a score's bands, a choice of values or \
true/false; write 'seats_used changes to ...' or a condition
                trigger: seats_used becomes smb
                         ^^^^^^^^^^
        """
    )


def test_unknown_template_and_template_of_the_other_channel() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            send email welcom
            send email tour
            send in_app welcome
        """
    ) == expected(
        """
        test.play:3:16: unknown email template 'welcom' (did you mean 'welcome'?)
                send email welcom
                           ^^^^^^
        test.play:4:16: 'tour' is an in-app message template: write 'send in_app tour'
                send email tour
                           ^^^^
        test.play:5:17: 'welcome' is an email template: write 'send email welcome'
                send in_app welcome
                            ^^^^^^^
        """
    )


def test_task_owner_must_end_at_an_owner_or_its_manager() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            create task "A" for csm.mangaer
            create task "B" for cms
            create task "C" for csm.email
            create task "D" for primary_contact due 1 day priority urgnt
        """
    ) == expected(
        """
        test.play:3:29: unknown field 'mangaer' in csm (did you mean 'manager'?)
                create task "A" for csm.mangaer
                                        ^^^^^^^
        test.play:4:25: unknown owner 'cms' (did you mean 'csm'?)
                create task "B" for cms
                                    ^^^
        test.play:5:25: 'csm.email' is text, not an owner: a task is for an owner field or its manager
                create task "C" for csm.email
                                    ^^^^^^^^^
        test.play:6:25: 'primary_contact' is a contact, not an owner: a task is for an owner field or its manager
                create task "D" for primary_contact due 1 day priority urgnt
                                    ^^^^^^^^^^^^^^^
        test.play:6:60: unknown priority 'urgnt' (did you mean 'urgent'?)
                create task "D" for primary_contact due 1 day priority urgnt
                                                                       ^^^^^
        """
    )


def test_email_recipient_must_be_a_contact_field() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            send email welcome to csm
            send email welcome to primary_contcat
        """
    ) == expected(
        """
        test.play:3:27: 'csm' is an owner, not a contact: an email goes to a contact field
                send email welcome to csm
                                      ^^^
        test.play:4:27: unknown contact 'primary_contcat' (did you mean 'primary_contact'?)
                send email welcome to primary_contcat
                                      ^^^^^^^^^^^^^^^
        """
    )


def test_task_title_template_is_checked_at_its_place_in_the_play_file() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            create task "Outreach: {{ account.nmae }} {{ helth.score }}" for csm
        """
    ) == expected(
        """
        test.play:3:39: unknown field 'nmae' in account (did you mean 'name'?)
                create task "Outreach: {{ account.nmae }} {{ helth.score }}" for csm
                                                  ^^^^
        test.play:3:50: unknown variable 'helth' (did you mean 'health'?)
                create task "Outreach: {{ account.nmae }} {{ helth.score }}" for csm
                                                             ^^^^^
        """
    )


def test_type_errors_in_comparisons_percent_of_arithmetic_and_logic() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            audience: renewal_date > 40% and 80% of name > 2 and name + 1 > 3 and seats_used and arr == 5%
            send email welcome
        """
    ) == expected(
        """
        test.play:3:15: cannot compare a date with a percent
                audience: renewal_date > 40% and 80% of name > 2 and name + 1 > 3 and seats_used and arr == 5%
                          ^^^^^^^^^^^^^^^^^^
        test.play:3:45: '% of' needs a number, not text
                audience: renewal_date > 40% and 80% of name > 2 and name + 1 > 3 and seats_used and arr == 5%
                                                        ^^^^
        test.play:3:58: '+' needs a number, not text
                audience: renewal_date > 40% and 80% of name > 2 and name + 1 > 3 and seats_used and arr == 5%
                                                                     ^^^^
        test.play:3:75: 'and' needs a condition, not a number
                audience: renewal_date > 40% and 80% of name > 2 and name + 1 > 3 and seats_used and arr == 5%
                                                                                      ^^^^^^^^^^
        test.play:3:90: cannot compare money with a percent
                audience: renewal_date > 40% and 80% of name > 2 and name + 1 > 3 and seats_used and arr == 5%
                                                                                                     ^^^^^^^^^
        """
    )


def test_enum_compared_with_a_value_not_in_it_suggests_the_nearest() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            audience: segment == "smbb" or segment is enterprize or health.band != "blue"
            set segment = "midmarket"
        """
    ) == expected(
        """
        test.play:3:26: unknown value 'smbb' for segment (did you mean 'smb'?)
                audience: segment == "smbb" or segment is enterprize or health.band != "blue"
                                     ^^^^^^
        test.play:3:47: unknown value 'enterprize' for segment (did you mean 'enterprise'?)
                audience: segment == "smbb" or segment is enterprize or health.band != "blue"
                                                          ^^^^^^^^^^
        test.play:3:76: unknown value 'blue' for health.band; its values are green, yellow, red
                audience: segment == "smbb" or segment is enterprize or health.band != "blue"
                                                                                       ^^^^^^
        test.play:4:19: unknown value 'midmarket' for segment (did you mean 'mid_market'?)
                set segment = "midmarket"
                              ^^^^^^^^^^^
        """
    )


def test_conditions_must_be_conditions_and_set_values_must_fit() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: arr + 1
            if name:
                set arr = "x"
                set arr_total = 3
        """
    ) == expected(
        """
        test.play:2:14: a condition trigger needs a condition, not money
                trigger: arr + 1
                         ^^^^^^^
        test.play:3:8: 'if' needs a condition, not text
                if name:
                   ^^^^
        test.play:4:19: cannot set arr (money) to text
                    set arr = "x"
                              ^^^
        test.play:5:13: unknown field 'arr_total'
                    set arr_total = 3
                        ^^^^^^^^^
        """
    )


def test_path_into_a_value_that_has_no_fields() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: arr.amount > 3 or health.value > 3 or csm.manager.emial == "x"
            send email welcome
        """
    ) == expected(
        """
        test.play:2:18: 'arr' is money and has no field 'amount'
                trigger: arr.amount > 3 or health.value > 3 or csm.manager.emial == "x"
                             ^^^^^^
        test.play:2:39: unknown field 'value' of score health; a score has 'score' and 'band'
                trigger: arr.amount > 3 or health.value > 3 or csm.manager.emial == "x"
                                                  ^^^^^
        test.play:2:64: unknown field 'emial' in csm.manager (did you mean 'email'?)
                trigger: arr.amount > 3 or health.value > 3 or csm.manager.emial == "x"
                                                                           ^^^^^
        """
    )


def test_several_errors_in_one_file_are_all_reported() -> None:
    output = problems(
        """\
        playbook p "P":
            trigger: event signd
            audience: segmnt == "smb"
            day 1:
                send email welcom
            day 2:
                create task "x" for cms
        """
    )
    headlines = [line for line in output.splitlines() if line.startswith("test.play")]
    assert headlines == [
        "test.play:2:20: unknown event 'signd' (did you mean 'signed'?)",
        "test.play:3:15: unknown field 'segmnt' (did you mean 'segment'?)",
        "test.play:5:20: unknown email template 'welcom' (did you mean 'welcome'?)",
        "test.play:7:29: unknown owner 'cms' (did you mean 'csm'?)",
    ]


def test_template_files_are_checked_against_the_model() -> None:
    source = "{% block subject %}{{ account.nmae }}{% endblock %}{% block text %}x{% endblock %}"
    tour = ir.TemplateText(source=source, path="templates/tour.in_app.jinja")
    templates = {"tour": ir.Template(name="tour", channel="in_app", subject=tour, text=tour)}
    diagnostics = check([parse(MODEL, "model.play")], templates)
    assert render_all(diagnostics) == expected(
        """
        templates/tour.in_app.jinja:1:31: unknown field 'nmae' in account (did you mean 'name'?)
            {% block subject %}{{ account.nmae }}{% endblock %}{% block text %}x{% endblock %}
                                          ^^^^
        """
    )


def test_standard_playbooks_check_clean() -> None:
    from dsl.templates import load_templates

    folder = Path(__file__).resolve().parents[2] / "playbooks"
    if not folder.is_dir():
        pytest.skip("no standard playbooks")
    files = [parse(file.read_text(encoding="utf-8"), str(file)) for file in sorted(folder.glob("*.play"))]
    templates, problems_in_templates = load_templates(folder)
    assert problems_in_templates == []
    assert render_all(check(files, templates)) == ""


def test_event_data_in_a_playbook_no_event_starts_is_an_error_since_it_is_always_empty() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: health becomes red
            create task "Red after {{ event.data.score }}" for csm
        """
    ) == expected(
        """
        test.play:3:42: unknown field 'score' in event.data
                create task "Red after {{ event.data.score }}" for csm
                                                     ^^^^^
        """
    )
