"""What every activity may use: the store, the deployed bundle, the journey starter, the mailer.

One `ActivityContext` is built per worker process by its composition root (`workers/`) and
handed to every activity; tests build one around a temporary store.

Activities read and write an account's rows (its fields and events for a snapshot, its entered
and ended journeys, a `set` change) through `reads`: in a simulation, whose store is its own,
that is the cache keeping each account's rows in memory for the whole simulation
(`AccountCache` with `Lifetime.PRIVATE_STORE`); elsewhere, a cache that keeps nothing outside a
run of routing, so every read and write goes to the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from activities.egress import EgressPolicy
from activities.snapshot_cache import SnapshotCache
from dsl import ir
from engine.records import Change
from engine.routing import AccountCache, Lifetime
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.payloads import ActivityOptions

__all__ = ["ActivityContext", "CaptureMailer", "CapturedMail", "Mailer", "OutgoingMail", "PluginCall"]


@dataclass(frozen=True)
class OutgoingMail:
    """A rendered message ready to hand to a mail server."""

    key: str  # the idempotency key: also the source of a deterministic Message-ID
    to: str
    to_name: str
    subject: str
    text: str
    html: str | None
    unsubscribe_url: str | None
    at: datetime
    from_address: str | None = None  # an owner's own address as the From (the sender domains allow it)
    from_name: str = ""
    reply_to: str | None = None  # an owner to answer to, when the From stays the engine's


class Mailer(Protocol):
    async def deliver(self, mail: OutgoingMail) -> None: ...


@dataclass
class CapturedMail:
    mail: OutgoingMail


@dataclass
class CaptureMailer:
    """A mail sink that keeps every message in memory (simulations and tests)."""

    outbox: list[OutgoingMail] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set, repr=False)

    async def deliver(self, mail: OutgoingMail) -> None:
        if len(self._keys) != len(self.outbox):  # the outbox was changed from outside
            self._keys = {sent.key for sent in self.outbox}
        if mail.key not in self._keys:
            self._keys.add(mail.key)
            self.outbox.append(mail)


@dataclass
class ActivityContext:
    store: Store
    bundle: ir.Bundle
    starter: JourneyStarter
    mailer: Mailer
    public_url: str = "http://127.0.0.1:8000"
    extras: dict[str, Any] = field(default_factory=dict)
    # How each registered activity runs (timeout, attempts): filled from the worker's registry by
    # `temporal_activities`; a journey learns the options of its activities as it enters.
    options: dict[str, ActivityOptions] = field(default_factory=dict)
    # Told of every change a playbook makes to an account (`set`), after it is stored.
    change_listeners: list[Callable[[Iterable[Change]], None]] = field(default_factory=list)
    in_flight: int = 0  # activities running now (a simulation waits for none before it reads results)
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)  # read lately, for the steps that follow
    egress: EgressPolicy = field(default_factory=EgressPolicy)  # where plugins may send requests
    send_rate: tuple[int, timedelta] | None = None  # the relay's limit: messages per window, every worker
    account_cache: AccountCache | None = None  # a simulation's: every account's rows, kept in memory
    # Each plugin activity's validated settings (`activities/plugin_config.py`), by activity name
    plugin_configs: dict[str, Any] = field(default_factory=dict)

    @property
    def reads(self) -> AccountCache:
        """An account's rows as activities read and write them (see the module's docstring)."""
        if self.account_cache is None:
            self.account_cache = AccountCache(self.store, lifetime=Lifetime.PER_RUN)
        return self.account_cache


@dataclass(frozen=True)
class PluginCall:
    """What a plugin activity knows about the step that called it.

    `key` is `<journey_id>/<run_id>/<step>`; read the parts from their own fields, never by
    splitting the key (an account id may hold a `/`). `config` is the plugin's validated settings
    (its `config` model, from `[plugins.NAME]` and the environment), None when it declares none.
    """

    context: ActivityContext
    key: str  # idempotency key: pass it on (e.g. as an Idempotency-Key header)
    account: str
    playbook: str
    at: datetime
    journey_id: str = ""  # the journey's workflow id: `journey/<playbook>/<account>`
    run_id: str = ""  # this run of the journey (a re-entered journey has a new one)
    step: str = ""  # the step's path in the playbook: `day 0/1`
    attempt: int = 1  # this attempt, 1 for the first
    config: Any = None
