"""What the CSM commands (`ingest`, `tasks`, `accounts`, `score`, `log`) read and send through.

By default they talk to a running engine over its HTTP API (`Settings().base_url`, the token of
`PLAYBOOK_API_TOKEN`), so the same command works against `playbook dev` on a laptop and against
a production API; `--url` and `--token` override both. For operators, `--database-url URL` (or
`--store`, the configured database) reads the store directly instead: no API needed, read only.

Both sources answer in the API's JSON shapes (`Views`), so a command formats one thing whichever
it reads. Every failure is an `EngineError` with a one-line message that says what to do.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import httpx
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from engine.records import ScoreState
from engine.settings import Settings
from engine.store import Store, StoreUnavailable
from workers.commands import UsageError

__all__ = [
    "Api",
    "ApiViews",
    "EngineError",
    "RoutingPaused",
    "StoreViews",
    "Views",
    "add_engine_options",
    "add_store_options",
    "api_from_args",
    "console",
    "failing_cleanly",
    "parse_time",
    "parse_when",
    "print_json_lines",
    "shown_number",
    "shown_time",
    "views_from_args",
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


# --------------------------------------------------------------------------- what the views read


class Views(Protocol):
    """The reads of the CSM views, in the shapes of the HTTP API's JSON."""

    where: str

    def tasks(self, owner: str | None, status: str | None, overdue: bool) -> list[dict[str, Any]]: ...

    def accounts(self, band: str | None) -> list[dict[str, Any]]: ...

    def scores(self, account: str) -> dict[str, dict[str, Any]]: ...

    def log(self, account: str | None = None, playbook: str | None = None, since: datetime | None = None,
            kind: str | None = None) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class ApiViews:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.where = api.url

    def tasks(self, owner: str | None, status: str | None, overdue: bool) -> list[dict[str, Any]]:
        params = {"owner": owner, "status": status, "overdue": "true" if overdue else None}
        return list(self.api.json("GET", "/v1/tasks", params={k: v for k, v in params.items() if v is not None}))

    def accounts(self, band: str | None) -> list[dict[str, Any]]:
        return list(self.api.json("GET", "/v1/accounts", params={"band": band} if band else None))

    def scores(self, account: str) -> dict[str, dict[str, Any]]:
        detail = self.api.json("GET", f"/v1/accounts/{urllib.parse.quote(account, safe='')}")
        return dict(detail.get("scores") or {})

    def log(self, account: str | None = None, playbook: str | None = None, since: datetime | None = None,
            kind: str | None = None) -> list[dict[str, Any]]:
        params = {"account": account, "playbook": playbook, "kind": kind,
                  "since": since.isoformat() if since is not None else None}
        response = self.api.request("GET", "/v1/log", params={k: v for k, v in params.items() if v is not None},
                                    headers={"Accept": "application/x-ndjson"})
        try:
            return [json.loads(line) for line in response.text.splitlines() if line.strip()]
        except ValueError:
            raise EngineError(f"the engine at {self.api.url} answered /v1/log with lines that are not JSON") \
                from None

    def close(self) -> None:
        self.api.close()


def _json(model: Any) -> dict[str, Any]:
    """A pydantic model as the API serialises it (datetimes as `2026-01-05T09:00:00Z`)."""
    return dict(model.model_dump(mode="json"))


class StoreViews:
    """The same reads from the store itself: for operators, when no API is running."""

    def __init__(self, store: Store, where: str) -> None:
        self.store = store
        self.where = where

    @classmethod
    def open(cls, url: str) -> StoreViews:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise EngineError(f"{url!r} is not a database URL such as sqlite:///.playbook/store.db") from None
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
                and not Path(parsed.database).is_file():
            raise EngineError(f"no store at {shown}: start the engine once (`playbook dev`) or give "
                              "--database-url")
        try:
            store = Store.open(url, migrate=False)
        except StoreUnavailable as error:
            raise EngineError(str(error).splitlines()[0]) from None
        return cls(store, shown)

    def _read(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except SQLAlchemyError as error:
            origin = getattr(error, "orig", None) or error
            raise EngineError(f"cannot read the store at {self.where}: {str(origin).splitlines()[0]}") from None

    def tasks(self, owner: str | None, status: str | None, overdue: bool) -> list[dict[str, Any]]:
        from workers.api.tasks import TaskOut

        records = self._read(lambda: self.store.tasks(owner=owner, status="open" if overdue else status))
        now = datetime.now(UTC)
        tasks = [TaskOut.of(record, now) for record in records]
        return [_json(task) for task in tasks if task.overdue or not overdue]

    def _primary(self, latest: dict[str, dict[str, ScoreState]]) -> str | None:
        names = {name for scores in latest.values() for name in scores}
        return "health" if "health" in names else min(names, default=None)

    def accounts(self, band: str | None) -> list[dict[str, Any]]:
        from workers.api.accounts import AccountSummary

        def read() -> list[dict[str, Any]]:
            fields = self.store.all_fields()
            latest = {account: self.store.latest_scores(account) for account in fields}
            score = self._primary(latest)
            summaries = []
            for account, values in fields.items():
                history = self.store.score_history(account, score) if score else []
                at, state = history[-1] if history else (None, ScoreState(name=score or ""))
                name, segment = values.get("name"), values.get("segment")
                summaries.append(AccountSummary(
                    id=account, name=name if isinstance(name, str) else None,
                    segment=segment if isinstance(segment, str) else None,
                    score=state.value, band=state.band, updated=at))
            return [_json(s) for s in summaries if band in (None, s.band)]

        result: list[dict[str, Any]] = self._read(read)
        return result

    def scores(self, account: str) -> dict[str, dict[str, Any]]:
        from workers.api.accounts import ScoreDetail, ScorePoint

        def read() -> dict[str, dict[str, Any]]:
            if account not in self.store.account_ids():
                raise EngineError(f"no account '{account}'")
            details = {}
            for name in sorted(self.store.latest_scores(account)):
                history = self.store.score_history(account, name)
                at, latest = history[-1]
                details[name] = _json(ScoreDetail(
                    name=name, value=latest.value, band=latest.band, breakdown=latest.breakdown,
                    missing=list(latest.missing), at=at,
                    history=[ScorePoint(at=when, value=s.value, band=s.band) for when, s in history]))
            return details

        result: dict[str, dict[str, Any]] = self._read(read)
        return result

    def log(self, account: str | None = None, playbook: str | None = None, since: datetime | None = None,
            kind: str | None = None) -> list[dict[str, Any]]:
        actions = self._read(lambda: self.store.actions(account=account, playbook=playbook, since=since))
        return [action.to_contract() for action in actions if kind in (None, action.kind)]

    def close(self) -> None:
        self.store.close()


# --------------------------------------------------------------------------- options


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine")
    group.add_argument("--url", metavar="URL", default=None,
                       help="the engine's API (default: the public_url setting, else http://api_host:api_port)")
    group.add_argument("--token", metavar="TOKEN", default=None,
                       help="the API token (default: PLAYBOOK_API_TOKEN)")


def add_store_options(parser: argparse.ArgumentParser) -> None:
    add_engine_options(parser)
    group = parser.add_argument_group("reading the store directly (operators; no API needed)")
    group.add_argument("--database-url", metavar="URL", default=None,
                       help="read this database instead of asking the API")
    group.add_argument("--store", action="store_true",
                       help="read the configured database (PLAYBOOK_DATABASE_URL, else the state folder's) "
                            "instead of asking the API")


def api_from_args(args: argparse.Namespace) -> Api:
    settings = load_settings()
    url = args.url or settings.base_url
    if args.token is not None:
        token: str | None = args.token
    else:
        token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    return Api(url, token)


def views_from_args(args: argparse.Namespace) -> Views:
    if args.url and (args.database_url or args.store):
        raise UsageError("--url asks the API; --database-url and --store read the store: give one or the other")
    if getattr(args, "database_url", None):
        return StoreViews.open(args.database_url)
    if getattr(args, "store", False):
        return StoreViews.open(load_settings().store_url)
    return ApiViews(api_from_args(args))


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
