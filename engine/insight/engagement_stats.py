"""Open and click counts per send statement, for `playbook stats`: the engagement figures.

Each `email_opened` and `email_clicked` event names its message by key (`data.key`, the step's
idempotency key `journey/<playbook>/<account>/<run id>/<path>`). One query joins the events to the
messages they name, keeps each (message, event) once, cuts the statement path out of the key in
SQL as `engine.insight.step_stats` does for the action log, and counts per playbook and path: a
message opened five times counts once. An event naming no message (a client's line without a
key, or a key the store does not have) counts nowhere. `engine.insight.analytics` puts the
figures on the send statements, with their share of the emails sent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, func, select

from engine.insight.step_stats import _keyed, _reading
from engine.store.reserved import ENGAGEMENT_EVENTS
from engine.store.schema import events, messages
from engine.store.types import to_utc

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["EngagementCount", "Figures", "by_path", "lay_engagement", "read_engagement", "share"]


@dataclass(frozen=True)
class EngagementCount:
    """How many messages sent at one path were opened, or clicked (each message once)."""

    playbook: str
    path: str
    event: str  # email_opened, email_clicked
    messages: int


def _query(dialect: str, playbooks: list[str] | None, start: datetime | None,
           accounts: Collection[str] | None) -> Any:
    where: list[Any] = [events.c.name.in_(sorted(ENGAGEMENT_EVENTS)), messages.c.playbook.is_not(None)]
    if playbooks is not None:
        where.append(messages.c.playbook.in_(playbooks))
    if start is not None:
        where.append(events.c.at >= start)
    if accounts is not None:
        where.append(messages.c.account.in_(sorted(accounts)))
    joined = events.join(messages, and_(messages.c.account == events.c.account,
                                        messages.c.key == events.c.data["key"].as_string()))
    engaged = (select(messages.c.playbook.label("playbook"), messages.c.account.label("account"),
                      messages.c.key.label("key"), events.c.name.label("event"))
               .select_from(joined).where(*where).distinct().subquery())
    keyed = _keyed(dialect, engaged.c.key, engaged.c.playbook, engaged.c.account, engaged.c.event.label("event"),
                   where=[])
    return (select(keyed.c.playbook, keyed.c.path, keyed.c.event, func.count().label("n"))
            .group_by(keyed.c.playbook, keyed.c.path, keyed.c.event))


def read_engagement(store: Store, playbooks: list[str] | None = None, since: datetime | None = None,
                    accounts: Collection[str] | None = None) -> list[EngagementCount]:
    """The messages opened and clicked per playbook and path, from events at or after `since`."""
    start = to_utc(since) if since is not None else None
    with _reading(store) as conn:
        rows = conn.execute(_query(store.dialect, playbooks, start, accounts)).all()
    return [EngagementCount(playbook=r.playbook, path=r.path, event=r.event, messages=int(r.n)) for r in rows]


def by_path(rows: list[EngagementCount], playbook: str) -> dict[str, tuple[int, int]]:
    """(messages opened, messages clicked) per statement path of one playbook."""
    result: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row.playbook == playbook:
            opened, clicked = result.get(row.path, (0, 0))
            result[row.path] = ((opened + row.messages, clicked) if row.event == "email_opened"
                                else (opened, clicked + row.messages))
    return result


def share(count: int | None, sent: int | None) -> float | None:
    """`count` over the emails sent, to four places; None before any was sent."""
    return round(count / sent, 4) if count is not None and sent else None


class Figures(Protocol):
    """The figures of one statement that engagement sets (`engine.insight.analytics.StatementStats`)."""

    sent: int | None
    emails_opened: int | None
    emails_clicked: int | None
    open_rate: float | None
    click_rate: float | None


def lay_engagement(rows: list[EngagementCount], playbook: str, target: Callable[[str], Figures],
                   every: Callable[[], Iterable[Figures]]) -> None:
    """Add one playbook's opens and clicks to the figures of their paths (`target` finds them, by the
    raw path of the message's key), then set every statement's rates; a send email statement
    (whose `sent` is set) that none was heard of has 0 of each."""
    for path, (opened, clicked) in by_path(rows, playbook).items():
        figures = target(path)
        figures.emails_opened = (figures.emails_opened or 0) + opened
        figures.emails_clicked = (figures.emails_clicked or 0) + clicked
    for figures in every():
        if figures.sent is not None:
            figures.emails_opened, figures.emails_clicked = figures.emails_opened or 0, figures.emails_clicked or 0
        figures.open_rate = share(figures.emails_opened, figures.sent)
        figures.click_rate = share(figures.emails_clicked, figures.sent)
