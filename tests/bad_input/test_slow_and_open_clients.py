"""Unauthenticated routes and slow clients: the unsubscribe link reads a small body only after
checking the link, a GET unsubscribes nobody, slow headers and bodies are cut off, connections
past the cap are refused, and an empty API token refuses to start. Raw sockets to 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from activities.sending import unsubscribe_token
from cli.main import main
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.app import UnsafeConfiguration
from server.api.limits import Limits
from server.app import create_app
from tests.bad_input.conftest import TOKEN, UNSUBSCRIBE_SECRET, asgi_client, count_rows, offline_app, served
from tests.live_api import offline_starter

GENUINE = "email=ana%40techcorp.example&token=" + unsubscribe_token(UNSUBSCRIBE_SECRET, "ana@techcorp.example")
FORGED = "email=ana%40techcorp.example&token=" + "0" * 32


async def test_opening_the_unsubscribe_link_shows_a_button_and_unsubscribes_nobody(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle) -> None:
    async with asgi_client(await offline_app(store, minimal_bundle), headers={}) as api:
        opened = await api.get(f"/v1/unsubscribe?{GENUINE}")
        assert count_rows(db_path, "suppressions") == 0
        clicked = await api.post(f"/v1/unsubscribe?{GENUINE}", content="List-Unsubscribe=One-Click",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert opened.status_code == 200
    assert '<form method="post"' in opened.text and "Unsubscribe</button>" in opened.text
    assert clicked.status_code == 200 and "You are unsubscribed" in clicked.text
    assert store.suppression("ana@techcorp.example") == "unsubscribed"


async def test_a_one_click_body_over_the_small_limit_is_413_and_nothing_is_suppressed(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle) -> None:
    async with asgi_client(await offline_app(store, minimal_bundle), headers={}) as api:
        big = await api.post(f"/v1/unsubscribe?{GENUINE}", content=b"x" * 5000)
    assert big.status_code == 413
    assert count_rows(db_path, "suppressions") == 0


@asynccontextmanager
async def _live(store: Store, bundle: ir.Bundle, **settings: object) -> AsyncIterator[tuple[str, int]]:
    configured = Settings(api_token=SecretStr(TOKEN), unsubscribe_secret=SecretStr(UNSUBSCRIBE_SECRET),
                          public_url="http://api.test", **settings)  # type: ignore[arg-type]
    app = create_app(configured, store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=5))
    async with served(app) as url:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.port is not None
        yield parts.hostname, parts.port


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout=30)  # until the server closes: a fact, not a pause


async def test_a_forged_link_is_refused_before_its_large_body_is_sent(store: Store, minimal_bundle: ir.Bundle) -> None:
    async with _live(store, minimal_bundle) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"POST /v1/unsubscribe?{FORGED} HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5000000\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)  # no byte of the body sent
        writer.close()
    assert head.startswith(b"HTTP/1.1 403")


async def test_a_connection_whose_headers_never_finish_is_closed(store: Store, minimal_bundle: ir.Bundle) -> None:
    async with _live(store, minimal_bundle, api_header_timeout_seconds=0.5) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /v1/events HTTP/1.1\r\nHost: api.test\r\n")  # and never the end of the headers
        await writer.drain()
        answer = await _read_all(reader)
        writer.close()
    assert answer == b""


async def test_a_body_that_never_finishes_is_answered_408_and_nothing_is_stored(
        store: Store, db_path: Path, minimal_bundle: ir.Bundle) -> None:
    async with _live(store, minimal_bundle, api_body_timeout_seconds=0.5) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"POST /v1/events HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer {TOKEN}\r\n"
                     "Content-Type: application/x-ndjson\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
                     '{"account": "acme", "traits": {"name": "Acme"}}\n'.encode())  # 48 of 1,000 bytes
        await writer.drain()
        answer = await _read_all(reader)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 0.5 s" in answer
    assert count_rows(db_path, "events") == 0


async def test_connections_past_the_cap_are_answered_503(store: Store, minimal_bundle: ir.Bundle) -> None:
    async with _live(store, minimal_bundle, api_max_connections=2) as (host, port):
        idle = [await asyncio.open_connection(host, port) for _ in range(2)]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await _read_all(reader)
        for _, held in [*idle, (reader, writer)]:
            held.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer[:200]


async def test_an_empty_api_token_refuses_to_start_outside_the_dev_stack(
        store: Store, minimal_bundle: ir.Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnsafeConfiguration, match="set but empty"):
        create_app(Settings(api_token=SecretStr("  ")), store, minimal_bundle, await offline_starter(store))
    create_app(Settings(api_token=SecretStr("")), store, minimal_bundle, await offline_starter(store), local_dev=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_API_TOKEN", "")
    assert main(["api"]) == 2
    err = capsys.readouterr().err
    assert "PLAYBOOK_API_TOKEN is set but empty" in err and "Traceback" not in err
