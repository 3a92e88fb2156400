# ruff: noqa: E501  (the expected checker output quotes whole source lines)
"""Work items in the language: task types, task templates and a task's type, reason, description
and checklist; what the checker says of each mistake, what lowering makes, how the formatter prints."""

from __future__ import annotations

import textwrap

import pytest

from dsl import DiagnosticError, ir
from dsl.checker import check
from dsl.diagnostics import render_all
from dsl.formatter import format_source
from dsl.lowering import lower
from dsl.parser import parse
from tests.dsl.test_checker import MODEL, TEMPLATES

WORK_ITEMS = """\
task types: risk, expansion, renewal, onboarding, lifecycle

task template renewal_call:
    title "Renewal call: {{ account.name }}"
    type renewal
    reason renewal_due
    due 5 days
    priority high
    description "Renewal on {{ account.renewal_date }}"
    step "Review the usage report", due 2 business days
    step "Send the proposal", due 4 days
    step "Call"
"""


def problems(source: str, declarations: str = WORK_ITEMS) -> str:
    text = textwrap.dedent(source)
    files = [parse(MODEL, "model.play"), parse(declarations, "tasks.play"), parse(text, "test.play")]
    sources = {"model.play": MODEL, "tasks.play": declarations, "test.play": text}
    return render_all(check(files, TEMPLATES), sources)


def expected(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def tasks_of(source: str) -> list[ir.CreateTask]:
    files = [parse(MODEL, "model.play"), parse(WORK_ITEMS, "tasks.play"), parse(textwrap.dedent(source), "test.play")]
    bundle = lower(files, TEMPLATES)
    return [st for pb in bundle.playbooks.values() for step in pb.steps for st in step.body
            if isinstance(st, ir.CreateTask)]


def test_a_typed_task_and_a_task_from_a_template_check_clean() -> None:
    assert problems(
        """\
        playbook risk:
            trigger: event signed
            create task "Usage fell" for csm type risk reason low_usage due 2 days description "{{ account.dau_pct }}"
            create task renewal_call for csm priority urgent
        """
    ) == ""


def test_an_unknown_task_type_suggests_the_nearest_declared_one() -> None:
    assert problems(
        """\
        playbook risk:
            trigger: event signed
            create task "Call" for csm type rsk
        """
    ) == expected(
        """\
        test.play:3:37: unknown task type 'rsk' (did you mean 'risk'?)
                create task "Call" for csm type rsk
                                                ^^^
        """
    )


def test_a_task_type_when_none_is_declared_says_how_to_declare_them() -> None:
    assert problems(
        """\
        playbook risk:
            trigger: event signed
            create task "Call" for csm type risk
        """,
        declarations="task types: expansion\n",
    ) == expected(
        """\
        test.play:3:37: unknown task type 'risk'; task types are expansion
                create task "Call" for csm type risk
                                                ^^^^
        """
    )
    files = [parse(MODEL, "model.play"), parse('playbook p:\n    trigger: event signed\n'
                                               '    create task "Call" for csm type risk\n', "p.play")]
    assert [d.message for d in check(files, TEMPLATES)] == [
        "unknown task type 'risk': no task types are declared; declare them once, e.g. 'task types: risk, renewal'"]


def test_an_unknown_task_template_suggests_the_nearest_one() -> None:
    assert problems(
        """\
        playbook renewal:
            trigger: event signed
            create task renewal_cal for csm
        """
    ) == expected(
        """\
        test.play:3:17: unknown task template 'renewal_cal' (did you mean 'renewal_call'?)
                create task renewal_cal for csm
                            ^^^^^^^^^^^
        """
    )


def test_a_task_template_without_a_title_or_with_bad_lines_is_reported_line_by_line() -> None:
    declarations = """\
task types: risk
task types: risk

task template call:
    type rsk
    priority hihg
    step "Look at {{ account.nam }}", due 0 days
"""
    assert problems("", declarations) == expected(
        """\
        tasks.play:2:13: task type 'risk' is declared twice (first at tasks.play:1)
            task types: risk
                        ^^^^
        tasks.play:4:15: task template 'call' has no title: write a line 'title "..."' in it
            task template call:
                          ^^^^
        tasks.play:5:10: unknown task type 'rsk' (did you mean 'risk'?)
                type rsk
                     ^^^
        tasks.play:6:14: unknown priority 'hihg' (did you mean 'high'?)
                priority hihg
                         ^^^^
        tasks.play:7:30: unknown field 'nam' in account (did you mean 'name'?)
                step "Look at {{ account.nam }}", due 0 days
                                         ^^^
        tasks.play:7:43: step due '0 days' is no time: use a positive duration
                step "Look at {{ account.nam }}", due 0 days
                                                      ^^^^^^
        """
    )


def test_a_line_written_twice_in_a_task_template_is_refused_at_the_second() -> None:
    with pytest.raises(DiagnosticError) as raised:
        parse('task template call:\n    title "a"\n    title "b"\n', "t.play")
    assert str(raised.value).startswith("t.play:3:5: 'title' is given twice in task template 'call'")


def test_a_keyword_of_a_task_after_a_text_stays_a_name_in_a_do_statement() -> None:
    source = 'playbook p:\n    trigger: event signed\n    do desk.ticket title="t" priority="high" due="x"\n'
    assert parse(source, "p.play").items


def test_a_task_from_a_template_takes_its_lines_and_the_statement_wins() -> None:
    [typed, templated] = tasks_of(
        """\
        playbook renewal:
            trigger: event signed
            create task "Usage fell" for csm type risk reason low_usage description "Look"
            create task renewal_call for csm priority urgent
        """
    )
    assert typed == ir.CreateTask(title="Usage fell", owner=("csm",), task_type="risk", reason="low_usage",
                                  description="Look")
    assert templated == ir.CreateTask(
        title="Renewal call: {{ account.name }}", owner=("csm",), due=ir.Duration(amount=5, unit="days"),
        priority="urgent", task_type="renewal", reason="renewal_due",
        description="Renewal on {{ account.renewal_date }}", template="renewal_call",
        checklist=(ir.ChecklistStep(title="Review the usage report", due=ir.Duration(amount=2, unit="business_days")),
                   ir.ChecklistStep(title="Send the proposal", due=ir.Duration(amount=4, unit="days")),
                   ir.ChecklistStep(title="Call")))


def test_a_task_without_work_item_keys_keeps_its_json_and_so_its_playbook_version() -> None:
    task = ir.CreateTask(title="Call", owner=("csm",))
    assert task.model_dump_json() == (
        '{"kind":"create_task","title":"Call","owner":["csm"],"due":null,"priority":"normal"}')


def test_the_formatter_prints_task_types_templates_and_options_in_the_canonical_layout() -> None:
    source = ('task types:  risk,renewal\ntask template call:\n    step "A" ,  due 2 days\n    title "T"\n'
              'playbook p:\n    trigger: event signed\n'
              '    create task call for csm   description "D"\n'
              '    create task "X" for csm priority high  reason r type risk\n')
    assert format_source(source, "f.play") == (
        'task types: risk, renewal\n\ntask template call:\n    step "A", due 2 days\n    title "T"\n\n'
        'playbook p:\n    trigger: event signed\n'
        '    create task call for csm description "D"\n'
        '    create task "X" for csm type risk reason r priority high\n')


def test_dedupe_needs_a_type_and_a_reason_on_the_task_or_in_its_template() -> None:
    assert problems(
        """\
        playbook risk:
            trigger: event signed
            create task "Risk" for csm dedupe by type and reason
            create task "Risk" for csm type risk dedupe by type and reason
            create task renewal_call for csm dedupe by type and reason
        """
    ) == expected(
        """\
        test.play:3:32: 'dedupe by type and reason' needs 'type NAME' and 'reason NAME' on the task or in its template
                create task "Risk" for csm dedupe by type and reason
                                           ^^^^^^^^^^^^^^^^^^^^^^^^^
        test.play:4:42: 'dedupe by type and reason' needs 'reason NAME' on the task or in its template
                create task "Risk" for csm type risk dedupe by type and reason
                                                     ^^^^^^^^^^^^^^^^^^^^^^^^^
        """
    )


def test_a_deduped_task_lowers_to_dedupe_and_prints_back_in_place() -> None:
    [task] = tasks_of(
        """\
        playbook risk:
            trigger: event signed
            create task "Risk" for csm type risk reason churn_risk dedupe by type and reason description "D"
        """
    )
    assert (task.dedupe, task.task_type, task.reason) == (True, "risk", "churn_risk")
    source = ('playbook p:\n    trigger: event signed\n'
              '    create task "X" for csm dedupe  by type and reason type risk reason r\n')
    assert format_source(source, "f.play") == (
        'playbook p:\n    trigger: event signed\n'
        '    create task "X" for csm type risk reason r dedupe by type and reason\n')


def test_a_task_completed_trigger_reads_the_outcome_type_and_reason_of_the_closed_task() -> None:
    files = [parse(MODEL, "model.play"), parse(WORK_ITEMS, "tasks.play"), parse(
        'playbook exit_interview:\n    trigger: event task_completed where type == "risk" and outcome == "churned"\n'
        '    create task "Exit interview" for csm\n', "exit.play")]
    assert check(files, TEMPLATES) == []
    trigger = lower(files, TEMPLATES).playbooks["exit_interview"].trigger
    assert isinstance(trigger, ir.EventTrigger) and trigger.where is not None
    assert trigger.where.model_dump_json().count('"kind":"event_field"') == 2  # not account fields


TEAMS = 'team smb_csms: "ana@vendor.example", "ben@vendor.example"\n'


def test_a_task_assigned_among_a_team_checks_clean_and_lowers_with_the_team_in_the_model() -> None:
    source = 'playbook p:\n    trigger: event signed\n    create task "Call" for smb_csms by round robin due 2 days\n'
    files = [parse(MODEL, "model.play"), parse(TEAMS, "team.play"), parse(source, "p.play")]
    assert check(files, TEMPLATES) == []
    bundle = lower(files, TEMPLATES)
    assert bundle.model.teams == {"smb_csms": ("ana@vendor.example", "ben@vendor.example")}
    [task] = bundle.playbooks["p"].steps[0].body
    assert isinstance(task, ir.CreateTask) and (task.owner, task.assign) == (("smb_csms",), "round_robin")


def test_a_bundle_without_teams_keeps_its_json() -> None:
    assert "teams" not in ir.Model().model_dump_json()


def test_team_and_assignment_mistakes_are_reported_at_their_place() -> None:
    assert problems(
        """\
        playbook p:
            trigger: event signed
            create task "Call" for smb_csm by round robin
            create task "Call" for csm.manager by least loaded
        """,
        declarations=TEAMS + 'team bad: "ana", "x@y.example", "X@y.example"\n',
    ) == expected(
        """\
        tasks.play:2:11: team member 'ana' is not an email address
            team bad: "ana", "x@y.example", "X@y.example"
                      ^^^^^
        tasks.play:2:33: 'X@y.example' is listed twice in team 'bad'
            team bad: "ana", "x@y.example", "X@y.example"
                                            ^^^^^^^^^^^^^
        test.play:3:28: unknown team 'smb_csm' (did you mean 'smb_csms'?)
                create task "Call" for smb_csm by round robin
                                       ^^^^^^^
        test.play:4:28: 'by least loaded' assigns among a team: 'csm.manager' is a field path, not a team name
                create task "Call" for csm.manager by least loaded
                                       ^^^^^^^^^^^
        """
    )


def test_the_formatter_prints_a_team_and_an_assignment() -> None:
    source = ('team  t:"a@x.example" ,"b@x.example"\nplaybook p:\n    trigger: event signed\n'
              '    create task "X" for t  by   least loaded priority high\n')
    assert format_source(source, "f.play") == (
        'team t: "a@x.example", "b@x.example"\n\nplaybook p:\n    trigger: event signed\n'
        '    create task "X" for t by least loaded priority high\n')


def test_escalation_mistakes_are_reported_at_their_place() -> None:
    assert problems(
        """\
        playbook risk:
            trigger: event signed
            create task "A" for csm due 2 days escalate to manager after 1 business day
            create task "B" for csm escalate to manager after 1 day
            create task "C" for csm due 1 day escalate to primary_contact after 0 days
            create task "D" for smb_csms by round robin due 1 day escalate to manager after 2h
            create task "E" for smb_csms by round robin due 1 day escalate to csm.manager after 2h
            create task "F" for csm due 1 day escalate to mgr after 1 day
        """,
        declarations=WORK_ITEMS + TEAMS,
    ) == expected(
        """\
        test.play:4:29: 'escalate' counts from the task's due time: give the task a 'due'
                create task "B" for csm escalate to manager after 1 day
                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        test.play:5:51: 'primary_contact' is a contact, not an owner: an item escalates to an owner field
                create task "C" for csm due 1 day escalate to primary_contact after 0 days
                                                              ^^^^^^^^^^^^^^^
        test.play:5:73: 'after 0 days' is no time: an item escalates a positive time after it became overdue
                create task "C" for csm due 1 day escalate to primary_contact after 0 days
                                                                                    ^^^^^^
        test.play:6:71: a task for team 'smb_csms' has no one manager: name an owner field to escalate to (e.g. 'escalate to csm.manager')
                create task "D" for smb_csms by round robin due 1 day escalate to manager after 2h
                                                                                  ^^^^^^^
        test.play:8:51: unknown owner 'mgr'
                create task "F" for csm due 1 day escalate to mgr after 1 day
                                                              ^^^
        """
    )


def test_escalate_to_manager_lowers_to_the_owners_manager_and_a_template_gives_it_with_its_due() -> None:
    declarations = WORK_ITEMS.replace("    priority high\n", "    priority high\n    escalate to manager after 1 business day\n")
    files = [parse(MODEL, "model.play"), parse(declarations, "tasks.play"), parse(
        "playbook p:\n    trigger: event signed\n    create task renewal_call for csm\n"
        '    create task "X" for csm.manager due 1 day escalate to csm after 4h\n', "p.play")]
    assert check(files, TEMPLATES) == []
    from_template, inline = lower(files, TEMPLATES).playbooks["p"].steps[0].body
    assert isinstance(from_template, ir.CreateTask) and from_template.escalation == ir.Escalation(
        to=("csm", "manager"), after=ir.Duration(amount=1, unit="business_days"))
    assert isinstance(inline, ir.CreateTask) and inline.escalation is not None
    assert (inline.escalation.to, inline.escalation.after.seconds()) == (("csm",), 4 * 3600)


def test_the_formatter_prints_an_escalation_before_the_description() -> None:
    source = ('playbook p:\n    trigger: event signed\n'
              '    create task "X" for csm escalate to  manager after 1 business day due 2 days description "D"\n')
    assert format_source(source, "f.play") == (
        'playbook p:\n    trigger: event signed\n'
        '    create task "X" for csm due 2 days escalate to manager after 1 business day description "D"\n')
