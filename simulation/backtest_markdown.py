"""`playbook backtest --format markdown`: the backtest as a pull-request comment.

A reviewer reads it on the pull request that changes the playbooks, as Terraform's plan is read
on an infrastructure change. It has:

- a title line and one line each for the history compared and what changed;
- per playbook with differences, its summary sentence and a table of what each version did in
  the window, kind by kind (entered, emails, tasks, in-app messages, suppressed sends …): before
  (base), after (head) and the difference;
- the accounts that differ most (up to 10 per playbook), each with what differs and why, and
  the rest of them folded in a `<details>` block.

Everything comes from the backtest itself (`simulation/backtest_report.py`): the counts, the
differences and their reasons (`Difference.why`); nothing is worked out again here. GitHub cuts
a comment at 65,536 characters: past `MAX_CHARACTERS`, the folded accounts are left out with a
note saying so.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from engine.records import ActionRecord
from simulation.backtest_diff import SCORES, Difference
from simulation.backtest_report import Backtest, changed_parts, changed_playbooks, summary_sentence

__all__ = ["ACCOUNTS_SHOWN", "KIND_NAMES", "MAX_CHARACTERS", "to_markdown"]

ACCOUNTS_SHOWN = 10
MAX_CHARACTERS = 60_000

# The rows of a playbook's table, in this order; a kind neither version did is left out.
KIND_NAMES: dict[str, str] = {
    "enrolled": "entered", "email": "emails", "in_app": "in-app messages", "task": "tasks",
    "suppressed": "sends suppressed", "call": "plugin calls", "set": "fields set", "score": "score changes",
    "goal_reached": "goals reached", "completed": "completed", "exited": "exited", "failed": "failed steps",
}


def _cell(text: str) -> str:
    """Text that stays inside one table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _delta(before: int, after: int) -> str:
    change = after - before
    return f"+{change:,}" if change > 0 else f"{change:,}"


def _totals(actions: list[ActionRecord], since: datetime, until: datetime) -> Counter[tuple[str, str]]:
    """How many actions of each (playbook, kind) a version did in the window."""
    return Counter((action.playbook if action.playbook is not None else SCORES, action.kind)
                   for action in actions if since <= action.at < until and action.kind in KIND_NAMES)


def _table(playbook: str, before: Counter[tuple[str, str]], after: Counter[tuple[str, str]]) -> list[str]:
    lines = ["| | before (base) | after (head) | change |", "| --- | ---: | ---: | ---: |"]
    for kind, name in KIND_NAMES.items():
        b, a = before[(playbook, kind)], after[(playbook, kind)]
        if b or a:
            lines.append(f"| {name} | {b:,} | {a:,} | {_delta(b, a)} |")
    return lines


def _account_row(account: str, differences: list[Difference]) -> str:
    what = "<br>".join(_cell(f"{d.at:%Y-%m-%d %H:%M} {d.label}: {d.outcome()}") for d in differences)
    why = "<br>".join(_cell("; ".join(d.why)) for d in differences)  # line by line beside what differs
    return f"| {_code(account)} | {what} | {why} |"


def _accounts_table(rows: list[tuple[str, list[Difference]]]) -> list[str]:
    return ["| account | what differs | why |", "| --- | --- | --- |",
            *(_account_row(account, differences) for account, differences in rows)]


def _by_account(differences: list[Difference]) -> list[tuple[str, list[Difference]]]:
    """Accounts with the most differences first, then by name."""
    grouped: dict[str, list[Difference]] = {}
    for difference in differences:
        grouped.setdefault(difference.account, []).append(difference)
    return sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))


def _playbook_section(result: Backtest, playbook: str, before: Counter[tuple[str, str]],
                      after: Counter[tuple[str, str]], *, shown: int, fold: bool) -> list[str]:
    comparison = result.comparison
    lines = [f"#### {_code(playbook)}", "",
             summary_sentence(playbook, comparison.counts[playbook], result.since, result.until), "",
             *_table(playbook, before, after), ""]
    accounts = _by_account([d for d in comparison.differences if d.playbook == playbook])
    top, rest = accounts[:shown], accounts[shown:]
    lines += [f"Accounts that differ: {len(accounts):,}" + (f" (the {len(top)} with the most differences)"
                                                            if rest else ""), "", *_accounts_table(top), ""]
    if rest and fold:
        lines += ["<details>", f"<summary>{len(rest):,} more accounts</summary>", "",
                  *_accounts_table(rest), "", "</details>", ""]
    elif rest:
        lines += [f"{len(rest):,} more accounts are left out to keep this comment within GitHub's limit: "
                  "run `playbook backtest --json` for all of them.", ""]
    return lines


def _render(result: Backtest, *, shown: int, fold: bool) -> str:
    comparison, history = result.comparison, result.history
    last = result.until - timedelta(microseconds=1)  # `until` is exclusive
    period = f"{result.since:%Y-%m-%d} to {last:%Y-%m-%d}"
    changed = changed_parts(result.base.bundle, result.head.bundle)
    lines = [f"### Playbook backtest: {_code(result.head_label)} (head) against {_code(result.base_label)} (base)",
             "",
             f"Replayed {history.stored:,} stored objects of {len(history.accounts):,} accounts "
             f"from {period}. Changed: {', '.join(changed) or 'nothing'}.", ""]
    for side, run in (("base", result.base), ("head", result.head)):
        if run.rejected:
            lines += [f"> {len(run.rejected):,} stored objects do not fit the {side} version's model and were "
                      f"left out of its run (first: {_cell(run.rejected[0].reason)}).", ""]
    before = _totals(result.base.actions, result.since, result.until)
    after = _totals(result.head.actions, result.since, result.until)
    playbooks = comparison.playbooks()
    if not playbooks:
        lines += ["**No difference**: both versions would have done the same with this history.", ""]
    for playbook in playbooks:
        lines += _playbook_section(result, playbook, before, after, shown=shown, fold=fold)
    quiet = sorted(changed_playbooks(result.base.bundle, result.head.bundle) - set(playbooks) - {SCORES})
    if quiet:
        lines += ["Changed but no different with this history: " + ", ".join(_code(p) for p in quiet) + ".", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_markdown(result: Backtest, *, accounts_shown: int = ACCOUNTS_SHOWN,
                max_characters: int = MAX_CHARACTERS) -> str:
    """The backtest as a pull-request comment in GitHub-flavoured Markdown.

    `accounts_shown` accounts per playbook are listed, the rest folded; when the comment would be
    longer than `max_characters`, the folded accounts are left out.
    """
    text = _render(result, shown=accounts_shown, fold=True)
    return text if len(text) <= max_characters else _render(result, shown=accounts_shown, fold=False)
