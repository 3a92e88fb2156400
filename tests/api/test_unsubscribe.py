"""The unsubscribe link: a valid token suppresses the address, a forged one is refused."""

from __future__ import annotations

from activities.sending import unsubscribe_token
from dsl import ir
from engine.store import Store
from tests.api.conftest import UNSUBSCRIBE_SECRET, offline_api

EMAIL = "Ana@TechCorp.example"


async def test_a_valid_link_opened_asks_to_confirm_and_its_button_suppresses_the_address(
        store: Store, bundle: ir.Bundle) -> None:
    token = unsubscribe_token(UNSUBSCRIBE_SECRET, EMAIL)
    async with offline_api(store, bundle, headers={}) as api:
        opened = await api.get("/v1/unsubscribe", params={"email": EMAIL, "token": token})
        assert store.suppression("ana@techcorp.example") is None  # a mail scanner following the link
        confirmed = await api.post("/v1/unsubscribe", params={"email": EMAIL, "token": token},
                                   data={"List-Unsubscribe": "One-Click"})
    assert opened.status_code == 200
    assert opened.headers["content-type"].startswith("text/html")
    assert "Unsubscribe</button>" in opened.text
    assert confirmed.status_code == 200 and "You are unsubscribed" in confirmed.text
    assert store.suppression("ana@techcorp.example") == "unsubscribed"


async def test_one_click_post_suppresses_the_address(store: Store, bundle: ir.Bundle) -> None:
    token = unsubscribe_token(UNSUBSCRIBE_SECRET, EMAIL)
    async with offline_api(store, bundle, headers={}) as api:
        response = await api.post("/v1/unsubscribe", params={"email": EMAIL, "token": token},
                                  data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert store.suppression(EMAIL) == "unsubscribed"


async def test_a_forged_token_is_refused_with_403_and_a_reason(store: Store, bundle: ir.Bundle) -> None:
    forged = unsubscribe_token("another-secret", EMAIL)
    async with offline_api(store, bundle, headers={}) as api:
        page = await api.get("/v1/unsubscribe", params={"email": EMAIL, "token": forged})
        as_json = await api.post("/v1/unsubscribe", params={"email": EMAIL, "token": forged},
                                 headers={"Accept": "application/json"})
    assert page.status_code == 403
    assert "does not match the address" in page.text
    assert as_json.status_code == 403
    assert as_json.json()["error"] == "forbidden"
    assert store.suppression(EMAIL) is None


async def test_a_token_for_another_address_does_not_unsubscribe_this_one(store: Store, bundle: ir.Bundle) -> None:
    token = unsubscribe_token(UNSUBSCRIBE_SECRET, "someone@else.example")
    async with offline_api(store, bundle, headers={}) as api:
        response = await api.get("/v1/unsubscribe", params={"email": EMAIL, "token": token})
    assert response.status_code == 403
    assert store.suppression(EMAIL) is None


async def test_a_link_without_its_token_is_a_400(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle, headers={}) as api:
        response = await api.get("/v1/unsubscribe", params={"email": EMAIL})
    assert response.status_code == 400
    assert store.suppression(EMAIL) is None
