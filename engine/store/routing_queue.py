"""The shared routing queue: several routers on one PostgreSQL database, each routing the accounts
of the partitions it holds, in the order the changes were stored.

Accounts fall into `PARTITIONS` partitions (a CRC-32 of the account id). A router claims some of
the partitions that have work (`claimed`: their rows of `routing_partitions` locked `FOR UPDATE
SKIP LOCKED`, so two routers never hold the same partition and none waits for another) and, in
that one transaction, routes the next stored changes of those partitions: every write of the
routing (condition states, scores, decisions), the intents it produced (`routing_intents`: the
journeys to start and signal) and the mark `routed_at` commit together or not at all. A router
that dies mid-batch (its connection drops) leaves nothing of the batch; the next holder of the
partition routes it, once. The intents are drained to Temporal afterwards, by the holder of
their partition, oldest first, each marked drained once carried out (`mark_drained`, committed at
once): a router dying between the call and the mark has that one intent carried out again,
which the journey's workflow id makes harmless for a start, and the signal's origin (its change
and position, `JourneySignal.change`) for a signal: a journey ignores a signal at or before the
last one it heard.

A single router (SQLite, or PostgreSQL without shared routing) commits the same way, in
`routing_batch` (no claims), naming itself as their `owner`; its drain reads, of every
partition, its own intents and those committed before it started (a process stopped or killed
before draining them), not those of another process routing beside it (`Drainer`).
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, or_, select, text, update

from engine.records import Change
from engine.store.routing import RoutingSection
from engine.store.schema import events, routing_intents, routing_partitions
from engine.store.types import to_utc

__all__ = ["PARTITIONS", "DrainBacklog", "Drainer", "RoutingQueueSection", "StoredIntent", "partition_of"]

PARTITIONS = 64  # as the rows the migration 0009 creates
_SCAN = 20_000  # unrouted changes looked at to find the partitions with work
_CLAIM = (select(routing_partitions.c.partition)
          .where(routing_partitions.c.partition.in_(bindparam("wanted", expanding=True)))
          .order_by(func.random()).limit(bindparam("most")).with_for_update(skip_locked=True))
_ACCOUNT_LOCKS = text("SELECT count(pg_advisory_xact_lock(hashtextextended(name, 0))) "
                      "FROM unnest(CAST(:names AS text[])) AS name")


class StoredIntent(NamedTuple):
    """An intent committed with its routing, waiting to be carried out."""

    id: int
    change: int  # the routed change's seq
    position: int  # its place among the change's intents
    account: str
    intent: dict[str, Any]
    attempts: int = 0  # refusals by Temporal so far (`ParkedIntentSection.refused`)
    created_at: datetime | None = None  # when routing committed it


class Drainer(NamedTuple):
    """Whose intents a single router's drain carries out: its own (`owner`), and those committed
    before it started."""

    owner: str
    started_at: datetime

    def where(self) -> Any:
        return or_(routing_intents.c.owner == self.owner, routing_intents.c.created_at < to_utc(self.started_at))


class DrainBacklog(NamedTuple):
    """The intents committed and not carried out yet: how many, and when the oldest was committed."""

    waiting: int
    oldest: datetime | None


def partition_of(account: str) -> int:
    """The partition of an account: the same in every process."""
    return zlib.crc32(account.encode("utf-8")) % PARTITIONS


class RoutingQueueSection(RoutingSection):
    def partitions_with_work(self) -> set[int]:
        """The partitions with stored changes not routed yet or intents not drained yet."""
        with self._db.read() as conn:
            unrouted = conn.execute(select(events.c.account).where(events.c.routed_at.is_(None))
                                    .order_by(events.c.seq).limit(_SCAN)).scalars()
            found = {partition_of(account) for account in unrouted}
            found.update(conn.execute(select(routing_intents.c.partition).distinct()
                                      .where(routing_intents.c.drained_at.is_(None),
                                             routing_intents.c.parked_at.is_(None))).scalars())
        return found

    @contextmanager
    def claimed(self, most: int) -> Iterator[list[int]]:
        """A transaction holding up to `most` partitions with work that no other router holds (none:
        an empty list). Every call of this store from the same thread inside joins it; it commits
        at the end, and rolls back (releasing the partitions) on an error or when the process dies."""
        wanted = sorted(self.partitions_with_work())
        with self._db.engine.connect() as conn, conn.begin():
            held = list(conn.execute(_CLAIM, {"wanted": wanted, "most": most}).scalars()) if wanted else []
            with self._db.joined(conn):
                yield sorted(held)

    @contextmanager
    def routing_batch(self, accounts: Collection[str]) -> Iterator[None]:
        """One transaction for a single router's batch: the routing's writes, its intents and its marks
        `routed_at` commit together or not at all. SQLite: the store's batch (one writer); PostgreSQL:
        a transaction every call of this store from the same thread joins, holding the accounts' write
        locks (as `claimed` does for a shared router)."""
        if self._db.dialect == "sqlite":
            with self._db.batch():
                yield
            return
        with self._db.engine.connect() as conn, conn.begin(), self._db.joined(conn):
            self.lock_accounts(accounts)
            yield

    def lock_accounts(self, accounts: Collection[str]) -> None:
        """Inside `claimed`: take the accounts' write locks until it commits, as any writer of theirs does
        (`engine.store.database`), so that a worker writing one of them waits for the batch."""
        names = sorted(set(accounts))
        if names:
            with self._db.write() as conn:
                conn.execute(_ACCOUNT_LOCKS, {"names": names})

    def unrouted_of(self, partitions: Collection[int], limit: int) -> list[Change]:
        """The oldest stored changes not routed yet of the accounts in `partitions`, in stored order."""
        wanted = set(partitions)
        with self._db.read() as conn:
            accounts = {account for account in conn.execute(
                select(events.c.account).distinct().where(events.c.routed_at.is_(None))).scalars()
                if partition_of(account) in wanted}
        return self.unrouted(limit, accounts=sorted(accounts)) if accounts else []

    def add_intents(self, rows: Sequence[tuple[int, int, str, dict[str, Any]]], at: datetime,
                    owner: str | None = None) -> None:
        """Record intents to drain: (change seq, position among its intents, account, the intent);
        `owner`: the single router committing them (None: shared routing)."""
        if not rows:
            return
        values = [{"change": change, "position": position, "partition": partition_of(account),
                   "account": account, "intent": intent, "created_at": to_utc(at), "owner": owner}
                  for change, position, account, intent in rows]
        with self._db.write() as conn:
            conn.execute(insert(routing_intents), values)

    def start_intents_of(self, accounts: Collection[str]) -> list[dict[str, Any]]:
        """The journey starts routed for these accounts (by any router), oldest first."""
        names = sorted(set(accounts))
        if not names:
            return []
        query = (select(routing_intents.c.intent).where(routing_intents.c.account.in_(names))
                 .order_by(routing_intents.c.id))
        with self._db.read() as conn:
            return [dict(intent) for intent in conn.execute(query).scalars() if intent.get("kind") == "start"]

    def undrained(self, partitions: Collection[int] | Drainer | None, limit: int,
                  skip: Collection[str] = ()) -> list[StoredIntent]:
        """The intents not drained nor parked yet (of `partitions`, or a `Drainer`'s; None: all), oldest first;
        none of the accounts in `skip` (held by a refusal: their intents wait, the others' must not)."""
        query = (select(routing_intents.c.id, routing_intents.c.change, routing_intents.c.position,
                        routing_intents.c.account, routing_intents.c.intent, routing_intents.c.attempts,
                        routing_intents.c.created_at)
                 .where(routing_intents.c.drained_at.is_(None), routing_intents.c.parked_at.is_(None))
                 .order_by(routing_intents.c.id).limit(limit))
        if isinstance(partitions, Drainer):
            query = query.where(partitions.where())
        elif partitions is not None:
            query = query.where(routing_intents.c.partition.in_(sorted(partitions)))
        if skip:
            query = query.where(routing_intents.c.account.not_in(sorted(set(skip))))
        with self._db.read() as conn:
            return [StoredIntent(row.id, row.change, row.position, row.account, dict(row.intent), row.attempts or 0,
                                 to_utc(row.created_at))
                    for row in conn.execute(query)]

    def drain_backlog(self, drainer: Drainer | None = None) -> DrainBacklog:
        """How many intents (not parked) wait to be carried out (by `drainer`; None: by anyone), and the commit
        time of the oldest."""
        query = (select(func.count(), func.min(routing_intents.c.created_at))
                 .where(routing_intents.c.drained_at.is_(None), routing_intents.c.parked_at.is_(None)))
        if drainer is not None:
            query = query.where(drainer.where())
        with self._db.read() as conn:
            count, oldest = conn.execute(query).one()
        return DrainBacklog(int(count), None if oldest is None else to_utc(oldest))

    def mark_drained(self, ids: Sequence[int], at: datetime) -> None:
        """Mark intents carried out, committed at once (outside any claim under way)."""
        if ids:
            with self._db.engine.begin() as conn:
                conn.execute(update(routing_intents).where(routing_intents.c.id.in_(list(ids)))
                             .values(drained_at=to_utc(at)))

    def prune_drained(self, before: datetime) -> int:
        """Forget the intents drained before `before` (the starts among them are read only until the
        journeys' workers record them): how many."""
        with self._db.engine.begin() as conn:
            done = conn.execute(routing_intents.delete().where(routing_intents.c.drained_at < to_utc(before)))
            return int(done.rowcount or 0)

    def routed_through(self, seq: int) -> bool:
        """Whether every change stored up to `seq` is routed and its intents drained."""
        with self._db.read() as conn:
            unrouted = conn.execute(select(events.c.seq).where(events.c.routed_at.is_(None), events.c.seq <= seq)
                                    .limit(1)).first()
        return unrouted is None and self.drained_through(seq)

    def drained_through(self, seq: int, drainer: Drainer | None = None) -> bool:
        """Whether the intents of every change routed up to `seq` (those `drainer` carries out; None:
        anyone's) are carried out."""
        query = select(routing_intents.c.id).where(routing_intents.c.drained_at.is_(None),
                                                   routing_intents.c.parked_at.is_(None),
                                                   routing_intents.c.change <= seq)
        if drainer is not None:
            query = query.where(drainer.where())
        with self._db.read() as conn:
            undrained = conn.execute(query.limit(1)).first()
        return undrained is None
