"""`playbook ingest FILE [--batch N]`: send events (JSON lines) to a running engine.

The file is read and checked line by line here (a line that is not a JSON object is reported
without being sent), then its objects go to `POST /v1/events` in batches of `--batch` lines
(and at most a few MB), with a progress bar. Each rejected line is reported as
`FILE:LINE: reason` with the line number of the file, then a summary of what was accepted,
what the engine already had (duplicates) and what it rejected. A file that is one JSON object
or one JSON array of objects is taken too, as the API takes it.

Re-running is safe: the engine is idempotent on the events' ids, so what it stored before counts
as duplicates. The engine answers a batch as soon as it is stored and routes it to journeys in
the background; when it cannot take a batch yet (503, nothing stored: its routing backlog is full
while Temporal is away, or its database is unavailable), the batch is sent again after the
engine's Retry-After until it is taken (`--retries` bounds that).

Exit status: 0 when every line was accepted or a duplicate, 1 when a line was rejected or the
engine could not be reached, 2 for a mistake in the call.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from cli.commands import UsageError, plural
from cli.commands.api_client import Api, EngineError, add_engine_options, api_from_args
from cli.commands.timeline_shift import shift_to_now
from engine.intake.json_lines import ParsedLine, parse_lines
from engine.records import Rejection
from engine.semantics.time_rules import parse_horizon

__all__ = ["read_events", "register", "run"]

DEFAULT_ROUTED_WAIT = 60.0  # seconds `--wait` waits for routing by default
ROUTED_POLL_SECONDS = 0.2
DEFAULT_BATCH = 2_000  # lines per request: one transaction each on the engine's side
MAX_BATCH = 10_000
MAX_BATCH_BYTES = 4 * 1024 * 1024  # under the API's default body limit (5 MB)
NDJSON = {"Content-Type": "application/x-ndjson"}


@dataclass
class Tally:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    backfill: int = 0  # accepted as history: they trigger nothing

    def add(self, other: Tally) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.backfill += other.backfill
        self.rejected.extend(other.rejected)


def _whole_json(text: str) -> bool:
    """True when the text is one JSON object or array (possibly over many lines), not JSON lines."""
    if text.lstrip("\ufeff \t\r\n")[:1] not in ("{", "["):
        return False
    try:
        value = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict | list)


def read_events(text: str) -> list[ParsedLine]:
    """The file's objects with their line numbers, and a `Rejection` for each line that is not one.

    JSON lines are split on newlines only (a JSON string may hold U+2028 and other characters
    that Python's `splitlines` takes for line ends), so the numbers are those an editor shows.
    """
    return _read(text)[0]


def _read(text: str) -> tuple[list[ParsedLine], list[str] | None]:
    """`read_events`, with the file's lines when it is JSON lines (line N is `lines[N - 1]`)."""
    if _whole_json(text):
        return parse_lines(text), None
    lines = text.split("\n")
    return parse_lines(lines), lines


def _wire(obj: dict[str, Any], raw: str | None = None) -> str:
    """The object as sent: its line as written when that is plain ASCII, else compact ASCII JSON
    (no character the server could take for a line end inside a string)."""
    if raw is not None:
        raw = raw.strip()
        if raw.isascii() and raw.startswith("{"):
            return raw
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


def _batches(entries: list[ParsedLine], size: int,
             lines: list[str] | None = None) -> Iterator[list[Rejection | tuple[int, str]]]:
    """Runs of entries holding at most `size` objects (as sent) and `MAX_BATCH_BYTES` of them."""
    batch: list[Rejection | tuple[int, str]] = []
    objects = nbytes = 0
    for entry in entries:
        if isinstance(entry, Rejection):
            batch.append(entry)
            continue
        raw = lines[entry[0] - 1] if lines is not None and 0 < entry[0] <= len(lines) else None
        line = (entry[0], _wire(entry[1], raw))
        if objects and (objects >= size or nbytes + len(line[1]) + 1 > MAX_BATCH_BYTES):
            yield batch
            batch, objects, nbytes = [], 0, 0
        batch.append(line)
        objects += 1
        nbytes += len(line[1]) + 1
    if batch:
        yield batch


def _counts(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("accepted"), int):
        raise EngineError(f"the engine answered {response.status_code} without the counts of an events batch")
    return body


def _accepted(response: httpx.Response) -> int:
    try:
        body = response.json()
    except ValueError:
        return 0
    accepted = body.get("accepted") if isinstance(body, dict) else None
    return accepted if isinstance(accepted, int) else 0


class Sender:
    def __init__(self, api: Api, retries: int | None, wait: float | None, progress: Any,
                 query: dict[str, str] | None = None) -> None:
        self.api = api
        self.path = "/v1/events" + (f"?{urlencode(query)}" if query else "")
        self.retries = retries
        self.wait = wait
        self.progress = progress

    def _paused(self, reason: str, seconds: float) -> None:
        self.progress.console.print(f"the engine cannot take the batch yet ({reason}); "
                                    f"sending it again in {seconds:g} s", style="yellow")

    def send(self, lines: list[tuple[int, str]]) -> Tally:
        """One batch: its counts, with rejections numbered as lines of the file."""
        answers: list[httpx.Response] = []
        body = "\n".join(text for _, text in lines) + "\n"
        response = self.api.send_retrying("POST", self.path, content=body, headers=NDJSON,
                                          retries=self.retries, wait=self.wait, on_pause=self._paused,
                                          on_answer=answers.append)
        if response.status_code == 413:
            return self._too_large(lines, response)
        # a 503 stores nothing; should one carry counts (an engine that stored, then failed), what it
        # accepted comes back as duplicates of the re-sent batch
        earlier = sum(_accepted(answer) for answer in answers[:-1])
        final = _counts(response)
        tally = Tally(accepted=earlier + int(final["accepted"]),
                      duplicates=max(0, int(final.get("duplicates", 0)) - earlier),
                      backfill=int(final.get("backfill", 0) or 0))
        for rejection in final.get("rejected") or []:
            number = int(rejection.get("line", 0))
            line = lines[number - 1][0] if 0 < number <= len(lines) else number
            tally.rejected.append((line, str(rejection.get("reason", ""))))
        return tally

    def _too_large(self, lines: list[tuple[int, str]], response: httpx.Response) -> Tally:
        """413: the batch was refused whole. When the engine lists the lines over its limit, report
        those and send the others again; else halve the batch until the line stands alone."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        limit = answer.get("limit_bytes")
        oversize = {item["line"] - 1: item.get("bytes") for item in answer.get("oversize") or []
                    if isinstance(item, dict) and isinstance(item.get("line"), int) and 0 < item["line"] <= len(lines)}
        if not oversize:
            if len(lines) > 1:
                middle = len(lines) // 2
                tally = self.send(lines[:middle])
                tally.add(self.send(lines[middle:]))
                return tally
            oversize = {0: None}
        tally = Tally()
        said_limit = f"; the limit for one event is {limit:,} bytes" if isinstance(limit, int) else ""
        for index, size in sorted(oversize.items()):
            what = f"the event is {size:,} bytes" if isinstance(size, int) else "the event is over its size limit"
            tally.rejected.append((lines[index][0], f"too large for the engine: {what}{said_limit}"))
        rest = [line for index, line in enumerate(lines) if index not in oversize]
        if rest:
            tally.add(self.send(rest))
        return tally


def _read_text(raw: str) -> tuple[str, str]:
    """The file's text and the name to report its lines under."""
    if raw == "-":
        data, shown = sys.stdin.buffer.read(), "<stdin>"
    else:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"no such file: {raw}")
        if path.is_dir():
            raise UsageError(f"{raw} is a folder: give a file of JSON lines")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read {raw}: {error.strerror or error}") from None
        shown = raw
    try:
        return data.decode("utf-8"), shown
    except UnicodeDecodeError as error:
        raise UsageError(f"{shown} is not UTF-8 text (byte {error.start}: {error.reason})") from None


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"),
                    TimeElapsedColumn(), console=console, disable=not console.is_terminal)


def _summary(shown: str, total: int, tally: Tally, seconds: float) -> str:
    parts = [f"{tally.accepted:,} accepted", plural(tally.duplicates, "duplicate"),
             f"{len(tally.rejected):,} rejected"]
    return f"{shown}: {plural(total, 'line')} sent in {seconds:.1f} s: {', '.join(parts)}"


def _span(delta: timedelta) -> str:
    sign = "-" if delta < timedelta(0) else "+"
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    return f"{sign}{days} days {rest // 3600:02d}:{rest % 3600 // 60:02d}"


def _history_note(tally: Tally) -> str | None:
    """What was stored as history, said before the summary; None when nothing was."""
    if not tally.backfill:
        return None
    return (f"{tally.backfill:,} of the accepted lines stored as history (back-fill: older than the trigger horizon "
            "when they arrived, or sent as back-fill): they update fields, events and scores but start no journey "
            "and send nothing; `playbook why ACCOUNT` shows what they would have triggered")


def _wait_until_routed(api: Api, seconds: float) -> dict[str, Any]:
    """Poll the engine until its routing backlog is empty (every stored event has reached its
    journeys) or `seconds` have passed; its last routing state."""
    deadline = time.monotonic() + seconds
    while True:
        answer = api.json("GET", "/healthz")
        routing = answer.get("routing") if isinstance(answer, dict) else None
        routing = routing if isinstance(routing, dict) else {}
        if not (routing.get("backlog") or routing.get("drain_backlog")) or time.monotonic() >= deadline:
            return routing
        time.sleep(min(ROUTED_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _routed_line(routing: dict[str, Any], seconds: float) -> tuple[str, bool]:
    backlog, waiting = int(routing.get("backlog") or 0), int(routing.get("drain_backlog") or 0)
    if not backlog and not waiting:
        return "routed: every stored event has reached its journeys", True
    state = routing.get("state", "routing")
    why = f" (routing is {state}; see GET /v1/status)" if state not in ("routing", "draining") else ""
    if not backlog:
        why = f" (the drain is {state}; see GET /v1/status)" if state not in ("routing", "draining") else ""
        return (f"still draining after {seconds:g} s: every stored event is routed, {plural(waiting, 'journey start')}"
                " or signal not yet carried out on Temporal; they are committed and will be carried out"
                f"{why}"), False
    return (f"still routing after {seconds:g} s: {plural(backlog, 'stored event')} not yet routed{why}; "
            "they are stored and will be routed"), False


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.batch <= MAX_BATCH:
        raise UsageError(f"--batch: give a number of lines from 1 to {MAX_BATCH:,}, not {args.batch}")
    if args.retries is not None and args.retries < 0:
        raise UsageError("--retries: give 0 or more")
    if args.retry_wait is not None and args.retry_wait < 0:
        raise UsageError("--retry-wait: give 0 or more seconds")
    if args.wait is not None and args.wait < 0:
        raise UsageError("--wait: give 0 or more seconds")
    if args.horizon is not None:
        try:
            parse_horizon(args.horizon)
        except ValueError as error:
            raise UsageError(f"--horizon: {error}") from None
    text, shown = _read_text(args.file)
    entries, file_lines = _read(text)
    if not entries:
        print(f"{shown}: no events to send")
        return 0
    if args.shift_to_now:
        entries, delta = shift_to_now(entries, datetime.now(UTC))
        file_lines = None  # the shifted objects are sent as rewritten
        print(f"{shown}: every moment shifted by {_span(delta)} so that the last event happens now")
    started = time.monotonic()
    tally = Tally()
    try:
        with api_from_args(args) as api, _progress() as progress:
            task = progress.add_task(f"sending to {api.url}", total=len(entries))
            query = {key: value for key, value in (("horizon", args.horizon),
                                                   ("backfill", "true" if args.backfill else None)) if value}
            sender = Sender(api, args.retries, args.retry_wait, progress, query)
            for batch in _batches(entries, args.batch, file_lines):
                lines = [entry for entry in batch if not isinstance(entry, Rejection)]
                found = Tally(rejected=[(entry.line, entry.reason) for entry in batch
                                        if isinstance(entry, Rejection)])
                if lines:
                    found.add(sender.send(lines))
                for line, reason in sorted(found.rejected):
                    print(f"{shown}:{line}: {reason}", file=sys.stderr)
                tally.add(found)
                progress.advance(task, len(batch))
            routed = None if args.wait is None else _routed_line(_wait_until_routed(api, args.wait), args.wait)
    except EngineError as error:
        print(f"playbook ingest: {error}", file=sys.stderr)
        if (note := _history_note(tally)) is not None:
            print(note)
        if tally.accepted or tally.duplicates or tally.rejected:
            print(_summary(shown, len(entries), tally, time.monotonic() - started) + " before it stopped")
        return 1
    if (note := _history_note(tally)) is not None:
        print(note)
    print(_summary(shown, len(entries), tally, time.monotonic() - started))
    if routed is not None:
        said, done = routed
        print(said, file=sys.stdout if done else sys.stderr)
        if not done:
            return 1
    return 1 if tally.rejected else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="send events (JSON lines) to a running engine, with a progress bar",
        description="Send the events and trait updates of FILE (JSON lines, docs/events-and-actions.md) to a "
                    "running engine in batches. Rejected lines are reported as FILE:LINE: reason; re-running is safe.",
    )
    parser.add_argument("file", metavar="FILE", help="the JSON lines to send ('-' reads standard input)")
    parser.add_argument("--shift-to-now", action="store_true",
                        help="move every event's time by the same amount so that the file's last event happens "
                             "now (an example or a recorded timeline, replayed live)")
    parser.add_argument("--backfill", action="store_true",
                        help="send the file as history: it updates fields, events and scores but starts no journey "
                             "and sends nothing (e.g. importing last quarter)")
    parser.add_argument("--horizon", metavar="DURATION", default=None,
                        help="objects older than this when they arrive are history (default: the engine's "
                             "PLAYBOOK_TRIGGER_HORIZON, 24h); e.g. 48h for a nightly sync")
    parser.add_argument("--batch", metavar="N", type=int, default=DEFAULT_BATCH,
                        help=f"lines per request (default: {DEFAULT_BATCH})")
    parser.add_argument("--retries", metavar="N", type=int, default=None,
                        help="when the engine cannot route a batch (503), send it again at most N times "
                             "(default: until it is routed)")
    parser.add_argument("--retry-wait", metavar="SECONDS", type=float, default=None,
                        help="seconds to wait before sending such a batch again (default: the engine's Retry-After)")
    parser.add_argument("--wait", metavar="SECONDS", type=float, nargs="?", const=DEFAULT_ROUTED_WAIT, default=None,
                        help="then wait until the engine has routed every stored event to its journeys, at most "
                             f"SECONDS (default {DEFAULT_ROUTED_WAIT:g}); exit 1 if it has not")
    add_engine_options(parser)
    parser.set_defaults(handler=run)
