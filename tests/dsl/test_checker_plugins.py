"""`do` statements checked against a plugin catalog: activities, parameters and their values."""

from __future__ import annotations

import textwrap
from typing import Literal

from pydantic import BaseModel, Field

from dsl.checker import check
from dsl.diagnostics import render_all
from dsl.parser import parse
from dsl.plugin_catalog import PluginActivity, PluginCatalog, PluginParam

MODEL = """\
account fields:
    name: text
    arr: money
    engaged: boolean
    dau_pct: percent
    renewal_date: date
    csm: owner
    urgency: one of low, high
    mood: one of calm, angry

events:
    signed
"""

CATALOG = PluginCatalog.of(
    [
        PluginActivity.of(
            "slack.notify",
            [PluginParam("channel", "text", required=True), PluginParam("text", "text", required=True)],
        ),
        PluginActivity.of(
            "crm.update", [PluginParam("amount", "number"), PluginParam("urgent", "boolean", required=False)]
        ),
    ]
)


def problems(source: str, plugins: PluginCatalog | None = CATALOG) -> str:
    text = textwrap.dedent(source)
    files = [parse(MODEL, "model.play"), parse(text, "a.play")]
    return render_all(check(files, {}, plugins), {"model.play": MODEL, "a.play": text})


def expected(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_known_activity_with_fitting_parameters_reports_nothing() -> None:
    source = """\
        playbook p "P":
            trigger: event signed
            do slack.notify channel="#cs" text="New: {{ account.name }}"
            do crm.update amount=arr urgent=engaged
            do crm.update amount=25k urgent=true
        """
    assert problems(source) == ""


def test_unknown_activity_suggests_nearest_name() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do slack.notfy channel="#cs" text="x"
        """
    ) == expected(
        """
        a.play:3:8: unknown activity 'slack.notfy' (did you mean 'slack.notify'?)
                do slack.notfy channel="#cs" text="x"
                   ^^^^^^^^^^^
        """
    )


def test_unknown_missing_repeated_and_mistyped_parameters() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do slack.notify chanel="#cs"
            do crm.update amount="lots" urgent=arr urgent=true
        """
    ) == expected(
        """
        a.play:3:8: missing parameter 'channel' for slack.notify
                do slack.notify chanel="#cs"
                   ^^^^^^^^^^^^
        a.play:3:8: missing parameter 'text' for slack.notify
                do slack.notify chanel="#cs"
                   ^^^^^^^^^^^^
        a.play:3:21: unknown parameter 'chanel' for slack.notify (did you mean 'channel'?)
                do slack.notify chanel="#cs"
                                ^^^^^^
        a.play:4:26: parameter 'amount' of crm.update takes a number, not text
                do crm.update amount="lots" urgent=arr urgent=true
                                     ^^^^^^
        a.play:4:40: parameter 'urgent' of crm.update takes a condition, not money field 'arr'
                do crm.update amount="lots" urgent=arr urgent=true
                                                   ^^^
        a.play:4:44: parameter 'urgent' is given twice
                do crm.update amount="lots" urgent=arr urgent=true
                                                       ^^^^^^
        """
    )


def test_without_a_catalog_activities_are_not_checked_but_text_templates_are() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do anything.at_all text="{{ account.nmae }}"
        """,
        plugins=None,
    ) == expected(
        """
        a.play:3:41: unknown field 'nmae' in account (did you mean 'name'?)
                do anything.at_all text="{{ account.nmae }}"
                                                    ^^^^
        """
    )


def test_catalog_is_built_from_a_pydantic_parameters_schema() -> None:
    class NotifyParams(BaseModel):
        """Post a message to a Slack channel."""

        channel: str
        text: str
        mention: bool = False
        retries: int | None = None

    activity = PluginActivity.from_json_schema("slack.notify", NotifyParams.model_json_schema())
    assert activity.description == "Post a message to a Slack channel."
    assert dict(activity.params) == {
        "channel": PluginParam("channel", "text", required=True),
        "text": PluginParam("text", "text", required=True),
        "mention": PluginParam("mention", "boolean", required=False),
        "retries": PluginParam("retries", "number", required=False),
    }


class TicketParams(BaseModel):
    """Open a ticket."""

    title: str
    requester_email: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due_days: int = Field(default=3, ge=0, le=365)


TICKETS = PluginCatalog.of([PluginActivity.from_json_schema("desk.ticket", TicketParams.model_json_schema())])


def test_a_parameter_that_takes_one_of_a_list_refuses_another_value_and_lists_the_allowed_ones() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do desk.ticket title="t" priority="super"
            do desk.ticket title="t" priority="hihg"
            do desk.ticket title="t" priority=mood
            do desk.ticket title="t" priority=urgency
            do desk.ticket title="t" priority="{{ account.urgency }}"
        """,
        TICKETS,
    ) == expected(
        """
        a.play:3:39: unknown value 'super' for parameter 'priority' of desk.ticket; \
it takes one of low, normal, high, urgent
                do desk.ticket title="t" priority="super"
                                                  ^^^^^^^
        a.play:4:39: unknown value 'hihg' for parameter 'priority' of desk.ticket (did you mean 'high'?); \
it takes one of low, normal, high, urgent
                do desk.ticket title="t" priority="hihg"
                                                  ^^^^^^
        a.play:5:39: parameter 'priority' of desk.ticket takes one of low, normal, high, urgent, \
not field 'mood' (it may be calm, angry)
                do desk.ticket title="t" priority=mood
                                                  ^^^^
        """
    )


def test_a_number_or_an_owner_field_for_a_text_parameter_is_refused_with_the_template_that_converts_it() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do desk.ticket title="t" requester_email=dau_pct
            do desk.ticket title="t" requester_email=csm
            do desk.ticket title=renewal_date requester_email=csm.email
        """,
        TICKETS,
    ) == expected(
        """
        a.play:3:46: parameter 'requester_email' of desk.ticket takes text, not a percent field 'dau_pct': \
write requester_email="{{ account.dau_pct }}" to give it as text
                do desk.ticket title="t" requester_email=dau_pct
                                                         ^^^^^^^
        a.play:4:46: parameter 'requester_email' of desk.ticket takes text, not an owner field 'csm': \
write requester_email="{{ account.csm }}" to give it as text
                do desk.ticket title="t" requester_email=csm
                                                         ^^^
        """
    )


def test_a_number_outside_the_bounds_of_its_parameter_is_refused() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do desk.ticket title="t" due_days=400
            do desk.ticket title="t" due_days=-1
        """,
        TICKETS,
    ) == expected(
        """
        a.play:3:39: parameter 'due_days' of desk.ticket takes at most 365, not 400
                do desk.ticket title="t" due_days=400
                                                  ^^^
        a.play:4:39: parameter 'due_days' of desk.ticket takes at least 0, not -1
                do desk.ticket title="t" due_days=-1
                                                  ^^
        """
    )


def test_an_unknown_filter_or_test_in_a_parameter_is_an_error_with_the_nearest_name() -> None:
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do slack.notify channel="#cs" text="{{ account.name | nosuchfilter }} {{ account.name | uper }}"
            do slack.notify channel="#cs" text="{% if account.name is nosuchtest %}x{% endif %}"
        """
    ) == expected(
        """
        a.play:3:59: unknown filter 'nosuchfilter'
                do slack.notify channel="#cs" text="{{ account.name | nosuchfilter }} {{ account.name | uper }}"
                                                                      ^^^^^^^^^^^^
        a.play:3:93: unknown filter 'uper' (did you mean 'upper'?)
                do slack.notify channel="#cs" text="{{ account.name | nosuchfilter }} {{ account.name | uper }}"
                                                                                                        ^^^^
        a.play:4:63: unknown test 'nosuchtest'
                do slack.notify channel="#cs" text="{% if account.name is nosuchtest %}x{% endif %}"
                                                                          ^^^^^^^^^^
        """
    )


def test_what_a_failed_call_does_instead_is_checked_like_any_statement() -> None:
    source = """\
        playbook p "P":
            trigger: event signed
            do crm.update amount=arr else: create task "Update {{ account.name }} by hand" for csm
            do crm.update amount=arr else: do slack.notify channel="#cs" text="crm down" else: set name = "x"
        """
    assert problems(source) == ""
    assert problems(
        """\
        playbook p "P":
            trigger: event signed
            do crm.update amount=arr else: set nme = "x"
        """
    ).splitlines()[0] == "a.play:3:40: unknown field 'nme' (did you mean 'name'?)"
