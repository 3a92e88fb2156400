"""How the commands talk to a running engine over its HTTP API, and what they share in output.

By default the CSM commands (`ingest`, `tasks`, `accounts`, `score`, `log`) talk to a running
engine over its HTTP API (`Settings().base_url`, the token of `PLAYBOOK_API_TOKEN`), so the same
command works against `playbook dev` on a laptop and against a production API; `--url` and
`--token` override both. `Api` turns every failure into an `EngineError` with a one-line message
that says what to do. What the views read, from the API or from the store itself, is
`cli.commands.view_sources`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import ValidationError

from cli.commands import UsageError
from engine.settings import Settings

__all__ = [
    "Api",
    "EngineError",
    "RoutingPaused",
    "add_engine_options",
    "api_from_args",
    "console",
    "failing_cleanly",
    "load_settings",
    "parse_time",
    "parse_when",
    "print_json_lines",
    "shown_number",
    "shown_time",
]

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_RETRY_AFTER_SECONDS = 10.0
MAX_RETRY_WAIT_SECONDS = 300.0


class EngineError(Exception):
    """The engine cannot be reached or refused the request; the message says why and what to do."""


class RoutingPaused(EngineError):
    """The engine could not take a request yet (503: its routing backlog is full, or its store is
    unavailable; nothing was stored), and the retries ran out."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
        raise EngineError(f"the configuration is not valid: {where}: {first.get('msg', '')} "
                          "(check the PLAYBOOK_* variables and playbook.toml)") from None


def parse_when(raw: str, option: str) -> datetime:
    """An ISO date or date and time (`2026-01-05`, `2026-01-05T09:00:00Z`); a naive one is UTC."""
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("z", "Z") else text)
    except ValueError:
        raise UsageError(f"{option}: expected an ISO date or date and time such as 2026-01-05 or "
                         f"2026-01-05T09:00:00Z, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- the HTTP API


def _normalise_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


def _error_text(response: httpx.Response) -> str:
    """The `detail` (or `error`) of an API error body, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return text[0][:200] if text else response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail
        if isinstance(detail, list) and detail:
            return "; ".join(f"{item.get('where', '')}: {item.get('problem', '')}" if isinstance(item, dict)
                             else str(item) for item in detail)
        error = body.get("error")
        if isinstance(error, str) and error:
            return error
    return response.reason_phrase


class Api:
    """A running engine's HTTP API, with every failure turned into a one-line `EngineError`."""

    def __init__(self, url: str, token: str | None, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.url = _normalise_url(url)
        self.token = token or None
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        except (httpx.InvalidURL, ValueError) as error:
            raise EngineError(f"{url!r} is not a URL such as http://127.0.0.1:8000 ({error})") from None
        self.timeout = timeout

    def __enter__(self) -> Api:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                content: str | None = None, headers: dict[str, str] | None = None,
                allow: tuple[int, ...] = ()) -> httpx.Response:
        """The answer to one request; an `EngineError` unless it succeeded or its status is in `allow`."""
        try:
            response = self._client.request(method, path, params=params, content=content, headers=headers)
        except httpx.ConnectError:
            raise EngineError(f"no engine at {self.url}: start it with `playbook dev`") from None
        except httpx.TimeoutException:
            raise EngineError(f"the engine at {self.url} did not answer within {self.timeout:g} s") from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise EngineError(f"cannot talk to the engine at {self.url}: {reason}") from None
        status = response.status_code
        if status in allow or 200 <= status < 300:
            return response
        if status == 401:
            if self.token is None:
                raise EngineError(f"the engine at {self.url} needs an API token: set PLAYBOOK_API_TOKEN "
                                  "(or pass --token) to the token the engine was started with")
            raise EngineError(f"the engine at {self.url} did not accept the API token: set PLAYBOOK_API_TOKEN "
                              "(or --token) to the token the engine was started with")
        if status == 404 and response.headers.get("content-type", "").startswith("application/json") \
                and isinstance(response.json(), dict) and response.json().get("detail"):
            raise EngineError(_error_text(response))
        if status == 404:
            raise EngineError(f"{self.url} does not look like a playbook engine (no {path}): check --url "
                              "or PLAYBOOK_PUBLIC_URL")
        raise EngineError(f"the engine at {self.url} answered {status}: {_error_text(response)}")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise EngineError(f"the engine at {self.url} answered {path} with something that is not JSON") \
                from None

    def send_retrying(self, method: str, path: str, *, content: str | None = None,
                      headers: dict[str, str] | None = None, retries: int | None = None,
                      wait: float | None = None,
                      on_pause: Callable[[str, float], None] | None = None,
                      on_answer: Callable[[httpx.Response], None] | None = None) -> httpx.Response:
        """Send until the engine takes it: a 503 (the engine cannot take it yet and stored nothing:
        its routing backlog is full or its store unavailable) is waited out and re-sent.

        Re-sending is safe because the engine is idempotent on ids. `retries` bounds the re-sends
        (None: no bound); `wait` replaces the engine's Retry-After. `on_answer` sees every answer,
        the 503s included; `on_pause(reason, seconds)` is told before each wait.
        """
        attempt = 0
        while True:
            response = self.request(method, path, content=content, headers=headers, allow=(503, 413))
            if on_answer is not None:
                on_answer(response)
            if response.status_code != 503:
                return response
            reason = _error_text(response)
            if retries is not None and attempt >= retries:
                raise RoutingPaused(f"the engine at {self.url} cannot take the request yet: "
                                    f"{reason.split('. ')[0]}. Run the same command again later: it is safe")
            attempt += 1
            seconds = wait if wait is not None else _retry_after(response)
            if on_pause is not None:
                on_pause(reason.split(". ")[0], seconds)
            time.sleep(seconds)


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("retry-after", DEFAULT_RETRY_AFTER_SECONDS))
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_WAIT_SECONDS)


# --------------------------------------------------------------------------- options


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine")
    group.add_argument("--url", metavar="URL", default=None,
                       help="the engine's API (default: the public_url setting, else http://api_host:api_port)")
    group.add_argument("--token", metavar="TOKEN", default=None,
                       help="the API token (default: PLAYBOOK_API_TOKEN)")


def api_from_args(args: argparse.Namespace) -> Api:
    settings = load_settings()
    url = args.url or settings.base_url
    if args.token is not None:
        token: str | None = args.token
    else:
        token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    return Api(url, token)


# --------------------------------------------------------------------------- output


def print_json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def console() -> Any:
    """A console for tables, at least 120 columns wide (so a pipe does not fold every cell)."""
    from rich.console import Console

    return Console(width=max(120, Console().width))


def failing_cleanly(name: str, body: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The handler `body`, with an `EngineError` printed as one line and exit status 1."""

    def handler(args: argparse.Namespace) -> int:
        try:
            return body(args)
        except EngineError as error:
            print(f"playbook {name}: {error}", file=sys.stderr)
            return 1

    return handler


def parse_time(raw: Any) -> datetime | None:
    """A datetime of the API's JSON (`2026-01-05T09:00:00Z`), aware; None for null or garbage."""
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("z", "Z")) else raw)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def shown_time(raw: Any) -> str:
    """`2026-01-05 09:00` (UTC) for a datetime of the API's JSON."""
    value = parse_time(raw)
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def shown_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}"
    return "" if value is None else str(value)
