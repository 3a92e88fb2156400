"""The pieces of a production layout that the fault tests break on purpose.

- `Relay`: an SMTP server written for these tests (plain asyncio on a thread of its own), whose
  behaviour the test sets per connection: take the message, answer `421` at the greeting,
  refuse the message with `550`, or take the message and then hold the `DATA` reply so the
  test can kill the sender before it hears that the relay accepted. `stop()` closes the port,
  so connections are refused until `start()` opens it again. It keeps every message and every
  connection, with the time it came.
- `Process`: `playbook worker` / `playbook api` / `playbook migrate` as real subprocesses of the
  `playbook` script of this Python, with their output kept in a log file, stopped with SIGKILL
  when a test means to crash them.
- Helpers on Temporal (the pending activity of a journey, its attempt and last failure) and
  `eventually`, the one way these tests wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import httpx
from temporalio.api.enums.v1 import EventType, RetryState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client

from tests.live_api import free_port

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
PLAYBOOK = str(Path(sys.executable).parent / "playbook")
TOKEN = "faults-api-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60.0,
                     every: float = 0.2) -> T:
    """The first truthy result of `check()`, polled every `every` seconds; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)


# --------------------------------------------------------------------------------- the relay


class Reply(enum.Enum):
    ACCEPT = "accept"  # 250 after DATA: the message is kept
    BUSY = "busy"  # 421 at the greeting, then the connection is closed
    REJECT = "reject"  # 550 after DATA: the message is refused for good
    HOLD = "hold"  # the message is kept, and the reply to DATA never comes


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    to: list[str]
    message_id: str
    subject: str
    content: bytes


@dataclass(frozen=True)
class Connection:
    at: float  # time.monotonic()
    reply: Reply


@dataclass
class Relay:
    """An SMTP relay on 127.0.0.1:`port` whose answers the test decides (see the module)."""

    port: int = field(default_factory=free_port)
    reply: Reply = Reply.ACCEPT  # to every connection once `script` is used up
    script: list[Reply] = field(default_factory=list)  # the replies to the next connections, in order
    rules: dict[str, Reply] = field(default_factory=dict)  # by recipient: overrides the above after RCPT
    messages: list[Received] = field(default_factory=list)
    rejected: list[Received] = field(default_factory=list)  # refused with 550
    connections: list[Connection] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)  # set when a HOLD message is kept
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- control, from the test's thread

    def start(self) -> None:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name=f"relay-{self.port}", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
        assert self._server is None, "the relay already listens"
        self._server = self._call(asyncio.start_server(self._session, "127.0.0.1", self.port, reuse_address=True))

    def stop(self) -> None:
        """Close the port (connections are refused from now on); sessions under way are cut."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            self._call(self._close(server))

    def close(self) -> None:
        self.stop()
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            assert self._thread is not None
            self._thread.join(timeout=10)
            loop.close()

    def kept(self, to: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if to is None or to in m.to]

    def _call(self, coroutine: Awaitable[T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)  # type: ignore[arg-type]

    @staticmethod
    async def _close(server: asyncio.Server) -> None:
        close_clients = getattr(server, "close_clients", None)  # Python 3.13: cut sessions under way
        if close_clients is not None:
            close_clients()
        await server.wait_closed()

    # -- the SMTP side, on the relay's thread

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            reply = self.script.pop(0) if self.script else self.reply
            self.connections.append(Connection(time.monotonic(), reply))

        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            if reply is Reply.BUSY:
                await say("421 4.3.2 relay.test busy, try again later")
                return
            await say("220 relay.test ESMTP")
            recipients: list[str] = []
            while True:
                line = await reader.readline()
                if not line:
                    return
                verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    await say("250-relay.test\r\n250-8BITMIME\r\n250 SMTPUTF8" if verb == "EHLO" else "250 relay.test")
                elif verb == "MAIL":
                    recipients = []
                    await say("250 2.1.0 OK")
                elif verb == "RCPT":
                    address = line.decode("utf-8", "replace").split(":", 1)[1].strip()
                    recipients.append(address.split(">")[0].lstrip("<"))
                    await say("250 2.1.5 OK")
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    content = await self._content(reader)
                    reply = next((self.rules[r] for r in recipients if r in self.rules), reply)
                    if reply is Reply.REJECT:
                        self._keep(recipients, content, self.rejected)
                        await say("550 5.7.1 relay.test refuses this message for good")
                        continue
                    self._keep(recipients, content, self.messages)
                    if reply is Reply.HOLD:
                        self.held.set()
                        await reader.read()  # no answer: wait for the sender to go away
                        return
                    await say("250 2.0.0 OK: kept")
                elif verb == "RSET" or verb == "NOOP":
                    await say("250 OK")
                elif verb == "QUIT":
                    await say("221 bye")
                    return
                else:
                    await say("502 5.5.2 not implemented")
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _content(reader: asyncio.StreamReader) -> bytes:
        lines: list[bytes] = []
        while True:
            line = await reader.readline()
            if not line or line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)

    def _keep(self, recipients: list[str], content: bytes, into: list[Received]) -> None:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(content)
        message = Received(time.monotonic(), list(recipients), str(headers.get("message-id", "")).strip(),
                           str(headers.get("subject", "")), content)
        with self._lock:
            into.append(message)


# --------------------------------------------------------------------------------- processes


@dataclass
class Process:
    """A `playbook` command as a real subprocess, its output in `log`."""

    args: list[str]
    env: Mapping[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        assert self.popen is None or self.popen.poll() is not None, "already running"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"---- {datetime.now(UTC).isoformat()} {' '.join(self.args)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen([PLAYBOOK, *self.args], env={**os.environ, **self.env}, cwd=ROOT,
                                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, in-flight work is lost."""
        if self.popen is not None and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait(self, timeout: float = 120.0) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout=timeout)

    async def until_output(self, text: str, timeout: float = 90.0) -> None:
        async def seen() -> bool:
            if text in self.output():
                return True
            if not self.running():
                code = self.popen and self.popen.returncode
                raise AssertionError(f"`playbook {' '.join(self.args)}` exited with {code}:\n{self.output()[-3000:]}")
            return False

        await eventually(seen, f"{text!r} from `playbook {' '.join(self.args)}`", timeout)


def environment(*, temporal: str, database_url: str, smtp_port: int = 9, api_port: int = 8000,
                task_queue: str = "faults") -> dict[str, str]:
    return {
        "PLAYBOOK_TEMPORAL_ADDRESS": temporal,
        "PLAYBOOK_TASK_QUEUE": task_queue,
        "PLAYBOOK_DATABASE_URL": database_url,
        "PLAYBOOK_PLAYBOOKS": str(PLAYBOOKS),
        "PLAYBOOK_SMTP_HOST": "127.0.0.1",
        "PLAYBOOK_SMTP_PORT": str(smtp_port),
        "PLAYBOOK_API_HOST": "127.0.0.1",
        "PLAYBOOK_API_PORT": str(api_port),
        "PLAYBOOK_API_TOKEN": TOKEN,
        "PLAYBOOK_UNSUBSCRIBE_SECRET": "faults-unsubscribe-secret",
        "PLAYBOOK_PUBLIC_URL": "http://api.faults.test",
        "PLAYBOOK_PLUGINS": "builtin",
    }


def migrate(database_url: str, log: Path) -> None:
    process = Process(["migrate", "--database-url", database_url], {}, log).start()
    assert process.wait() == 0, process.output()


async def start_worker(env: Mapping[str, str], log: Path) -> Process:
    worker = Process(["worker"], env, log).start()
    await worker.until_output("playbook worker: ")
    return worker


async def start_api(env: Mapping[str, str], log: Path) -> Process:
    api = Process(["api"], env, log).start()
    url = f"http://127.0.0.1:{env['PLAYBOOK_API_PORT']}/healthz"

    async def answers() -> bool:
        if not api.running():
            raise AssertionError(f"`playbook api` exited with {api.popen and api.popen.returncode}:\n"
                                 f"{api.output()[-3000:]}")
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(answers, "`playbook api` to answer /healthz", timeout=90.0, every=0.3)
    return api


# --------------------------------------------------------------------------------- events


def now() -> str:
    return datetime.now(UTC).isoformat()


def signup(account: str, *, prefix: str = "") -> list[dict[str, Any]]:
    """The traits of a new account and its `signed` event: the drill's journey starts."""
    at = now()
    return [
        {"id": f"{prefix}{account}-traits", "account": account, "at": at,
         "traits": {"name": account.title(), "primary_contact": {"email": address(account), "name": "Ana"}}},
        {"id": f"{prefix}{account}-signed", "account": account, "at": at, "event": "signed", "data": {}},
    ]


def event(account: str, name: str) -> dict[str, Any]:
    return {"id": f"{account}-{name}", "account": account, "at": now(), "event": name, "data": {}}


def address(account: str) -> str:
    return f"contact@{account}.example"


def ndjson(objects: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item) + "\n" for item in objects)


async def post(api_port: int, objects: list[dict[str, Any]], timeout: float = 120.0,
               wait: bool = False) -> httpx.Response:
    """POST the objects; the answer comes once they are stored (with `wait`: and routed)."""
    async with httpx.AsyncClient(timeout=timeout) as http:
        return await http.post(f"http://127.0.0.1:{api_port}/v1/events", content=ndjson(objects),
                               params={"wait": "true"} if wait else None,
                               headers={**AUTH, "Content-Type": "application/x-ndjson"})


async def send(api_port: int, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """POST the objects with `?wait=true`: every one must be accepted or known already (202), and
    routed, so that the journeys they start or signal have heard them when this returns."""
    response = await post(api_port, objects, wait=True)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert not body["rejected"], body
    assert body["routed"], body
    return body


async def routing(api_port: int) -> dict[str, Any]:
    """Where the API's background routing stands (`GET /v1/status`)."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        response = await http.get(f"http://127.0.0.1:{api_port}/v1/status", headers=AUTH)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()["routing"]
    return state


async def drained(api_port: int, timeout: float = 120.0) -> dict[str, Any]:
    """Wait until the API has routed every stored event it knows of; its routing state then."""
    async def done() -> dict[str, Any] | None:
        state = await routing(api_port)
        return state if state["backlog"] == 0 and state["state"] == "idle" else None

    return await eventually(done, "the API to route every stored event", timeout=timeout, every=0.2)


# --------------------------------------------------------------------------------- Temporal


def journey_id(account: str, playbook: str = "drill") -> str:
    return f"journey/{playbook}/{account}"


async def pending_activity(client: Client, workflow_id: str) -> PendingActivityInfo | None:
    """The journey's activity under way (started or waiting for a retry), if any."""
    description = await client.get_workflow_handle(workflow_id).describe()
    pending = list(description.raw_description.pending_activities)
    return pending[0] if pending else None


async def expire_attempt(client: Client, workflow_id: str) -> None:
    """End the running attempt of the journey's activity as failed, now.

    A worker killed with SIGKILL never reports its attempt: the server notices only when the
    attempt's start-to-close timeout runs out (the journey's activities have 2 minutes and no
    heartbeat), then retries. This does at once what that timeout does two minutes later, so
    the tests need not sit through it; the retry that follows is the server's ordinary one.
    """
    activity = await pending_activity(client, workflow_id)
    assert activity is not None, f"{workflow_id} has no activity under way"
    handle = client.get_async_activity_handle(workflow_id=workflow_id, run_id=None,
                                              activity_id=activity.activity_id)
    await handle.fail(RuntimeError("the worker running this attempt was killed"))


async def waiting(client: Client, workflow_id: str) -> bool:
    """The journey sits at a `wait`: its last history event started a timer, nothing is pending."""
    last = None
    async for history_event in client.get_workflow_handle(workflow_id).fetch_history_events():
        last = history_event
    return last is not None and last.event_type == EventType.EVENT_TYPE_TIMER_STARTED


async def activity_reported(client: Client, workflow_id: str, activity_type: str) -> int:
    """How many attempts of `activity_type` the server recorded as completed or failed."""
    scheduled: dict[int, str] = {}
    done = 0
    async for history_event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if history_event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = history_event.activity_task_scheduled_event_attributes
            scheduled[history_event.event_id] = attributes.activity_type.name
        elif history_event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attributes_done = history_event.activity_task_completed_event_attributes
            done += scheduled.get(attributes_done.scheduled_event_id) == activity_type
        elif history_event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            attributes_failed = history_event.activity_task_failed_event_attributes
            done += scheduled.get(attributes_failed.scheduled_event_id) == activity_type
    return done


@dataclass(frozen=True)
class ClosedActivity:
    """How the server closed an activity: the attempt that ran last and whether it will run again."""

    attempt: int
    failed: bool
    retry_state: RetryState.ValueType


async def closed_activities(client: Client, workflow_id: str, activity_type: str) -> list[ClosedActivity]:
    """Each activity of `activity_type` the server closed (completed or failed for good), in order.

    An activity closed in the history runs no more attempts: reading this is how a test knows
    that no retry will come, without waiting for one."""
    scheduled: dict[int, str] = {}
    attempts: dict[int, int] = {}
    closed: list[ClosedActivity] = []
    async for history_event in client.get_workflow_handle(workflow_id).fetch_history_events():
        kind = history_event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = history_event.activity_task_scheduled_event_attributes
            scheduled[history_event.event_id] = attributes.activity_type.name
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = history_event.activity_task_started_event_attributes
            attempts[started.scheduled_event_id] = started.attempt
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = history_event.activity_task_completed_event_attributes
            if scheduled.get(done.scheduled_event_id) == activity_type:
                closed.append(ClosedActivity(attempts.get(done.scheduled_event_id, 0), False,
                                             RetryState.RETRY_STATE_UNSPECIFIED))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failed = history_event.activity_task_failed_event_attributes
            if scheduled.get(failed.scheduled_event_id) == activity_type:
                closed.append(ClosedActivity(attempts.get(failed.scheduled_event_id, 0), True, failed.retry_state))
    return closed


# --------------------------------------------------------------------------------- PostgreSQL


def postgres(*args: str) -> str:
    """`.ci/postgres.sh ARGS`: its standard output (the URL with `--url`)."""
    done = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh"), *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, f".ci/postgres.sh {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout.strip()


async def journeys_started(client: Client, task_queue: str) -> list[str]:
    """The workflow id of every journey execution ever started on `task_queue` (one per run)."""
    return [execution.id async for execution in client.list_workflows(f'TaskQueue = "{task_queue}"')]
