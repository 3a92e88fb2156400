"""Schemathesis against the API's own OpenAPI document (`/openapi.json`), in process (ASGI),
with the API token: whatever it generates for each operation, the API never answers 5xx.

A second run sends no token: every operation but the open ones answers 401, never 5xx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case

from dsl import ir
from engine.store import Store
from tests.bad_input.conftest import AUTH, count_rows, offline_app, size

OPEN = {"/healthz", "/v1/unsubscribe", "/openapi.json", "/docs", "/e/c/{token}", "/e/o/{token}"}  # links in email
EXAMPLES = settings(max_examples=size(12, 300), deadline=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schema") / "store.db"


@pytest.fixture(scope="module")
def api_schema(store_path: Path, minimal_bundle: ir.Bundle) -> Iterator[schemathesis.BaseSchema]:
    store = Store.open(f"sqlite:///{store_path}")
    app = asyncio.run(offline_app(store, minimal_bundle))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.close()


def _run(api_schema: schemathesis.BaseSchema, check: Callable[[Case], None]) -> int:
    """`check` on generated cases of every operation of the document; the number of operations.

    Schemathesis's own pytest plugin does not load under this pytest, so each operation's
    strategy is driven by hypothesis here.
    """
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document has an operation schemathesis cannot read: {result}"
        operations.append(result.ok())
    for operation in operations:
        @given(case=operation.as_strategy())
        @EXAMPLES
        def run(case: Case) -> None:
            check(case)

        run()
    return len(operations)


def test_no_generated_request_gets_a_server_error(api_schema: schemathesis.BaseSchema) -> None:
    def check(case: Case) -> None:
        response = case.call(headers=AUTH)
        assert response.status_code < 500, \
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"

    assert _run(api_schema, check) >= 10


def test_without_a_token_every_protected_operation_is_401(
        api_schema: schemathesis.BaseSchema, store_path: Path) -> None:
    def check(case: Case) -> None:
        before = count_rows(store_path, "events")
        response = case.call(headers={"Authorization": ""})
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
        if case.path not in OPEN:
            assert response.status_code == 401, f"{case.method} {case.formatted_path}: {response.status_code}"
            assert count_rows(store_path, "events") == before

    assert _run(api_schema, check) >= 10
