"""A real HTTP server on 127.0.0.1 for plugin tests: it records every request and injects faults.

`RecordingServer(answer)` serves in a thread (`with RecordingServer(answer) as server:`, its
address in `server.url`); `answer(request, attempt)` returns the status, the body and how long to
wait before answering (to make the client time out after the request arrived). `attempt` counts
the requests with the same Idempotency-Key (1 for the first), so a fault can hit the first
attempts only: `failing_first(2, Answer(503))` answers 503 twice per key, then as told.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["Answer", "Answerer", "RecordingServer", "Request", "failing_first"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    delay: float = 0.0
    location: str | None = None  # a Location header, for a redirect


Answerer = Callable[[Request, int], Answer]


def failing_first(times: int, fault: Answer, then: Answerer | None = None) -> Answerer:
    """An answerer giving `fault` to the first `times` attempts of each key, then `then`'s answer
    (by default `200 {"ok": true}`)."""

    def answer(request: Request, attempt: int) -> Answer:
        if attempt <= times:
            return fault
        return then(request, attempt) if then is not None else Answer()

    return answer


@dataclass
class RecordingServer:
    answer: Answerer = field(default=lambda request, attempt: Answer())
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length))
                with receiver._lock:
                    receiver.requests.append(request)
                    receiver._attempts[request.key] += 1
                    attempt = receiver._attempts[request.key]
                answer = receiver.answer(request, attempt)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    if answer.location is not None:
                        self.send_header("Location", answer.location)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that is what a delayed answer tests

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def to(self, path: str) -> list[Request]:
        """The requests to `path` (without its query), in the order they came."""
        with self._lock:
            return [request for request in self.requests if request.path.split("?")[0] == path]
