"""The results of a test run for people: `ok`/`FAIL` per test, a diff per failed expectation.

```
playbooks/tests/onboarding.test.yaml
  ok    welcome email to the primary contact on day 0
  FAIL  rescue task when adoption stays low
        line 18: expected at least 1 of  task: Onboarding rescue, on day 30
          found none; the closest:
          2026-02-04 09:00 UTC (day 30)  techcorp  smb_onboarding  task "Onboarding rescue: TechCorp" …
            priority: expected urgent, got high

2 tests: 1 passed, 1 failed (9.8 s)
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulation.playbook_tests.matching import INSTANTS, LISTED, Verdict, moment_text
from simulation.playbook_tests.suite import CaseResult, SuiteResult

__all__ = ["failure_text", "summary", "text_report"]

# Shown for every action, when it has them, besides the keys an expectation names.
_SHOWN = ("template", "title", "to", "owner", "priority", "due", "reason", "what", "outcome", "subject")


def _value(key: str, value: Any) -> str:
    text = str(value)
    if key in INSTANTS and isinstance(value, str) and "T" in text:
        text = datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
    return f'"{text}"' if " " in text else text


def action_line(action: dict[str, Any], start: datetime, keys: list[str]) -> str:
    """One action: when, whose, which playbook, its kind and the keys that matter."""
    at = moment_text(datetime.fromisoformat(action["at"]), start)
    shown = [key for key in _SHOWN if key in action] + [k for k in keys if k not in _SHOWN and k in action]
    details = " ".join(f"{key}={_value(key, action[key])}" for key in shown
                       if key not in ("kind", "account", "playbook"))
    return f"{at}  {action.get('account')}  {action.get('playbook') or '-'}  {action.get('kind')}  {details}".rstrip()


def failure_text(verdict: Verdict, start: datetime) -> list[str]:
    """The lines that explain one failed expectation."""
    expectation = verdict.expectation
    keys = list(expectation.fields)
    lines = [f"line {expectation.place.line}: expected {expectation.count.wants()}: {expectation.text}"]
    found = len(verdict.matched)
    if found < expectation.count.low:
        lines.append(f"  found {found or 'none'}" + ("; the closest:" if verdict.closest else
                                                     "; no action of the test comes close"))
        for near in verdict.closest:
            lines.append(f"  {action_line(near.action, start, keys)}")
            lines += [f"    {difference}" for difference in near.differences]
    else:
        lines.append(f"  found {found}:")
        lines += [f"  {action_line(action, start, keys)}" for action in verdict.matched[:LISTED]]
        if found > LISTED:
            lines.append(f"  … and {found - LISTED} more")
    return lines


def _case_lines(result: CaseResult) -> list[str]:
    if result.ok:
        return [f"  ok    {result.case.name}"]
    lines = [f"  FAIL  {result.case.name} (line {result.case.place.line})"]
    for verdict in result.verdicts:
        if not verdict.ok:
            lines += [f"        {line}" for line in failure_text(verdict, result.case.start)]
    return lines


def summary(result: SuiteResult) -> str:
    total, failed = len(result.cases), len(result.failed)
    noun = "test" if total == 1 else "tests"
    return f"{total} {noun}: {total - failed} passed, {failed} failed ({result.seconds:.1f} s)"


def text_report(result: SuiteResult) -> str:
    lines: list[str] = []
    current = None
    for case in result.cases:
        if case.file != current:
            if current is not None:
                lines.append("")
            lines.append(str(case.file))
            current = case.file
        lines += _case_lines(case)
    lines += ["", summary(result)]
    return "\n".join(lines) + "\n"
