"""`do` statements checked against a plugin catalog: activities, parameters and their values."""

from __future__ import annotations

import textwrap

from pydantic import BaseModel

from dsl.checker import check
from dsl.diagnostics import render_all
from dsl.parser import parse
from dsl.plugin_catalog import PluginActivity, PluginCatalog, PluginParam

MODEL = """\
account fields:
    name: text
    arr: money
    engaged: boolean

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
        a.play:4:40: parameter 'urgent' of crm.update takes a condition, not money
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
