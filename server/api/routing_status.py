"""Where routing and the drain stand, and what stops a run of either (`server.api.routing.Dispatcher`).

`RoutingRecord` keeps what the router did (changes routed, the last routed time, batches refused,
changes given up on) and how it last failed, and the same for the drain to Temporal (intents
carried out); `combined` is what `/healthz` and `/v1/status` show: the routing backlog (stored
changes not routed yet) and the drain backlog (intents committed, not carried out yet, with the
oldest one's age) apart. Its `why` and `retry_after` are what a refused batch is told.
`RoutingStopped` ends a run that cannot go on (Temporal or the store unavailable): what is left
waits for the next attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError, RPCStatusCode

__all__ = ["Failure", "IntentRefused", "RoutingRecord", "RoutingStopped", "combined", "first_line", "iso",
           "refusal_of", "stopped_by", "store_stopped"]

# What an RPC status says of Temporal: these are its outages (or overloads), waited out however long
# they last; any other status is a refusal of the call itself, tried again a bounded number of times.
_OUTAGES = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED,
                      RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.ABORTED, RPCStatusCode.UNKNOWN,
                      RPCStatusCode.INTERNAL, RPCStatusCode.UNAUTHENTICATED})


@dataclass
class Failure:
    at: datetime
    reason: str


class RoutingStopped(Exception):
    """Routing cannot go on now; `reason` says why (for the log and `/v1/status`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IntentRefused(Exception):
    """Temporal refused one intent for a reason that is not an outage (`refusal_of`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RoutingRecord:
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    routed: int = 0  # changes routed by this process
    last_routed_at: datetime | None = None
    last_failure: Failure | None = None
    failing_since: datetime | None = None  # None: the last attempt succeeded
    next_retry_at: datetime | None = None
    given_up: int = 0
    refused: int = 0  # batches answered 503 because the backlog was full

    def status(self, *, running: bool, backlog: int, max_backlog: int) -> dict[str, Any]:
        failure = self.last_failure
        if not running:
            condition = "stopped"
        elif self.failing_since is not None:
            condition = "retrying"
        elif backlog:
            condition = "routing"
        else:
            condition = "idle"
        return {
            "state": condition,
            "backlog": backlog,
            "max_backlog": max_backlog,
            "routed": self.routed,
            "last_routed_at": iso(self.last_routed_at),
            "failing_since": iso(self.failing_since),
            "next_retry_at": iso(self.next_retry_at),
            "last_failure": None if failure is None else {"at": iso(failure.at), "reason": failure.reason},
            "given_up": self.given_up,
            "refused": self.refused,
        }

    def why(self) -> str:
        """`; routing has been failing since …: reason` while it fails, else nothing."""
        if self.failing_since is not None and self.last_failure is not None:
            return f"; routing has been failing since {iso(self.failing_since)}: {self.last_failure.reason}"
        return ""

    def retry_after(self) -> int:
        """The seconds a refused client should wait: until the next retry, within 1 to 60."""
        if self.next_retry_at is not None:
            wait = (self.next_retry_at - datetime.now(UTC)).total_seconds()
            return max(1, min(60, int(wait) + 1))
        return 2

    def failed(self, reason: str, pause: float) -> bool:
        """Note a failed attempt, retried after `pause` seconds; True when routing worked until now."""
        now = datetime.now(UTC)
        first = self.failing_since is None
        if first:
            self.failing_since = now
        self.last_failure = Failure(now, reason)
        self.next_retry_at = datetime.fromtimestamp(now.timestamp() + pause, UTC)
        return first


def combined(routing: dict[str, Any], drain: RoutingRecord | None,
             waiting: tuple[int, datetime | None], *, counted: bool = True) -> dict[str, Any]:
    """`routing` (a `RoutingRecord.status`) with the drain's side: `drain_backlog` (intents committed,
    not carried out), `oldest_intent_age_seconds`, `drained` (by this process), `drain_failing_since`.
    `state` covers both: `retrying` while either fails, `routing` while changes wait to be routed,
    `draining` while only intents wait (or before the drain has `counted` them), else `idle` (or
    `stopped`). `drain`: None when the router drains its own intents (shared routing): its failures
    are routing's."""
    count, oldest = waiting
    age = None if not count or oldest is None else round(max(0.0, (datetime.now(UTC) - oldest).total_seconds()), 3)
    status = {**routing, "drain_backlog": count, "oldest_intent_age_seconds": age,
              "drained": None if drain is None else drain.routed, "drain_failing_since": None}
    if drain is None:
        if status["state"] == "idle" and count:
            status["state"] = "draining"
        return status
    status["drain_failing_since"] = iso(drain.failing_since)
    failure = drain.last_failure
    if failure is not None and (status["last_failure"] is None or iso(failure.at) > status["last_failure"]["at"]):
        status["last_failure"] = {"at": iso(failure.at), "reason": failure.reason}
    if status["state"] == "stopped":
        return status
    if drain.failing_since is not None:
        status["state"] = "retrying"
        if status["failing_since"] is None or iso(drain.failing_since) < status["failing_since"]:
            status["failing_since"] = iso(drain.failing_since)
        status["next_retry_at"] = status["next_retry_at"] or iso(drain.next_retry_at)
    elif status["state"] == "idle" and (count or not counted):
        status["state"] = "draining"
    return status


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def first_line(error: BaseException) -> str:
    origin = getattr(error, "orig", None) or error
    text = str(origin).strip()
    return text.splitlines()[0] if text else type(origin).__name__


def stopped_by(error: Exception, timeout_seconds: float) -> RoutingStopped:
    """What an error of a call to Temporal (or of the store) means for routing."""
    if isinstance(error, TimeoutError):
        return RoutingStopped(f"Temporal did not answer within {timeout_seconds:g} s")
    if isinstance(error, RPCError):
        return RoutingStopped(f"Temporal refused or could not take the call ({error.status.name}: "
                              f"{error.message})")
    if isinstance(error, SQLAlchemyError):
        return store_stopped(error)
    return RoutingStopped(f"Temporal is unreachable ({type(error).__name__}: {first_line(error)})")


def store_stopped(error: SQLAlchemyError) -> RoutingStopped:
    return RoutingStopped(f"the store is unavailable ({first_line(error)})")


def refusal_of(error: Exception) -> str | None:
    """Why Temporal refused a call for a reason that is not an outage (an invalid argument, a payload
    too large, a bug of ours): that call fails the same when repeated. None: an outage (unavailable,
    late, unreachable, the store down), which is waited out."""
    if isinstance(error, RPCError):
        if error.status in _OUTAGES:
            return None
        return f"Temporal refused the call ({error.status.name}: {error.message})"
    if isinstance(error, (TimeoutError, ConnectionError, OSError, SQLAlchemyError, RuntimeError)):
        return None  # the SDK's connection failures are RuntimeErrors
    return f"{type(error).__name__}: {first_line(error)}"
