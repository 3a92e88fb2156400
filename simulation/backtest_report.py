"""What `playbook backtest` prints: a summary sentence per playbook, counts, and the differing
actions per account with the decisions that made them differ (text), or all of it as one JSON
object (`--json`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dsl import ir
from dsl.ir_text import describe_trigger
from simulation.backtest import History, Replay, Window, read_history, replay_both, replay_window
from simulation.backtest_diff import (
    COUNTED_KINDS,
    DEFAULT_MATCH_WITHIN,
    SCORES,
    Comparison,
    Counts,
    Difference,
    compare,
)

__all__ = ["Backtest", "changed_parts", "changed_playbooks", "fingerprint", "run_backtest", "summary_sentence",
           "to_json", "to_text"]

_NOUNS = {"email": ("email", "emails"), "task": ("task", "tasks"), "in_app": ("in-app message", "in-app messages")}
_VERBS = {"email": ("sent", "to"), "task": ("opened", "for"), "in_app": ("shown", "to")}
_SIGNS = {"added": "+", "removed": "-", "changed": "~", "moved": ">"}


@dataclass
class Backtest:
    """Everything one backtest found."""

    base_label: str
    head_label: str
    history: History
    base: Replay
    head: Replay
    comparison: Comparison
    since: datetime
    until: datetime


async def run_backtest(base: ir.Bundle, head: ir.Bundle, store_url: str, window: Window, *,
                       accounts: Sequence[str] = (), base_label: str = "base", head_label: str = "head",
                       match_within: timedelta = DEFAULT_MATCH_WITHIN, now: datetime | None = None) -> Backtest:
    """Replay the stored history on both versions and compare what they did in the window."""
    now = now or datetime.now(UTC)
    history = read_history(store_url, window, accounts)
    start, end = replay_window(history, window, now)
    before, after = await replay_both(base, head, history, window, now)
    since = window.since or start
    comparison = compare(before.actions, after.actions, since=since, until=end, match_within=match_within,
                         changed_playbooks=changed_playbooks(base, head), changed_triggers=changed_triggers(base, head))
    return Backtest(base_label=base_label, head_label=head_label, history=history, base=before, head=after,
                    comparison=comparison, since=since, until=end)


def fingerprint(bundle: ir.Bundle, playbook: str) -> str | None:
    """A playbook's content and the text of its templates, wherever the folder was read from.

    `Bundle.versions` hashes the templates' file paths too, so the same playbook read from a
    git revision's temporary copy would look changed.
    """
    found = bundle.playbooks.get(playbook)
    if found is None:
        return None
    body: dict[str, Any] = found.model_dump(mode="json", exclude={"path"})
    sources = _template_sources(bundle)
    body["__templates__"] = {name: sources[name] for name in found.templates if name in sources}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def changed_playbooks(base: ir.Bundle, head: ir.Bundle) -> set[str]:
    """Playbook ids whose content differs, or that exist in one version only."""
    ids = set(base.playbooks) | set(head.playbooks)
    return {pid for pid in ids if fingerprint(base, pid) != fingerprint(head, pid)}


def changed_triggers(base: ir.Bundle, head: ir.Bundle) -> dict[str, tuple[str, str]]:
    """The playbooks of both versions whose trigger differs: base's and head's, as written."""
    return {pid: (describe_trigger(base.playbooks[pid].trigger), describe_trigger(head.playbooks[pid].trigger))
            for pid in sorted(set(base.playbooks) & set(head.playbooks))
            if base.playbooks[pid].trigger != head.playbooks[pid].trigger}


def changed_parts(base: ir.Bundle, head: ir.Bundle) -> list[str]:
    """What differs between the two versions, in words."""
    parts: list[str] = []
    for pid in sorted(changed_playbooks(base, head)):
        state = "new" if pid not in base.playbooks else "removed" if pid not in head.playbooks else "changed"
        parts.append(f"playbook {pid} ({state})")
    if base.policy != head.policy:
        parts.append("the send policy (quiet hours, frequency caps)")
    if base.model != head.model:
        parts.append("the account model")
    if base.scores != head.scores:
        parts.append("the scores")
    if _template_sources(base) != _template_sources(head):
        parts.append("templates")
    return parts


def _template_sources(bundle: ir.Bundle) -> dict[str, tuple[str, ...]]:
    """The templates' text, whatever folder they were read from."""
    return {name: (t.channel, t.subject.source, t.text.source, t.html.source if t.html else "")
            for name, t in bundle.templates.items()}


def _n(count: int, kind: str) -> str:
    one, many = _NOUNS[kind]
    return f"{count:,} {one if count == 1 else many}"


def _accounts(count: int) -> str:
    return f"{count:,} account" + ("" if count == 1 else "s")


def _phrase(kind: str, counts: Counts) -> str | None:
    verb, to = _VERBS[kind]
    added, removed = counts.added, counts.removed
    if added and not removed:
        return f"{verb} {added:,} more {_NOUNS[kind][added != 1]} {to} {_accounts(len(counts.added_accounts))}"
    if removed and not added:
        return f"{verb} {removed:,} fewer {_NOUNS[kind][removed != 1]} {to} {_accounts(len(counts.removed_accounts))}"
    if added and removed:
        net = added - removed
        trend = "the same number of" if net == 0 else f"{abs(net):,} {'more' if net > 0 else 'fewer'}"
        return (f"{verb} {trend} {_NOUNS[kind][1]}: {_n(added, kind)} more {to} "
                f"{_accounts(len(counts.added_accounts))} and {_n(removed, kind)} fewer {to} "
                f"{_accounts(len(counts.removed_accounts))}")
    return None


def _period(since: datetime, until: datetime) -> str:
    last = until - timedelta(microseconds=1)
    return f"from {since:%Y-%m-%d} to {last:%Y-%m-%d}"


def summary_sentence(playbook: str, kinds: dict[str, Counts], since: datetime, until: datetime) -> str:
    """`smb_onboarding: the head version would have sent 212 more emails to 180 accounts …`"""
    phrases = [p for kind in COUNTED_KINDS if kind in kinds and (p := _phrase(kind, kinds[kind]))]
    period = _period(since, until)
    if phrases:
        joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        return f"{playbook}: the head version would have {joined} {period}."
    other = sum(c.added + c.removed + c.changed + c.moved for c in kinds.values())
    if other:
        return (f"{playbook}: the head version would have sent the same emails, in-app messages and tasks "
                f"{period}; {other:,} other action{'s' if other != 1 else ''} differ.")
    return f"{playbook}: no difference {period}."


def _count_cells(counts: Counts) -> str:
    cells = [f"+{counts.added:,} ({_accounts(len(counts.added_accounts))})",
             f"-{counts.removed:,} ({_accounts(len(counts.removed_accounts))})"]
    if counts.changed:
        cells.append(f"{counts.changed:,} changed")
    if counts.moved:
        cells.append(f"{counts.moved:,} moved")
    return "  ".join(cells)


def _at(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _difference_lines(difference: Difference) -> list[str]:
    lines = [f"    {_SIGNS[difference.change]} {_at(difference.at)}  {difference.playbook}  "
             f"{difference.label}: {difference.outcome()}"]
    lines.extend(f"        why: {reason}" for reason in difference.why)
    return lines


def to_text(result: Backtest, *, accounts_shown: int | None = 20) -> str:
    comparison, history = result.comparison, result.history
    lines = [f"Backtest of {result.head_label} (head) against {result.base_label} (base)",
             f"History: {history.stored:,} stored objects of {_accounts(len(history.accounts))}, compared "
             f"{_period(result.since, result.until)}"
             + (f"; {history.seeded:,} accounts start with their earlier traits" if history.seeded else ""),
             "Changed: " + (", ".join(changed_parts(result.base.bundle, result.head.bundle)) or "nothing"), ""]
    for side, run in (("base", result.base), ("head", result.head)):
        if run.rejected:
            lines.append(f"{len(run.rejected):,} stored objects do not fit the {side} version's model and were "
                         f"left out of its run (first: {run.rejected[0].reason})")
    changed = changed_playbooks(result.base.bundle, result.head.bundle)
    with_differences = comparison.playbooks()
    if not with_differences:
        lines.append(f"No difference: both versions would have done the same {_period(result.since, result.until)}.")
    for playbook in with_differences:
        kinds = comparison.counts[playbook]
        lines.append(summary_sentence(playbook, kinds, result.since, result.until))
        for kind in sorted(kinds, key=lambda k: (k not in COUNTED_KINDS, k)):
            lines.append(f"    {kind:<11} {_count_cells(kinds[kind])}")
    quiet = sorted((changed - set(with_differences)) - {SCORES})
    if quiet:
        lines.append("Changed but no different with this history: " + ", ".join(quiet) + ".")
    by_account = comparison.accounts()
    if by_account:
        lines += ["", f"Accounts with differences: {len(by_account):,} "
                      f"(+ added in head, - removed, ~ changed, > moved)"]
        shown = list(by_account.items())
        if accounts_shown is not None:
            shown = shown[:accounts_shown]
        for account, differences in shown:
            lines.append(f"  {account}")
            for difference in differences:
                lines.extend(_difference_lines(difference))
        if len(shown) < len(by_account):
            lines.append(f"  … and {len(by_account) - len(shown):,} more accounts (--accounts-shown, or --json)")
    return "\n".join(lines) + "\n"


def to_json(result: Backtest) -> dict[str, Any]:
    comparison, history = result.comparison, result.history
    return {
        "base": {"label": result.base_label, "versions": result.base.bundle.versions,
                 "rejected": [r.model_dump() for r in result.base.rejected]},
        "head": {"label": result.head_label, "versions": result.head.bundle.versions,
                 "rejected": [r.model_dump() for r in result.head.rejected]},
        "changed": changed_parts(result.base.bundle, result.head.bundle),
        "window": {"since": result.since.isoformat(), "until": result.until.isoformat()},
        "history": {"objects": history.stored, "accounts": len(history.accounts), "seeded": history.seeded},
        "playbooks": [
            {"playbook": playbook,
             "summary": summary_sentence(playbook, comparison.counts[playbook], result.since, result.until),
             "counts": {kind: counts.to_json() for kind, counts in sorted(comparison.counts[playbook].items())}}
            for playbook in comparison.playbooks()
        ],
        "differences": [difference.to_json() for difference in comparison.differences],
    }
