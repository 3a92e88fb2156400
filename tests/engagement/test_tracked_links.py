"""Rewriting an email for engagement: which links go through the redirect, the pixel, the tokens,
and that with tracking off (the default) the mail is exactly as it was."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from activities.context import OutgoingMail
from activities.sending import ComposedMessage, compose_message
from activities.smtp_mailer import build_message
from activities.tracked_links import Tracking, track_links
from activities.tracking_tokens import (
    MAX_LINKS,
    MAX_TOKEN_LENGTH,
    OPEN,
    TokenError,
    click_token,
    message_ref,
    open_token,
    read_token,
)
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from engine.store.snapshots import build_snapshot
from tests.engagement.conftest import BASE, KEY, SECRET, TEMPLATE, UNSUBSCRIBE_SECRET, send
from tests.live_api import offline_starter
from workers.worker_context import worker_context

AT = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)
TRACKING = Tracking(base_url=BASE, secret=SECRET)
FROM = "CS <cs@acme.example>"


async def test_with_tracking_off_by_default_the_mail_is_byte_for_byte_the_untracked_one(
        store: Store, bundle: ir.Bundle, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(mail_from=FROM)
    assert settings.track_engagement is False
    assert "tracking" not in worker_context(settings, store, bundle, await offline_starter(store)).extras
    plain = await send(store, bundle, AT, tracking=None)
    other = Store.open(f"sqlite:///{tmp_path_factory.mktemp('tracked') / 'store.db'}")
    try:
        tracked = await send(other, bundle, AT, tracking=TRACKING)
    finally:
        other.close()
    assert "https://calendar.acme.example/qbr?account=oak&week=2." in plain.text
    assert '<a href="https://calendar.acme.example/qbr?account=oak&amp;week=2">' in (plain.html or "")
    assert "/e/c/" not in plain.text + (plain.html or "") and "/e/o/" not in (plain.html or "")
    assert store.tracked_message(message_ref(SECRET, KEY)) is None  # nothing kept for an untracked send
    # what tracking changes is the links and the pixel, nothing else: undo them and the bytes are the same
    links = re.compile(re.escape(BASE) + r"/e/c/[0-9a-f]{24}\.[0-9]+\.[0-9a-f]{24}")
    assert links.sub("L", tracked.text) == links.sub("L", plain.text).replace(
        "https://calendar.acme.example/qbr?account=oak&week=2", "L").replace("https://docs.acme.example/agenda", "L")
    # the bytes on the wire: those of the message rendered by the code that knows nothing of tracking
    snap = build_snapshot(store, bundle, "oak", AT)
    composed = compose_message(bundle, snap, TEMPLATE, channel="email", to=["primary_contact"], playbook="qbr_invite",
                               playbook_title="", public_url="https://api.acme.example",
                               unsubscribe_secret=UNSUBSCRIBE_SECRET)
    assert isinstance(composed, ComposedMessage) and composed.tracked is None
    untracked = OutgoingMail(key=KEY, to="eve@oak.example", to_name="Eve", subject=composed.subject,
                             text=composed.text, html=composed.html, unsubscribe_url=composed.unsubscribe_url, at=AT)
    assert bytes(build_message(plain, FROM)) == bytes(build_message(untracked, FROM))


def test_every_http_link_of_both_parts_is_one_indexed_link_and_the_unsubscribe_link_stays() -> None:
    unsubscribe = "https://api.acme.example/v1/unsubscribe?email=eve%40oak.example&token=abc"
    text = ("Pick: https://calendar.acme.example/qbr?a=1&b=2.\nAgenda (https://docs.acme.example/agenda)\n"
            f"Unsubscribe: {unsubscribe}\n")
    html = ('<html><body><a href="https://calendar.acme.example/qbr?a=1&amp;b=2">pick</a>'
            "<a href='https://docs.acme.example/agenda'>agenda</a><img src=\"https://cdn.acme.example/x.png\">"
            '<a href="mailto:sam@acme.example">Sam</a>'
            f'<a href="{unsubscribe.replace("&", "&amp;")}">unsubscribe</a></body></html>')
    tracked = track_links(TRACKING, KEY, text, html, unsubscribe)
    assert tracked.links == ("https://calendar.acme.example/qbr?a=1&b=2", "https://docs.acme.example/agenda")
    ref = message_ref(SECRET, KEY)
    first, second = (f"{BASE}/e/c/{click_token(SECRET, ref, index)}" for index in (0, 1))
    assert tracked.text == f"Pick: {first}.\nAgenda ({second})\nUnsubscribe: {unsubscribe}\n"
    assert tracked.html is not None
    assert f'href="{first}"' in tracked.html and f"href='{second}'" in tracked.html
    assert 'src="https://cdn.acme.example/x.png"' in tracked.html and "mailto:sam@acme.example" in tracked.html
    assert unsubscribe.replace("&", "&amp;") in tracked.html
    pixel = f'<img src="{BASE}/e/o/{open_token(SECRET, ref)}" width="1" height="1"'
    assert pixel in tracked.html and tracked.html.index(pixel) < tracked.html.index("</body>")


def test_a_message_without_html_gets_no_pixel_and_links_past_the_bound_stay_as_written() -> None:
    text = "".join(f"https://acme.example/{index}\n" for index in range(MAX_LINKS + 2))
    tracked = track_links(TRACKING, KEY, text, None, None)
    assert tracked.html is None
    assert len(tracked.links) == MAX_LINKS
    assert tracked.text.endswith(f"https://acme.example/{MAX_LINKS}\nhttps://acme.example/{MAX_LINKS + 1}\n")


def test_a_token_names_its_message_and_link_and_nothing_else_holds() -> None:
    ref = message_ref(SECRET, KEY)
    token = click_token(SECRET, ref, 1)
    assert len(token) <= MAX_TOKEN_LENGTH and KEY not in token and "oak" not in token
    named = read_token(SECRET, token, click=True)
    assert (named.ref, named.index) == (ref, 1)
    assert read_token(SECRET, open_token(SECRET, ref), click=False).index == OPEN
    body, mac = token.rsplit(".", 1)
    another_link = body[:-1] + "0" + "." + mac
    refusals = {
        "another link, same signature": another_link,
        "another key": click_token("another-secret", ref, 1),
        "an open token as a click": open_token(SECRET, ref),
        "malformed": "../../etc/passwd",
        "too long": token + "0" * MAX_TOKEN_LENGTH,
    }
    for what, bad in refusals.items():
        with pytest.raises(TokenError):
            read_token(SECRET, bad, click=True)
        assert what


async def test_a_tracked_send_keeps_its_links_and_a_retry_renders_the_same_bytes(
        store: Store, bundle: ir.Bundle) -> None:
    mail = await send(store, bundle, AT, tracking=TRACKING)
    assert mail.html is not None and "/e/o/" in mail.html
    again = track_links(TRACKING, KEY, "https://calendar.acme.example/qbr?account=oak&week=2.", None, None)
    assert again.text.rstrip(".") in mail.text  # a retry of the step writes the same token
    kept = store.tracked_message(message_ref(SECRET, KEY))
    assert kept is not None
    assert kept.links == ("https://calendar.acme.example/qbr?account=oak&week=2", "https://docs.acme.example/agenda")
    assert (kept.account, kept.playbook, kept.template, kept.key) == ("oak", "qbr_invite", "qbr_invite", KEY)
    assert store.messages("oak")[0].text == mail.text  # the outbox keeps the message as it went


async def test_forgetting_the_account_or_the_address_drops_the_tracked_links(store: Store, bundle: ir.Bundle) -> None:
    await send(store, bundle, AT, tracking=TRACKING)
    await send(store, bundle, AT, tracking=TRACKING, key="journey/qbr_invite/pine/run-1/entry/0", account="pine")
    removed = store.forget_account("oak", AT)
    assert removed["tracked messages"] == 1
    assert store.tracked_message(message_ref(SECRET, KEY)) is None
    pine = message_ref(SECRET, "journey/qbr_invite/pine/run-1/entry/0")
    assert store.tracked_message(pine) is not None
    store.forget_email("eve@pine.example", AT)
    assert store.tracked_message(pine) is None
