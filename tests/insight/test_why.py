"""`playbook why`: the story of accounts that ran through real journeys, sentence by sentence."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cli.main import main
from engine.insight.story import tell
from tests.api.conftest import offline_api
from tests.insight.conftest import ROOT, Ran


def story_lines(ran: Ran, account: str, playbook: str | None = None) -> list[str]:
    story = tell(ran.store, ran.bundle, account, playbook, now=ran.end)
    return [f"{line.at.astimezone(UTC):%m-%d %H:%M} {line.playbook} {line.text}" for line in story.lines]


def test_the_story_of_an_active_journey_ends_with_what_comes_next_and_when(ran: Ran) -> None:
    assert story_lines(ran, "nyco") == [
        '03-03 02:00 churn_trial_rescue Not admitted to churn_trial_rescue on event signed: the audience was not '
        'met, segment == "trial" is false (read segment = "smb").',
        '03-03 02:00 smb_onboarding Entered smb_onboarding ("SMB onboarding, days 0 to 30") on event signed; '
        'the audience segment == "smb" held (segment = "smb").',
        "03-03 02:00 smb_onboarding Day 0: send email welcome to primary_contact was due in quiet hours "
        "(America/New_York): it waited until 2026-03-03 13:00 UTC (2026-03-03 08:00 America/New_York).",
        '03-03 13:00 smb_onboarding Day 0: sent email welcome to kim@nyco.example: "Welcome to Acme, Kim".',
        "03-06 02:00 smb_onboarding Day 3: showed in-app message core_workflows_tutorial: "
        "\"Learn Acme's three core workflows in 5 minutes\".",
        "03-10 02:00 smb_onboarding Day 7: `unless seen project_created` was false, so its block ran "
        "(read seen project_created = false).",
        "03-10 02:00 smb_onboarding Day 7: send email first_project to primary_contact was due in quiet hours "
        "(America/New_York): it waited until 2026-03-10 12:00 UTC (2026-03-10 08:00 America/New_York).",
        "03-10 12:00 smb_onboarding Day 7: email first_project to kim@nyco.example was not sent: the address is "
        "on the suppression list (unsubscribed).",
        "03-17 02:00 smb_onboarding Day 14: send email webinar_invite to primary_contact was due in quiet hours "
        "(America/New_York): it waited until 2026-03-17 12:00 UTC (2026-03-17 08:00 America/New_York).",
        "03-17 12:00 smb_onboarding Day 14: email webinar_invite to kim@nyco.example was not sent: the address "
        "is on the suppression list (unsubscribed).",
        "03-24 02:00 smb_onboarding Next in smb_onboarding, at 2026-03-24 02:00 UTC (2026-03-23 22:00 "
        "America/New_York): day 21: if tasks_completed >= 10.",
    ]
    story = tell(ran.store, ran.bundle, "nyco", "smb_onboarding", now=ran.end)
    [journey] = story.journeys
    assert (journey.status, journey.next_at) == ("active", datetime(2026, 3, 24, 2, tzinfo=UTC))


def test_a_branch_a_quiet_hours_delay_and_a_task_done_are_told_with_what_they_read(ran: Ran) -> None:
    assert story_lines(ran, "hooli", "churn_trial_rescue") == [
        '03-02 09:00 churn_trial_rescue Entered churn_trial_rescue ("Trial rescue at day 14") on event signed; '
        'the audience segment == "trial" held (segment = "trial").',
        "03-16 09:00 churn_trial_rescue Day 14: `if feature_adoption < 30%` was true, so its block ran "
        "(read feature_adoption = 8%).",
        "03-16 09:00 churn_trial_rescue Day 14: send email trial_rescue to primary_contact was due in quiet hours "
        "(America/Los_Angeles): it waited until 2026-03-16 15:00 UTC (2026-03-16 08:00 America/Los_Angeles).",
        # the task after the held email is opened at once: only the email waits for quiet hours to end
        '03-16 09:00 churn_trial_rescue Day 14: opened task "Trial rescue outreach: Hooli" for sam@vendor.example, '
        "due 2026-03-18 09:00 UTC (2026-03-18 02:00 America/Los_Angeles), normal priority.",
        '03-16 15:00 churn_trial_rescue Day 14: sent email trial_rescue to gavin@hooli.example: '
        '"Gavin, want a hand with your Acme trial?".',
        "03-16 15:00 churn_trial_rescue Completed churn_trial_rescue: no steps left.",
        '03-17 16:00 churn_trial_rescue Task "Trial rescue outreach: Hooli" was marked done.',
    ]


def test_an_exit_ends_the_story_and_nothing_is_scheduled(ran: Ran) -> None:
    lines = story_lines(ran, "techcorp", "smb_onboarding")
    assert lines[-1] == "03-18 12:00 smb_onboarding Left smb_onboarding on its exit rule: event churned."
    assert "03-09 08:00 smb_onboarding Day 7: `unless seen project_created` was true, so its block was skipped " \
           "(read seen project_created = true)." in lines
    assert not any(" Next in " in line for line in lines)


def test_as_of_an_earlier_moment_a_journey_that_ended_later_is_still_active(ran: Ran) -> None:
    story = tell(ran.store, ran.bundle, "techcorp", "smb_onboarding", now=datetime(2026, 3, 10, tzinfo=UTC))
    assert [j.status for j in story.journeys] == ["active"]
    assert story.lines[-1].kind == "next"
    assert story.lines[-1].text == ("Next in smb_onboarding, at 2026-03-16 08:00 UTC (2026-03-16 09:00 "
                                    "Europe/Berlin): day 14: send email webinar_invite to primary_contact.")


def test_why_command_reads_the_store_and_prints_the_story(ran: Ran, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["why", "nyco", "smb_onboarding", "--database-url", ran.store.url, "--playbooks",
            str(ROOT / "playbooks"), "--at", ran.end.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("nyco in smb_onboarding, as of 2026-03-21 08:00 UTC (account time: America/New_York)")
    assert "2026-03-10 12:00  smb_onboarding  Day 7: email first_project to kim@nyco.example was not sent" in out
    assert main([*args, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["journeys"][0]["next_at"] == "2026-03-24T02:00:00Z"
    assert main(["why", "nobody", "--database-url", ran.store.url, "--playbooks", str(ROOT / "playbooks")]) == 1
    assert "no account 'nobody'" in capsys.readouterr().err


async def test_why_route_tells_the_same_story(ran: Ran) -> None:
    async with offline_api(ran.store, ran.bundle) as api:
        response = await api.get("/v1/accounts/hooli/why", params={"at": ran.end.isoformat()})
        missing = await api.get("/v1/accounts/nobody/why")
    assert response.status_code == 200
    texts = [line["text"] for line in response.json()["lines"]]
    assert texts == [line.text for line in tell(ran.store, ran.bundle, "hooli", now=ran.end).lines]
    assert missing.status_code == 404
