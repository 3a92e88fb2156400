"""What a keyword means, in the words of the language reference (`docs/language.md`).

The reference is the one description of the language: hover shows, for a keyword, the line of
the reference (a table row, a list item or a sentence, code blocks left out) that best shows
it: first one with a code span that starts with the keyword and goes on (`` `wait 3 days` ``
for `wait`), a table row or list item before a sentence; else one with the keyword inside a
code span (`` `trigger: every month` `` for `every`); else one naming it alone; else the
first line of the reference's examples that uses it (`component product_usage max 40:`). The
reference is read from the project's `docs/` folder; where it is not installed, keywords have
no hover text and nothing else changes.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

__all__ = ["KEYWORDS", "REFERENCE", "keyword_doc"]

_CODE = re.compile(r"`([^`]+)`")
REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "language.md"

# Every word the grammar gives a meaning to where it is expected (`dsl/grammar.lark`).
KEYWORDS: tuple[str, ...] = (
    "account", "fields", "events", "metric", "count", "over", "score", "component", "max", "otherwise",
    "bands", "policy", "quiet", "hours", "most", "least", "exactly", "playbook", "trigger", "audience",
    "exit", "goal", "reentry", "never", "after", "before", "event", "where", "becomes", "changes", "every", "week",
    "month", "quarter", "down", "up", "day", "days", "weeks", "send", "email", "in_app", "to", "create",
    "task", "for", "due", "priority", "set", "update", "do", "wait", "until", "done", "open", "if",
    "unless", "else", "split", "and", "or", "not", "is", "of", "seen", "within", "since", "entry",
    "business", "record", "arm", "as", "weekdays", "holidays", "from", "cap", "attempts", "true", "false",
)


@lru_cache(maxsize=1)
def _reference_lines() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The reference's lines of prose and tables, and the lines of its examples (code blocks)."""
    try:
        text = REFERENCE.read_text(encoding="utf-8")
    except OSError:
        return (), ()
    lines: list[str] = []
    examples: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif in_code:
            examples.append(line.strip())
        elif line.strip() and not line.startswith("#") and not line.startswith("| ---"):
            lines.append(line.strip())
    return tuple(lines), tuple(examples)


@cache
def keyword_doc(keyword: str) -> str | None:
    """The reference's line that best shows `keyword` (see the module's doc), as Markdown; None if none."""
    word = re.compile(r"\b" + re.escape(keyword) + r"\b")
    tests = (
        lambda span: span.startswith((keyword + " ", keyword + ":")),  # `wait 3 days`, `trigger: …`
        lambda span: span != keyword and word.search(span) is not None,  # `trigger: every month`
        lambda span: span == keyword,  # `wait`
    )
    prose, examples = _reference_lines()
    lines = [(line, _CODE.findall(line)) for line in prose]
    for test in tests:
        for listed in (True, False):
            for line, spans in lines:
                if line.startswith(("|", "- ")) == listed and any(test(span) for span in spans):
                    return _readable(line)
    example = next((line for line in examples if word.search(line.split("#", 1)[0])), None)
    if example is not None:
        return f"as in the reference's example: `{example.split('#', 1)[0].strip()}`"
    return None


def _readable(line: str) -> str:
    """A table row as `cell — cell`, a list item without its bullet."""
    if line.startswith("|"):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        return " — ".join(cell for cell in cells if cell)
    return line.removeprefix("- ")
