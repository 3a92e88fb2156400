"""Rewriting a rendered email for engagement: its links through the signed redirect, a pixel for opens.

Only with `PLAYBOOK_TRACK_ENGAGEMENT` on (`Tracking` given to `activities.sending.compose_message`);
off, nothing here runs and the message is exactly as rendered.

- Links: every `href="http(s)://…"` of the HTML part and every bare `http(s)://…` of the text
  part becomes `<tracking url>/e/c/<token>` (`activities.tracking_tokens`). The same URL in both
  parts is one link with one index; the message's links are kept with it in the store, so the
  redirect can only ever lead to a URL that was in the message. The unsubscribe link is left as
  it is (following it is no click), and so is every link past the first `MAX_LINKS`.
- Opens: a 1x1 image `<tracking url>/e/o/<token>` at the end of the HTML body. A message without
  an HTML part has no pixel (a text part cannot load an image).

The text part stays readable: a link is replaced by one short URL (about 90 characters).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from activities.tracking_tokens import MAX_LINKS, click_token, message_ref, open_token

__all__ = ["Tracked", "Tracking", "track_links"]

_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(https?://[^"'<>\s]+)\2""", re.IGNORECASE)
_BARE = re.compile(r"""https?://[^\s<>"'()\[\]{}]+""", re.IGNORECASE)
_TRAILING = ".,;:!?"  # sentence punctuation after a URL in text is not part of it
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class Tracking:
    """Where the redirect is served and the secret its tokens are signed with (the worker's settings)."""

    base_url: str
    secret: str


@dataclass(frozen=True)
class Tracked:
    """A message's parts rewritten, its reference and its links (index = position)."""

    text: str
    html: str | None
    ref: str
    links: tuple[str, ...] = field(default_factory=tuple)


class _Links:
    def __init__(self, tracking: Tracking, ref: str, keep: set[str]) -> None:
        self.tracking, self.ref, self.keep = tracking, ref, keep
        self.urls: list[str] = []

    def redirect(self, url: str) -> str | None:
        """The tracked URL of `url`, or None when it stays as written."""
        if url in self.keep:
            return None
        if url not in self.urls:
            if len(self.urls) >= MAX_LINKS:
                return None
            self.urls.append(url)
        token = click_token(self.tracking.secret, self.ref, self.urls.index(url))
        return f"{self.tracking.base_url}/e/c/{token}"


def _html(part: str, links: _Links) -> str:
    def rewrite(match: re.Match[str]) -> str:
        target = links.redirect(html.unescape(match.group(3)))
        if target is None:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{target}{match.group(2)}"

    return _HREF.sub(rewrite, part)


def _text(part: str, links: _Links) -> str:
    def rewrite(match: re.Match[str]) -> str:
        written = match.group(0)
        url = written.rstrip(_TRAILING)
        target = links.redirect(url)
        return written if target is None else target + written[len(url):]

    return _BARE.sub(rewrite, part)


def _with_pixel(part: str, tracking: Tracking, ref: str) -> str:
    pixel = (f'<img src="{tracking.base_url}/e/o/{open_token(tracking.secret, ref)}" width="1" height="1" '
             'alt="" style="border:0;width:1px;height:1px">')
    end = ([None, *_BODY_END.finditer(part)])[-1]  # the last </body>
    if end is None:
        return part + pixel
    return part[:end.start()] + pixel + part[end.start():]


def track_links(tracking: Tracking, key: str, text: str, html_part: str | None,
                unsubscribe_url: str | None) -> Tracked:
    """The message sent under `key` with its links rewritten and, with an HTML part, a pixel."""
    ref = message_ref(tracking.secret, key)
    links = _Links(tracking, ref, {unsubscribe_url} if unsubscribe_url else set())
    rewritten_html = _with_pixel(_html(html_part, links), tracking, ref) if html_part is not None else None
    rewritten_text = _text(text, links)
    return Tracked(text=rewritten_text, html=rewritten_html, ref=ref, links=tuple(links.urls))
