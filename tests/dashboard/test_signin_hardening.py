"""Sign-in cannot be guessed at speed, two sign-ins never share a cookie, and signing out revokes
the session: the same cookie, replayed, no longer opens a page."""

from __future__ import annotations

from pathlib import Path

from dsl import ir
from engine.store import Store
from server.dashboard.session import COOKIE
from server.dashboard.signin_throttle import MAX_FAILURES, WINDOW_SECONDS, SigninThrottle
from tests.dashboard.conftest import dashboard, sign_in


async def test_wrong_tokens_past_the_limit_are_answered_429_even_with_the_right_one_next(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        wrong = [await sign_in(client, token=f"guess-{n}") for n in range(MAX_FAILURES + 3)]
        right = await sign_in(client)
    assert [answer.status_code for answer in wrong] == [401] * MAX_FAILURES + [429] * 3
    assert int(wrong[-1].headers["retry-after"]) > 0
    assert right.status_code == 429 and "set-cookie" not in right.headers


def test_the_throttle_lets_a_client_try_again_once_the_window_has_passed() -> None:
    throttle = SigninThrottle()
    for _ in range(MAX_FAILURES):
        throttle.failed("10.0.0.1", now=100.0)
    assert throttle.wait_seconds("10.0.0.1", now=101.0) == WINDOW_SECONDS - 1.0
    assert throttle.wait_seconds("10.0.0.2", now=101.0) == 0.0  # another client is not slowed
    assert throttle.wait_seconds("10.0.0.1", now=100.0 + WINDOW_SECONDS) == 0.0


async def test_two_sign_ins_at_once_get_different_cookies(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        first = await sign_in(client)
        second = await sign_in(client)
    assert first.cookies[COOKIE] != second.cookies[COOKIE]


async def test_signing_out_revokes_the_session_so_the_same_cookie_replayed_is_refused(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        cookie = (await sign_in(client)).cookies[COOKIE]
        client.cookies.clear()
        sent = {"Cookie": f"{COOKIE}={cookie}"}  # the cookie as a copy of it would be replayed
        assert (await client.get("/", headers=sent)).status_code == 200
        await client.post("/signout", headers=sent)
        replayed = await client.get("/", headers=sent)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/signin")
