"""What the CSM views (`tasks`, `accounts`, `score`, `log`) read: the running engine's HTTP API,
or, for operators, the store itself.

By default a view asks the API (`ApiViews`). With `--database-url URL` (or `--store`, the
configured database) it reads the store directly (`StoreViews`): no API needed, read only. Both
answer in the API's JSON shapes (`Views`), so a command formats one thing whichever it reads.

Reading the store, the views read it as the API does (`engine.read_model`), with the bundle of
the configured playbooks folder (the `playbooks` setting, which `playbook api` serves by
default) when it compiles; so the primary score of `playbook accounts` and the scores of
`playbook score` are the API's. Without a bundle (no such folder, or it does not compile), the
scores are those recorded in the store, and the primary score is chosen among them by the same
rule (`engine.read_model.primary_score`).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from cli.commands import UsageError
from cli.commands.api_client import Api, EngineError, add_engine_options, api_from_args, load_settings
from dsl import ir
from engine.read_model import account_scores, account_summaries, action_log, task_list
from engine.settings import Settings
from engine.store import Store, StoreUnavailable

__all__ = ["ApiViews", "StoreViews", "Views", "add_store_options", "configured_bundle", "views_from_args"]


class Views(Protocol):
    """The reads of the CSM views, in the shapes of the HTTP API's JSON."""

    where: str

    def tasks(self, owner: str | None, status: str | None, overdue: bool,
              task_type: str | None = None) -> list[dict[str, Any]]: ...

    def accounts(self, band: str | None) -> list[dict[str, Any]]: ...

    def scores(self, account: str) -> dict[str, dict[str, Any]]: ...

    def log(self, account: str | None = None, playbook: str | None = None, since: datetime | None = None,
            kind: str | None = None) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


ACCOUNT_PAGE = 200  # accounts per request of `playbook accounts` against the API
MAX_PAGES = 100_000


class ApiViews:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.where = api.url

    def tasks(self, owner: str | None, status: str | None, overdue: bool,
              task_type: str | None = None) -> list[dict[str, Any]]:
        """Every task asked for, read an answer at a time (`X-Next-Cursor`)."""
        asked = {"owner": owner, "status": status, "overdue": "true" if overdue else None, "type": task_type}
        return self._every("/v1/tasks", {k: v for k, v in asked.items() if v is not None}, "tasks")

    def accounts(self, band: str | None) -> list[dict[str, Any]]:
        """Every account, read a page at a time (`X-Next-Cursor`); an engine that does not page
        answers them all in its first answer."""
        return self._every("/v1/accounts", {"limit": str(ACCOUNT_PAGE), **({"band": band} if band else {})},
                           "accounts")

    def _every(self, path: str, params: dict[str, str], what: str) -> list[dict[str, Any]]:
        """The items of every answer of the list at `path`, following `X-Next-Cursor`."""
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            response = self.api.request("GET", path, params=params)
            try:
                page = response.json()
            except ValueError:
                raise EngineError(f"the engine at {self.api.url} answered {path} with no JSON") from None
            if not isinstance(page, list):
                raise EngineError(f"the engine at {self.api.url} answered {path} with no list of {what}")
            found += page
            cursor = response.headers.get("X-Next-Cursor")
            if not cursor:
                break
            params = {**params, "cursor": cursor}
        return found

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


def _json(model: BaseModel) -> dict[str, Any]:
    """A pydantic model as the API serialises it (datetimes as `2026-01-05T09:00:00Z`)."""
    return dict(model.model_dump(mode="json"))


class StoreViews:
    """The same reads from the store itself: for operators, when no API is running. `bundle`: the
    deployed playbooks' (see the module's docstring), None when there is none."""

    def __init__(self, store: Store, where: str, bundle: ir.Bundle | None = None) -> None:
        self.store = store
        self.where = where
        self.bundle = bundle

    @classmethod
    def open(cls, url: str, bundle: ir.Bundle | None = None) -> StoreViews:
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
        return cls(store, shown, bundle)

    def _read(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except SQLAlchemyError as error:
            origin = getattr(error, "orig", None) or error
            raise EngineError(f"cannot read the store at {self.where}: {str(origin).splitlines()[0]}") from None

    def tasks(self, owner: str | None, status: str | None, overdue: bool,
              task_type: str | None = None) -> list[dict[str, Any]]:
        tasks = self._read(lambda: task_list(self.store, datetime.now(UTC), owner=owner, status=status,
                                             overdue=overdue, task_type=task_type))
        return [_json(task) for task in tasks]

    def accounts(self, band: str | None) -> list[dict[str, Any]]:
        summaries = self._read(lambda: account_summaries(self.store, self.bundle, band=band))
        return [_json(summary) for summary in summaries]

    def scores(self, account: str) -> dict[str, dict[str, Any]]:
        def read() -> dict[str, dict[str, Any]]:
            if account not in self.store.account_ids():
                raise EngineError(f"no account '{account}'")
            return {name: _json(detail) for name, detail in account_scores(self.store, self.bundle, account).items()}

        result: dict[str, dict[str, Any]] = self._read(read)
        return result

    def log(self, account: str | None = None, playbook: str | None = None, since: datetime | None = None,
            kind: str | None = None) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = self._read(
            lambda: action_log(self.store, account=account, playbook=playbook, since=since, kind=kind))
        return lines

    def close(self) -> None:
        self.store.close()


def configured_bundle() -> ir.Bundle | None:
    """The playbooks of the `playbooks` setting compiled as `playbook api` compiles them; None when
    the settings are not valid, there is no such folder, or it does not compile."""
    from cli.playbook_loading import compile_playbooks

    try:
        folder = Settings().playbooks
    except ValidationError:
        return None
    if not folder.is_dir():
        return None
    compilation = compile_playbooks(folder)
    if not compilation.ok:
        print(f"playbook: the playbooks in {folder} do not compile (`playbook check {folder}` says why); "
              "scores are shown as the store recorded them", file=sys.stderr)
        return None
    return compilation.bundle


def add_store_options(parser: argparse.ArgumentParser) -> None:
    add_engine_options(parser)
    group = parser.add_argument_group("reading the store directly (operators; no API needed)")
    group.add_argument("--database-url", metavar="URL", default=None,
                       help="read this database instead of asking the API")
    group.add_argument("--store", action="store_true",
                       help="read the configured database (PLAYBOOK_DATABASE_URL, else the state folder's) "
                            "instead of asking the API")


def views_from_args(args: argparse.Namespace) -> Views:
    if args.url and (args.database_url or args.store):
        raise UsageError("--url asks the API; --database-url and --store read the store: give one or the other")
    if getattr(args, "database_url", None):
        return _store_views(args.database_url)
    if getattr(args, "store", False):
        return _store_views(load_settings().store_url)
    return ApiViews(api_from_args(args))


def _store_views(url: str) -> StoreViews:
    views = StoreViews.open(url)  # first: a missing store is said at once
    views.bundle = configured_bundle()
    return views
