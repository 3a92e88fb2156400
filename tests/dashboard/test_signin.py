"""Signing in to the dashboard: the API token once, then a signed HttpOnly session cookie."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl import ir
from engine.store import Store
from server.dashboard.session import COOKIE, new_session, valid_session
from tests.dashboard.conftest import TOKEN, dashboard, sign_in

PAGES = ["/", "/tasks", "/accounts/techcorp", "/playbooks", "/playbooks/smb_onboarding", "/outbox"]


async def test_every_page_sends_a_visitor_without_a_session_to_the_sign_in_form(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        answers = {page: await client.get(page) for page in PAGES}
        form = await client.get("/signin", params={"next": "/tasks"})
    for page, answer in answers.items():
        assert answer.status_code == 303, page
        assert answer.headers["location"].startswith("/signin?next="), page
    assert answers["/tasks"].headers["location"] == "/signin?next=%2Ftasks"
    assert form.status_code == 200
    assert 'name="token" type="password"' in form.text
    assert 'name="next" value="/tasks"' in form.text


async def test_a_wrong_token_is_refused_and_sets_no_cookie(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        wrong = await sign_in(client, token="not-the-token")
        empty = await sign_in(client, token="")
        after = await client.get("/")
    assert wrong.status_code == 401
    assert "That is not the API token" in wrong.text
    assert "set-cookie" not in wrong.headers
    assert empty.status_code == 401
    assert after.status_code == 303


async def test_the_token_signs_in_with_an_http_only_cookie_and_goes_back_to_the_page_asked_for(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        answer = await sign_in(client, next="/tasks")
        tasks = await client.get("/tasks")
        again = await client.get("/signin")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/tasks"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert TOKEN not in cookie
    assert tasks.status_code == 200
    assert again.status_code == 303  # signed in already: the form is not shown again


async def test_signing_out_ends_the_session(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        assert (await client.get("/")).status_code == 200
        out = await client.post("/signout")
        after = await client.get("/")
    assert out.status_code == 303
    assert out.headers["location"] == "/signin"
    assert after.status_code == 303


@pytest.mark.parametrize("cookie", [
    "v1.9999999999.0123456789abcdef",  # forged signature
    new_session("another-token"),  # signed with another token
    new_session(TOKEN, now=1_000_000),  # expired long ago
    "garbage",
])
async def test_a_forged_foreign_or_expired_session_cookie_is_refused(
        store: Store, bundle: ir.Bundle, tmp_path: Path, cookie: str) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        client.cookies.set(COOKIE, cookie)
        answer = await client.get("/")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
async def test_signing_in_goes_back_only_to_a_page_of_the_dashboard(
        store: Store, bundle: ir.Bundle, tmp_path: Path, target: str) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        answer = await sign_in(client, next=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


async def test_without_a_configured_token_there_is_no_sign_in(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path, token=None) as client:
        home = await client.get("/")
        form = await client.get("/signin")
    assert home.status_code == 200
    assert "Sign out" not in home.text
    assert form.status_code == 303
    assert form.headers["location"] == "/"


def test_a_session_is_valid_until_it_expires_and_only_for_its_token() -> None:
    cookie = new_session(TOKEN, now=1000, seconds=60)
    assert valid_session(cookie, TOKEN, now=1059)
    assert not valid_session(cookie, TOKEN, now=1060)
    assert not valid_session(cookie, "another-token", now=1000)
    assert cookie.startswith("v2.1060.")
    assert not valid_session(cookie.replace("v2.1060", "v2.9060"), TOKEN, now=1000)
