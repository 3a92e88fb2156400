"""Drafted emails: kept for a person's review before they go (`send email … review by csm within
1 business day then send`).

The journey renders the email and keeps it here (`keep_draft`, once per send key); a person
approves it (as it is, or edited) or discards it (`decide_draft`); when nobody has by its
`review_by`, the journey settles it by its policy (`settle_draft`). Deciding and settling are
compare-and-set on `state = 'pending'`, so a person's last-second answer and the deadline never
both win: the first one written is the draft's fate, and each is logged once
(`draft_approved`, `draft_edited`, `draft_discarded`; the send or drop says the rest).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from engine.records import ActionRecord, DraftRecord
from engine.store.actions import insert_action
from engine.store.database import StoreSection
from engine.store.schema import drafts
from engine.store.types import to_utc

__all__ = ["DraftDecided", "DraftNotFound", "DraftSection"]

Decision = Literal["approve", "discard"]


class DraftNotFound(LookupError):
    """No draft has this id."""


class DraftDecided(ValueError):
    """The draft was decided (or settled at its deadline) already."""


def _record(row: Any) -> DraftRecord:
    return DraftRecord.model_validate(dict(row._mapping))


def _locked(conn: Connection, id: str) -> DraftRecord | None:
    """The draft, its row locked until the transaction ends (PostgreSQL; SQLite writes one at a time)."""
    row = conn.execute(select(drafts).where(drafts.c.id == id).with_for_update()).first()
    return None if row is None else _record(row)


class DraftSection(StoreSection):
    def keep_draft(self, draft: DraftRecord, action: ActionRecord) -> DraftRecord:
        """Keep a drafted email and log `action` (`email_drafted`); the one kept before under the
        same send key when there is one (an activity tried again)."""
        with self._db.write(draft.account) as conn:
            row = conn.execute(select(drafts).where(drafts.c.key == draft.key)).first()
            if row is not None:
                return _record(row)
            values = draft.model_dump()
            for name in ("review_by", "created_at"):
                values[name] = to_utc(values[name])
            conn.execute(drafts.insert().values(**values))
            insert_action(conn, action)
        return draft

    def draft(self, id: str) -> DraftRecord | None:
        with self._db.read() as conn:
            row = conn.execute(select(drafts).where(drafts.c.id == id)).first()
        return None if row is None else _record(row)

    def drafts(self, *, state: str | None = None, reviewer: str | None = None,
               account: str | None = None, limit: int = 500) -> list[DraftRecord]:
        """Drafts, the soonest review deadline first, filtered by whichever are given."""
        query = select(drafts).order_by(drafts.c.review_by, drafts.c.id).limit(limit)
        if state is not None:
            query = query.where(drafts.c.state == state)
        if reviewer is not None:
            query = query.where(drafts.c.reviewer == reviewer)
        if account is not None:
            query = query.where(drafts.c.account == account)
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def decide_draft(self, id: str, decision: Decision, at: datetime, *, by: str | None = None,
                     subject: str | None = None, text: str | None = None, reason: str | None = None) -> DraftRecord:
        """A person's answer to a pending draft: approve it (with `subject`/`text` edited: `edited`;
        an edited text goes out as plain text) or discard it. Raises `DraftNotFound`, `DraftDecided`."""
        with self._db.write() as conn:
            draft = _locked(conn, id)
            if draft is None:
                raise DraftNotFound(f"no draft '{id}'")
            if draft.state != "pending":
                raise DraftDecided(f"draft '{id}' is {draft.state.replace('_', ' ')} already")
            values: dict[str, Any] = {"decided_at": to_utc(at), "decided_by": by}
            edited = (subject is not None and subject != draft.subject) or (text is not None and text != draft.text)
            if decision == "discard":
                values.update(state="discarded", reason=reason)
            elif edited:
                values.update(state="edited", subject=subject if subject is not None else draft.subject)
                if text is not None and text != draft.text:
                    values.update(text=text, html=None)
            else:
                values["state"] = "approved"
            conn.execute(update(drafts).where(drafts.c.id == id).values(**values))
            decided = draft.model_copy(update={**values, "decided_at": at})
            data: dict[str, Any] = {"draft": id, "template": draft.template, "to": draft.to}
            if by:
                data["by"] = by
            if reason:
                data["reason"] = reason
            insert_action(conn, ActionRecord(at=at, account=draft.account, playbook=draft.playbook,
                                             kind=f"draft_{decided.state}", data=data))
        return decided

    def settle_draft(self, id: str, at: datetime) -> DraftRecord | None:
        """The draft as it goes: decided by a person, or, still pending, settled by its policy
        (`sent_unreviewed` or `dropped_unreviewed`) at `at`. None when there is no such draft."""
        with self._db.write() as conn:
            draft = _locked(conn, id)
            if draft is None or draft.state != "pending":
                return draft
            state = "sent_unreviewed" if draft.policy == "send" else "dropped_unreviewed"
            conn.execute(update(drafts).where(drafts.c.id == id).values(state=state, decided_at=to_utc(at)))
        return draft.model_copy(update={"state": state, "decided_at": at})

    def withdraw_draft(self, id: str, at: datetime, reason: str) -> DraftRecord | None:
        """Take back a pending draft whose journey ended before anyone answered (`withdrawn`, logged
        `draft_withdrawn`); a decided one is left as it is. None when there is no such draft."""
        with self._db.write() as conn:
            draft = _locked(conn, id)
            if draft is None or draft.state != "pending":
                return draft
            conn.execute(update(drafts).where(drafts.c.id == id).values(state="withdrawn", decided_at=to_utc(at),
                                                                        reason=reason))
            insert_action(conn, ActionRecord(at=at, account=draft.account, playbook=draft.playbook,
                                             kind="draft_withdrawn", data={"draft": id, "template": draft.template,
                                                                           "to": draft.to, "reason": reason}))
        return draft.model_copy(update={"state": "withdrawn", "decided_at": at, "reason": reason})
