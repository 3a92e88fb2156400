"""Diagnostic codes: the kind of problem a diagnostic reports, for reports that machines read.

The language reports each problem as a message at a place (`dsl/diagnostics.py`). Tools that
gather problems across runs (code scanning, annotations, dashboards) want a stable identifier
per kind of problem as well. The codes name kinds, not single messages:

    syntax            a line the parser cannot read
    unknown-name      a name that is not declared (a field, an event, a template, a statement)
    duplicate         something declared or written twice
    wrong-type        a value of the wrong kind (a text where a number goes)

Each diagnostic is given its code where it is created (`Diagnostic.code`); the wording of its
message plays no part, so a message can be reworded without changing its code. A diagnostic
created without a code is of no kind below: `other-error` or `other-warning`. `ALL_RULES` is
the table of codes with a one-line description of each, in the order a SARIF log lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Diagnostic

__all__ = ["ALL_RULES", "CODES", "DiagnosticRule", "code_of", "rule_of"]


@dataclass(frozen=True)
class DiagnosticRule:
    """One kind of problem: its code and a one-line description."""

    code: str
    description: str


ALL_RULES: tuple[DiagnosticRule, ...] = (
    DiagnosticRule("tab-indentation", "A line is indented with a tab; indent with spaces."),
    DiagnosticRule("unreadable-file",
                   "A file cannot be read, is not UTF-8 text, or is not where a playbook file goes."),
    DiagnosticRule("syntax", "A line the parser cannot read."),
    DiagnosticRule("unknown-name",
                   "A name that is not declared: a field, event, template, weekday, band, type or statement."),
    DiagnosticRule("duplicate", "Something is declared or written twice."),
    DiagnosticRule("parameter", "An activity's parameter is missing or has a value it does not take."),
    DiagnosticRule("step-order", "A step written before a wait it comes after: it runs later than its place says."),
    DiagnosticRule("never-happens", "Something that can never happen or does nothing: a condition that never holds, "
                   "a wait for nothing, a rule that is never used."),
    DiagnosticRule("out-of-range", "A value outside what the language allows: too far in time, scores no band "
                   "covers, shares that do not add up."),
    DiagnosticRule("wrong-type",
                   "A value of the wrong kind where another is needed (a number, a date, a contact, an owner)."),
    DiagnosticRule("template", "A problem in a message template."),
    DiagnosticRule("playbook-structure", "A playbook lacks something it needs (a trigger, steps, a recipient) or "
                   "has it in the wrong place."),
    DiagnosticRule("other-error", "A problem the checker reports that is of no kind above."),
    DiagnosticRule("other-warning", "A warning the checker reports that is of no kind above."),
)

_BY_CODE: dict[str, DiagnosticRule] = {rule.code: rule for rule in ALL_RULES}

CODES: frozenset[str] = frozenset(_BY_CODE)


def rule_of(diagnostic: Diagnostic) -> DiagnosticRule:
    """The kind of problem `diagnostic` reports, as its code names it (a code not in the table is
    of no known kind: `other-error` or `other-warning`)."""
    return _BY_CODE.get(diagnostic.code) or _BY_CODE[f"other-{diagnostic.severity}"]


def code_of(diagnostic: Diagnostic) -> str:
    """The code of the kind of problem `diagnostic` reports, such as `unknown-name`."""
    return rule_of(diagnostic).code
