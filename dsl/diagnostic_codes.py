"""Diagnostic codes: the kind of problem a diagnostic reports, for reports that machines read.

The language reports each problem as a message at a place (`dsl/diagnostics.py`). Tools that
gather problems across runs (code scanning, annotations, dashboards) want a stable identifier
per kind of problem as well; `code_of` gives it. The codes name kinds, not single messages:

    syntax            a line the parser cannot read
    unknown-name      a name that is not declared (a field, an event, a template, a statement)
    duplicate         something declared or written twice
    wrong-type        a value of the wrong kind (a text where a number goes)

The kind is read from the message by the first rule of `RULES` that matches; a message no rule
knows gets `other-error` or `other-warning`, so every diagnostic has a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsl.diagnostics import Diagnostic

__all__ = ["ALL_RULES", "RULES", "DiagnosticRule", "code_of", "rule_of"]


@dataclass(frozen=True)
class DiagnosticRule:
    """One kind of problem: its code, a one-line description, and the messages that are of it."""

    code: str
    description: str
    pattern: re.Pattern[str] | None = None
    path_suffix: str | None = None

    def matches(self, diagnostic: Diagnostic) -> bool:
        if self.path_suffix is not None and not diagnostic.span.path.endswith(self.path_suffix):
            return False
        return self.pattern is None or self.pattern.search(diagnostic.message) is not None


def _rule(code: str, description: str, pattern: str, path_suffix: str | None = None) -> DiagnosticRule:
    return DiagnosticRule(code, description, re.compile(pattern), path_suffix)


# First match wins: the more particular kinds come before the broader ones.
RULES: tuple[DiagnosticRule, ...] = (
    _rule("tab-indentation", "A line is indented with a tab; indent with spaces.", r"^a tab in the indentation"),
    _rule("unreadable-file", "A file cannot be read, is not UTF-8 text, or is not where a playbook file goes.",
          r"^(this file cannot be read|this file is not UTF-8|cannot read |no \.play files|"
          r"template file '.*' must be)"),
    _rule("syntax", "A line the parser cannot read.",
          r"^(unexpected |expected |unterminated |this line cannot be read|nesting too deep|"
          r"text is written in double quotes|template syntax error|this line's indentation|"
          r"'else' without an 'if'|only the last alternative)"),
    _rule("unknown-name", "A name that is not declared: a field, event, template, weekday, band, type or statement.",
          r"^unknown |is neither .* nor "),
    _rule("duplicate", "Something is declared or written twice.",
          r"\b(written|declared|defined|given|listed|set) twice\b|already has a "),
    _rule("parameter", "An activity's parameter is missing or has a value it does not take.",
          r"^(missing parameter|parameter ')"),
    _rule("step-order", "A step written before a wait it comes after: it runs later than its place says.",
          r"can only run on|is written after"),
    _rule("never-happens", "Something that can never happen or does nothing: a condition that never holds, a wait "
          "for nothing, a rule that is never used.",
          r"(can never|waits for nothing|sends nobody|would send nothing|never used|is no time|at the same time)"),
    _rule("out-of-range", "A value outside what the language allows: too far in time, scores no band covers, "
          "shares that do not add up.",
          r"(more than 5 years|longer than 5 years|at most \d+ days|no band covers|overlaps band|add up to|"
          r"not in every month|cannot be negative|more than the max|above 0|low end first|million)"),
    _rule("wrong-type", "A value of the wrong kind where another is needed (a number, a date, a contact, an owner).",
          r"(, not |cannot compare|compares numbers|cannot set |needs a |takes a |has no field |^invalid |"
          r"is not a time of day| template: write )"),
    _rule("template", "A problem in a message template.", r"", path_suffix=".jinja"),
    _rule("playbook-structure", "A playbook lacks something it needs (a trigger, steps, a recipient) or has it in "
          "the wrong place.", r"(has no |no recipient|needs a |before it in the playbook|outside a journey|"
          r"has the name of|built in and cannot|shares but|runs at entry)"),
)

_OTHER = {
    "error": DiagnosticRule("other-error", "A problem the checker reports that is of no kind above."),
    "warning": DiagnosticRule("other-warning", "A warning the checker reports that is of no kind above."),
}

ALL_RULES: tuple[DiagnosticRule, ...] = (*RULES, _OTHER["error"], _OTHER["warning"])


def rule_of(diagnostic: Diagnostic) -> DiagnosticRule:
    """The kind of problem `diagnostic` reports."""
    return next((rule for rule in RULES if rule.matches(diagnostic)), _OTHER[diagnostic.severity])


def code_of(diagnostic: Diagnostic) -> str:
    """The code of the kind of problem `diagnostic` reports, such as `unknown-name`."""
    return rule_of(diagnostic).code
