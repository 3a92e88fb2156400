"""Snapshots a worker read lately, kept so that the next step of the same journey at the same
moment need not read the account again.

A journey reads the account as of a moment (entering, or before a decision) and decides on that
snapshot; the effects that follow at the same moment (typically a send rendering its template)
would read exactly the same rows again. The worker that read the snapshot keeps it here under a
token (`Snapshot.token`), the journey hands the token on with the effect, and the effect's
activity takes the snapshot from here when it runs on that same worker. A journey hands on a
token only while nothing has told it of a change since (a `set`, a task, a fields-changed
signal); an activity on another worker, or after the snapshot was forgotten, reads the account
as before. Bounded: the oldest snapshots are forgotten first.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import OrderedDict
from datetime import datetime

from engine.records import Snapshot

__all__ = ["SnapshotCache"]


class SnapshotCache:
    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._prefix = uuid.uuid4().hex[:12]  # tokens of another worker never match here
        self._serial = itertools.count(1)
        self._kept: OrderedDict[str, Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def keep(self, snap: Snapshot) -> Snapshot:
        """`snap` with a token, kept; the oldest kept snapshot goes when the cache is full."""
        token = f"{self._prefix}:{next(self._serial)}"
        kept = snap.model_copy(update={"token": token})
        with self._lock:
            self._kept[token] = kept
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return kept

    def get(self, token: str | None, account: str, at: datetime) -> Snapshot | None:
        """The snapshot kept under `token` if it is of `account` at `at`; else None."""
        if token is None:
            return None
        with self._lock:
            snap = self._kept.get(token)
        if snap is None or snap.account != account or snap.at != at:
            self.misses += 1
            return None
        self.hits += 1
        return snap

    def __len__(self) -> int:
        return len(self._kept)
