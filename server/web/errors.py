"""Errors as the API and the dashboard answer them: `{"error": "...", "detail": ...}`, never a traceback.

`ApiError` is raised by endpoints for a clear 4xx (or a 503); `install_error_handlers` turns it,
Starlette's own HTTP errors (404 route, 405 method) and request validation errors into that
shape. `CatchAll` is the last line: an unexpected exception is logged with an id and answered
as a JSON 500 carrying the same id, so a report from a user can be found in the log.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiError", "CatchAll", "error_body", "install_error_handlers"]

log = logging.getLogger("playbook.api")


class ApiError(Exception):
    """An answer other than success, with a short `error` and a human `detail`."""

    def __init__(self, status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def error_body(error: str, detail: Any = None, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.error, exc.detail, **exc.extra), status_code=exc.status,
                        headers=exc.headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if exc.detail != _phrase(exc.status_code).capitalize() else None
    return JSONResponse(error_body(_phrase(exc.status_code), detail), status_code=exc.status_code,
                        headers=dict(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"where": ".".join(str(part) for part in error.get("loc", ())), "problem": error.get("msg", "")}
        for error in exc.errors()
    ]
    return JSONResponse(error_body("invalid request", problems), status_code=422)


STORE_RETRY_AFTER_SECONDS = 5


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error (locked past its busy timeout, unreachable): retryable, never a 500.
    The failure is kept on the application for `/healthz`."""
    assert isinstance(exc, DBAPIError)
    log.warning("the store is unavailable on %s %s: %s", request.method, request.url.path, exc.orig or exc)
    state = getattr(request.app.state, "api", None)
    if state is not None:
        state.note_store_failure(exc.orig or exc)
    return JSONResponse(error_body("store unavailable", "the database cannot take this request right now (locked "
                                   "or unreachable); send it again after Retry-After (ids make it safe)"),
                        status_code=503, headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DBAPIError, _store_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(CatchAll)


class CatchAll:
    """ASGI middleware: an unhandled exception becomes a logged JSON 500 with an error id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise  # the answer is already on its way; the server closes the connection
            body = error_body("internal error", f"something went wrong on our side; quote id {error_id} "
                                                "when reporting it", id=error_id)
            await JSONResponse(body, status_code=500)(scope, receive, send)
