"""`playbook backtest`: replay the stored event history through two versions of the playbooks.

The history is what the world told the engine: the input objects of the live store whose
source is `ingest` (not the trait updates the playbooks' own `set` statements made), in stored
order, within a window and for some accounts. It is written out as a timeline and replayed on
Temporal's time-skipping test server, once with the base version of the playbooks and once with
the head version, each on a temporary store with a mail sink, exactly as `playbook simulate`
runs a timeline. `simulation.backtest_diff` compares the two action logs.

Nothing is sent and the live store is never written: it is opened read-only (SQLite in
`mode=ro`, PostgreSQL with read-only transactions), plugin activities (`do webhook.post`, Slack
…) are replaced by a recorder that logs the `call` without running it, and mail goes to the
sink.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from dsl import ir
from engine.records import ActionRecord, Rejection
from engine.store.schema import events, tasks
from simulation.simulate import TimelineError, simulate

__all__ = [
    "BacktestError",
    "History",
    "Replay",
    "Window",
    "materialise_base",
    "read_history",
    "read_only_engine",
    "replay",
    "replay_both",
    "write_timeline",
]


class BacktestError(Exception):
    """The backtest cannot run: no store, no history, a base that cannot be found."""


ARRIVED_LATE = timedelta(seconds=1)  # an arrival this much after `at` is replayed as late input


@dataclass(frozen=True)
class Window:
    """Which part of the history counts: actions from `since` (inclusive) to `until` (exclusive).

    The replay itself starts `warmup` before `since`, so journeys and metrics that began earlier
    are under way when the compared window opens. Each object arrives when it arrived live (its
    stored arrival moment; back-fill stays back-fill), or with `on_time` at its own `at`: what the
    playbooks would have done had the history come in as it happened (a back-filled quarter).
    """

    since: datetime | None = None
    until: datetime | None = None
    warmup: timedelta = timedelta(0)
    on_time: bool = False

    @property
    def replay_from(self) -> datetime | None:
        return None if self.since is None else self.since - self.warmup


@dataclass
class History:
    """The input objects to replay, as timeline objects (docs/events-and-actions.md, "Events in"), in order."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    seeded: int = 0  # accounts given their traits as of the replay's start (stored before it)
    rewritten_completions: int = 0  # task_completed events pointed at their task's playbook
    first: datetime | None = None
    last: datetime | None = None

    @property
    def stored(self) -> int:
        """How many stored objects are replayed (seed objects not counted)."""
        return len(self.objects) - self.seeded


# --------------------------------------------------------------------------- the live store, read-only


def read_only_engine(url: str) -> Engine:
    """An SQLAlchemy engine on the live store that cannot write to it."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise BacktestError(f"{url!r} is not a database URL such as sqlite:///state/store.db") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise BacktestError("an in-memory store holds no history: give the live store's --database-url")
        path = Path(str(parsed.database))
        if not path.is_file():
            raise BacktestError(f"no store at {path}: give the live store's --database-url")
        uri = f"{path.resolve().as_uri()}?mode=ro"
        return create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    if backend == "postgresql":
        return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
    raise BacktestError(f"the store is on SQLite or PostgreSQL, not {backend}")


def _merge_traits(seeds: dict[str, dict[str, Any]], seen_at: dict[str, dict[str, datetime]], account: str,
                  traits: dict[str, Any], at: datetime) -> None:
    """Last writer by time, as the store applies traits."""
    fields, times = seeds.setdefault(account, {}), seen_at.setdefault(account, {})
    for name, value in traits.items():
        if name not in times or times[name] <= at:
            fields[name] = value
            times[name] = at


def _task_playbooks(engine: Engine, task_ids: set[str]) -> dict[str, str]:
    if not task_ids:
        return {}
    query = select(tasks.c.id, tasks.c.playbook).where(tasks.c.id.in_(sorted(task_ids)))
    with engine.connect() as conn:
        return {row.id: row.playbook for row in conn.execute(query) if row.playbook}


def read_history(url: str, window: Window, accounts: Sequence[str] = ()) -> History:
    """The `ingest` input objects of the store at `url` within `window`, for `accounts` (all when empty).

    Objects stored before the replay's start are not replayed; the traits they set (last writer
    by time) are given to each account in one traits-only object at the start, so audiences,
    branches and templates see the accounts as they were. A `task_completed` naming a task id
    names that task's playbook instead: task ids are made per journey run, and the replay's runs
    are new ones.
    """
    engine = read_only_engine(url)
    start = window.replay_from
    query = select(events.c.seq, events.c.id, events.c.account, events.c.name, events.c.at, events.c.data,
                   events.c.traits, events.c.source, events.c.received_at
                   ).where(events.c.source.in_(("ingest", "backfill")))
    if accounts:
        query = query.where(events.c.account.in_(sorted(set(accounts))))
    if window.until is not None:
        query = query.where(events.c.at < window.until)
    history = History()
    seeds: dict[str, dict[str, Any]] = {}
    seen_at: dict[str, dict[str, datetime]] = {}
    replayed: list[Any] = []
    try:
        with engine.connect() as conn:
            for row in conn.execute(query.order_by(events.c.seq)):
                if start is not None and row.at < start:
                    if row.traits:
                        _merge_traits(seeds, seen_at, row.account, dict(row.traits), row.at)
                    continue
                replayed.append(row)
            completed = {str(row.data.get("task")) for row in replayed
                         if row.name == "task_completed" and isinstance(row.data.get("task"), str)}
            owners = _task_playbooks(engine, completed)
    except SQLAlchemyError as error:
        raise BacktestError(f"cannot read the store's history: {error.__cause__ or error}") from error
    finally:
        engine.dispose()
    if start is not None:
        for account in sorted(seeds):
            if seeds[account]:
                history.objects.append({"account": account, "at": start.isoformat(), "traits": seeds[account]})
                history.seeded += 1
    for row in replayed:
        obj: dict[str, Any] = {"account": row.account, "at": row.at.isoformat()}
        if row.id is not None:
            obj["id"] = row.id
        if row.name is not None:
            data = dict(row.data)
            task = data.get("task")
            if row.name == "task_completed" and isinstance(task, str) and task in owners:
                data = {key: value for key, value in data.items() if key != "task"}
                data["playbook"] = owners[task]
                history.rewritten_completions += 1
            obj["event"], obj["data"] = row.name, data
        if row.traits:
            obj["traits"] = dict(row.traits)
        if "event" not in obj and "traits" not in obj:
            continue
        if not window.on_time:
            if row.source == "backfill":
                obj["backfill"] = True
            elif row.received_at is not None and row.received_at - row.at > ARRIVED_LATE:
                obj["received_at"] = row.received_at.isoformat()
        history.objects.append(obj)
        history.accounts.add(row.account)
        history.first = row.at if history.first is None else min(history.first, row.at)
        history.last = row.at if history.last is None else max(history.last, row.at)
    return history


def write_timeline(history: History, path: Path) -> Path:
    """The history as a timeline file (JSON lines), ready for `load_timeline`."""
    with path.open("w", encoding="utf-8") as out:
        for obj in history.objects:
            out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    return path


# --------------------------------------------------------------------------- the base version


def _git(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False)
    except OSError as error:
        raise BacktestError(f"git is not available: {error}") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BacktestError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout


def materialise_base(base: str, head: Path, into: Path) -> tuple[Path, str]:
    """The base playbooks folder and how to name it.

    An existing folder is used as it is. Anything else is a git revision of the repository that
    holds `head` (`main`, `HEAD~1`, a commit): its version of the folder at the same path as
    `head` is extracted into `into`.
    """
    as_folder = Path(base)
    if as_folder.is_dir():
        return as_folder, str(as_folder)
    if not head.is_dir():
        raise BacktestError(f"--head: no such folder: {head}")
    try:
        top = Path(_git(head, "rev-parse", "--show-toplevel").decode().strip())
    except BacktestError as error:
        raise BacktestError(f"--base: {base!r} is no folder, and {head} is not in a git repository to take a "
                            f"revision from ({error})") from None
    prefix = _git(head, "rev-parse", "--show-prefix").decode().strip()
    try:
        commit = _git(head, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").decode().strip()
    except BacktestError:
        raise BacktestError(f"--base: {base!r} is neither a folder nor a git revision of the repository of "
                            f"{head}") from None
    try:
        _git(top, "cat-file", "-e", f"{commit}:{prefix}")
    except BacktestError:
        raise BacktestError(f"--base: {base} has no folder {prefix.rstrip('/') or '.'}") from None
    archive = _git(top, "archive", "--format=tar", f"{commit}:{prefix}")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into, f"{base} ({commit[:12]})"


# --------------------------------------------------------------------------- replaying


@dataclass
class Replay:
    """One version's run over the history."""

    bundle: ir.Bundle
    start: datetime
    end: datetime
    actions: list[ActionRecord]
    rejected: list[Rejection]


async def replay(bundle: ir.Bundle, timeline: Path, *, start: datetime, end: datetime,
                 state_dir: Path | None = None) -> Replay:
    """Run `timeline` on `bundle` from `start` to `end`, on a temporary store, sending nothing."""
    days = max((end - start).total_seconds() / 86400, 1 / 24)
    try:
        result = await simulate(bundle, timeline, start=start, days=days, state_dir=state_dir, processes=None)
    except TimelineError as error:
        raise BacktestError(str(error)) from error
    actions = [action for action in result.actions if action.at < end]
    return Replay(bundle=bundle, start=result.start, end=end, actions=actions, rejected=result.rejected)


def replay_window(history: History, window: Window, now: datetime | None = None) -> tuple[datetime, datetime]:
    """When the replay starts and ends.

    It starts `warmup` before `since` (default: the first replayed object) and ends at `until`
    (default: now, and at least a day after the last replayed object).
    """
    if history.first is None:
        raise BacktestError("no stored event in the window: nothing to replay")
    start = window.replay_from or history.first
    if window.until is not None:
        end = window.until
    else:
        assert history.last is not None
        end = max(now or datetime.now(UTC), history.last + timedelta(days=1))
    if end <= start:
        raise BacktestError(f"the window is empty: it ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    return start, end


@contextmanager
def _timeline_file(history: History) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="playbook-backtest-timeline-") as folder:
        yield write_timeline(history, Path(folder) / "history.jsonl")


async def replay_both(base: ir.Bundle, head: ir.Bundle, history: History, window: Window,
                      now: datetime | None = None) -> tuple[Replay, Replay]:
    """The same history replayed on `base` and on `head`, one after the other."""
    start, end = replay_window(history, window, now)
    with _timeline_file(history) as timeline:
        before = await replay(base, timeline, start=start, end=end)
        after = await replay(head, timeline, start=start, end=end)
    return before, after
