"""A local SMTP server that keeps every message it receives: the embedded dev stack's relay.

Each message is written, exactly as received, to `<folder>/<received>-<id>.eml`, and one JSON
line is appended to `<folder>/index.jsonl`: received at, envelope from and to, subject,
Message-ID and the file's name. Nothing is deduplicated (a sink shows what was sent); two lines
with the same Message-ID are a duplicate delivery, and `playbook outbox` points them out.

    sink = SmtpSink(outbox_folder(settings.state_dir), "127.0.0.1", settings.smtp_port)
    sink.start()          # serves on a thread of its own; port 0 picks a free port
    ...
    sink.stop()
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["INDEX", "SinkMessage", "SmtpSink", "outbox_folder", "read_index", "read_message"]

INDEX = "index.jsonl"


def outbox_folder(state_dir: Path) -> Path:
    """Where the dev stack's sink keeps its messages."""
    return state_dir / "outbox"


@dataclass(frozen=True)
class SinkMessage:
    received_at: datetime
    sender: str  # the envelope's MAIL FROM
    to: list[str]  # the envelope's RCPT TO: who really got it, whatever the headers say
    subject: str
    message_id: str
    file: str  # relative to the folder

    def to_json(self) -> str:
        values = asdict(self)
        values["received_at"] = self.received_at.isoformat()
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> SinkMessage:
        values = json.loads(line)
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        return cls(**values)


def read_index(folder: Path) -> list[SinkMessage]:
    """The messages kept in `folder`, in the order they arrived (none when there is no index)."""
    try:
        lines = (folder / INDEX).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [SinkMessage.from_json(line) for line in lines if line.strip()]


def read_message(folder: Path, entry: SinkMessage) -> EmailMessage:
    with (folder / entry.file).open("rb") as handle:
        message = BytesParser(policy=default_policy).parse(handle)
    assert isinstance(message, EmailMessage)
    return message


def _header(content: bytes, name: str) -> str:
    try:
        value = BytesHeaderParser(policy=default_policy).parsebytes(content).get(name)
        return "" if value is None else " ".join(str(value).split())
    except Exception:  # a malformed header is still kept; the index just leaves it blank
        return ""


class _Keeper:
    """The aiosmtpd handler: accepts every message and files it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        received = datetime.now(UTC)
        name = f"{received:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        entry = SinkMessage(received_at=received, sender=envelope.mail_from or "",
                            to=list(envelope.rcpt_tos), subject=_header(content, "subject"),
                            message_id=_header(content, "message-id"), file=name)
        self._keep(entry, content)  # small files, one at a time: the sink is a dev tool
        return "250 OK: kept"

    def _keep(self, entry: SinkMessage, content: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / (entry.file + ".part")
        partial.write_bytes(content)
        os.replace(partial, self.folder / entry.file)  # the index never names a half-written file
        with (self.folder / INDEX).open("a", encoding="utf-8") as index:
            index.write(entry.to_json() + "\n")


class _Controller(Controller):
    """aiosmtpd's controller, able to bind port 0 and report the port it got."""

    def _create_server(self) -> Any:
        bind = super()._create_server()

        async def bound() -> asyncio.AbstractServer:
            server = await bind
            assert isinstance(server, asyncio.Server)
            self.port = server.sockets[0].getsockname()[1]
            return server

        return bound()


class SmtpSink:
    """Serve SMTP on `host:port` and keep every message in `folder`."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self._controller: _Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError(f"the SMTP sink already serves on {self.host}:{self.port}")
        self.folder.mkdir(parents=True, exist_ok=True)
        controller = _Controller(_Keeper(self.folder), hostname=self.host, port=self.port,
                                 enable_SMTPUTF8=True, ready_timeout=10.0)
        controller.start()
        self.port = controller.port
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[SinkMessage]:
        return read_index(self.folder)

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
