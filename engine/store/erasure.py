"""Erasing a person's data from the store (`playbook forget`): what goes, what stays, the record.

`forget_account(id)` deletes the account's traits and their history, its events, scores,
condition states, tasks, journey rows, action log and notes, and blanks its messages (address, subject,
bodies; the account id and the step's key replaced by hashes) so that the counts of sends stay right and a retried
step still finds its outcome. `forget_email(address)` blanks every message to the address and
deletes the action-log lines that name it, and keeps the address on the suppression list only
as its hash (`sha256:...`), so it is still never written to. Either records that it happened: a
`forgotten` line in the action log under the hash, with what was removed, and nothing more.

Not erased here: the address inside an account's traits (`primary_contact`) when only the email
is forgotten (send the trait update from the system of record), and the journeys' histories in
Temporal (`playbook forget` ends and deletes those workflows itself).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from engine.records import ActionRecord
from engine.store.action_tallies import untally
from engine.store.actions import insert_action
from engine.store.database import Database
from engine.store.outbox import hashed_address
from engine.store.playbook_tallies import uncount_account, uncount_actions
from engine.store.schema import (
    account_cards,
    account_notes,
    accounts,
    actions,
    condition_state,
    events,
    journeys,
    messages,
    next_due,
    score_history,
    suppressions,
    tasks,
    tracked_messages,
    trait_history,
)
from engine.store.task_tallies import uncount_tasks

__all__ = ["ErasureSection", "forgotten_id"]

_BLANK = {"to_addr": None, "subject": None, "text": None, "html": None}


def forgotten_id(value: str) -> str:
    """What stands for an erased account id or address: `forgotten:` and 16 hex of its hash."""
    return "forgotten:" + hashlib.sha256(value.strip().encode()).hexdigest()[:16]


class ErasureSection:
    _db: Database

    def journey_playbooks(self, account: str) -> list[str]:
        """The playbooks the account has journeys of (their workflows are `journey/<playbook>/<account>`)."""
        with self._db.read() as conn:
            rows = conn.execute(select(journeys.c.playbook).where(journeys.c.account == account).distinct())
            return sorted(str(row.playbook) for row in rows)

    def forget_account(self, account: str, at: datetime) -> dict[str, int]:
        """Erase the account `account`; how many rows of each kind went."""
        stand_in = forgotten_id(account)
        removed: dict[str, int] = {}
        with self._db.write(account) as conn:
            uncount_account(conn, account)  # its journeys, split decisions and tasks leave the counts
            uncount_tasks(conn, [tasks.c.account == account])
            for name, table in (("traits", trait_history), ("events", events), ("scores", score_history),
                                ("conditions", condition_state), ("tasks", tasks), ("journeys", journeys),
                                ("actions", actions), ("tracked messages", tracked_messages), ("notes", account_notes),
                                ("accounts", accounts)):
                column = table.c.id if table is accounts else table.c.account
                if table is accounts:
                    conn.execute(delete(account_cards).where(account_cards.c.account == account))
                if table is actions:
                    untally(conn, [actions.c.account == account])
                removed[name] = conn.execute(delete(table).where(column == account)).rowcount or 0
            conn.execute(delete(next_due).where(next_due.c.account == account))  # the scheduler's index
            rows = conn.execute(select(messages.c.id, messages.c.key).where(messages.c.account == account)).all()
            for row in rows:  # a step's key names the account too (`journey/<playbook>/<account>/...`)
                conn.execute(update(messages).where(messages.c.id == row.id).values(
                    account=stand_in, key=forgotten_id(row.key), **_BLANK))
            removed["messages"] = len(rows)
            self._record(conn, stand_in, "account", removed, at)
        return removed

    def forget_email(self, email: str, at: datetime) -> dict[str, int]:
        """Erase the address `email` from messages, the action log and the suppression list."""
        address = email.strip().lower()
        removed: dict[str, int] = {}
        with self._db.write() as conn:
            conn.execute(delete(tracked_messages).where(tracked_messages.c.key.in_(  # their links may name it
                select(messages.c.key).where(func.lower(messages.c.to_addr) == address))))
            removed["messages"] = conn.execute(update(messages).where(
                func.lower(messages.c.to_addr) == address).values(**_BLANK)).rowcount or 0
            naming = [row.seq for row in conn.execute(select(actions.c.seq, actions.c.data))
                      if _names(row.data, address)]
            if naming:
                untally(conn, [actions.c.seq.in_(naming)])
                uncount_actions(conn, [actions.c.seq.in_(naming)])
            removed["actions"] = conn.execute(delete(actions).where(actions.c.seq.in_(naming))).rowcount or 0 \
                if naming else 0
            listed = conn.execute(select(suppressions).where(suppressions.c.email == address)).first()
            removed["suppressions"] = 0
            if listed is not None:
                conn.execute(delete(suppressions).where(suppressions.c.email == address))
                conn.execute(suppressions.insert().values(email=hashed_address(address), reason=listed.reason,
                                                          at=listed.at))
                removed["suppressions"] = 1
            self._record(conn, forgotten_id(address), "email", removed, at)
        return removed

    @staticmethod
    def _record(conn: Any, stand_in: str, what: str, removed: dict[str, int], at: datetime) -> None:
        insert_action(conn, ActionRecord(at=at, account=stand_in, playbook=None, kind="forgotten",
                                         data={"what": what, "removed": removed}, key=f"forgotten/{stand_in}/"
                                         f"{at.isoformat()}"))


def _names(data: Any, address: str) -> bool:
    """Whether a logged action's data holds `address` anywhere."""
    if isinstance(data, str):
        return address in data.lower()
    if isinstance(data, dict):
        return any(_names(value, address) for value in data.values())
    if isinstance(data, list):
        return any(_names(value, address) for value in data)
    return False
