"""How long a client may take to send a request, and how many connections the API holds at once.

uvicorn reads a request's headers and body as slowly as the client sends them, and has no body
read timeout: a few hundred slow clients would hold the API's memory and sockets. So:

- `HeaderDeadlineProtocol`: a connection whose request headers are not complete within
  `api_header_timeout_seconds` (10 s) of it opening, or of the previous response, is closed;
- `BodyDeadline`: a request body not complete within `api_body_timeout_seconds` (30 s) of the
  request is answered 408 and nothing of it is stored;
- `api_max_connections` (1,000): uvicorn answers 503 to connections past it.

`server_config` builds the uvicorn configuration with all three. In production a reverse proxy
in front adds its own (docs/operations.md, "Security").
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.settings import Settings
from server.web.errors import ApiError

__all__ = ["BodyDeadline", "HeaderDeadlineProtocol", "server_config"]


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers come too slowly."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()  # the next request on a kept-alive connection: the same deadline

    def _arm_header_deadline(self) -> None:
        waiting_for = self.cycle  # a new request replaces the cycle once its headers are complete
        self.loop.call_later(self.header_timeout, self._headers_too_slow, waiting_for)

    def _headers_too_slow(self, waiting_for: object) -> None:
        if self.cycle is waiting_for and not self.transport.is_closing():
            self.transport.close()


class BodyDeadline:
    """ASGI middleware: a request body must arrive whole within `seconds` of the request."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:  # after the body, receive waits for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.001))
            except TimeoutError:
                raise ApiError(408, "request timeout", f"the body did not arrive within {self.seconds:g} s; "
                                                       "nothing was stored") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, receive_in_time, send)


def server_config(app: ASGIApp, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of the API: read deadlines and the connection cap of `settings`."""

    class Protocol(HeaderDeadlineProtocol):
        header_timeout = settings.api_header_timeout_seconds

    return uvicorn.Config(BodyDeadline(app, settings.api_body_timeout_seconds), http=Protocol,
                          limit_concurrency=settings.api_max_connections, server_header=False, **options)
