"""What every page of the dashboard shares: who asks (`visitor`), rendering a template with the
page's headers (`render`), problem pages, reading a posted form and checking its form token
(`posted`), and which CSM the visitor works as (`me`, a cookie of their choosing).

A page redirects to the sign-in form without a valid session (`to_signin`); a form that changes
something also carries the page's form token (`server.dashboard.session`). With no API token
configured there is no sign-in, as for the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.dashboard.formatting import FILTERS
from server.dashboard.session import COOKIE, form_token, session_id, valid_form_token, valid_session
from server.smtp_sink import outbox_folder
from server.web.state import WebState

__all__ = ["HEADERS", "ME_COOKIE", "STATIC", "TEMPLATES", "Posted", "Visitor", "first_sentence", "here", "me",
           "posted", "problem", "read_form", "render", "safe_next", "to_signin", "visitor"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MAX_FORM_BYTES = 256 * 1024  # a drafted email's text, edited, is up to 100,000 characters
ME_COOKIE = "playbook_me"  # the CSM the visitor works as (an owner's email): a preference, not a secret

HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(FILTERS)


@dataclass(frozen=True)
class Visitor:
    session: str  # the cookie's value; "" when no token is configured
    form_token: str  # what the page's forms post back; "" when no token is configured


def visitor(request: Request, state: WebState) -> Visitor | None:
    """Who asks: None when a token is configured and the request has no valid session."""
    if state.token is None:
        return Visitor(session="", form_token="")
    cookie = request.cookies.get(COOKIE)
    if cookie is None or not valid_session(cookie, state.token) or state.store.session_revoked(session_id(cookie)):
        return None
    return Visitor(session=cookie, form_token=form_token(cookie, state.token))


def me(request: Request) -> str | None:
    """The CSM the visitor chose to work as (`ME_COOKIE`), or None."""
    value = (request.cookies.get(ME_COOKIE) or "").strip().lower()
    return value if 3 <= len(value) <= 320 and "@" in value and not any(c.isspace() for c in value) else None


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go back to; anything else (another site, a scheme) is the default."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value


def here(request: Request) -> str:
    """The page's own path and query, to come back to after a form."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def to_signin(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/signin?next={quote(here(request), safe='')}", status_code=303)


def render(request: Request, state: WebState, template: str, who: Visitor | None, *,
           status: int = 200, section: str = "", **context: Any) -> HTMLResponse:
    page = _env.get_template(template).render(
        request_path=request.url.path, section=section, auth=state.token is not None,
        form_token=who.form_token if who is not None else "", me=me(request),
        has_outbox=outbox_folder(state.settings.state_dir).is_dir(), **context)
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def problem(request: Request, state: WebState, who: Visitor | None, status: int, title: str,
            detail: str, back: str = "/") -> HTMLResponse:
    return render(request, state, "problem.html", who, status=status, title=title, detail=detail, back=back)


def first_sentence(detail: object) -> str:
    return str(detail).split(". ", 1)[0]


async def read_form(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body as a dict (first value of each name)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


@dataclass(frozen=True)
class Posted:
    who: Visitor
    form: dict[str, str]
    back: str  # the local page to return to


async def posted(request: Request, state: WebState, default_back: str) -> Posted | Response:
    """A form that changes something, from a signed-in visitor with the page's form token; else
    the answer to give instead (to the sign-in form, or 403: the form has expired)."""
    who = visitor(request, state)
    form = await read_form(request)
    back = safe_next(form.get("next"), default_back)
    if who is None:  # signed out meanwhile: sign in, then back to the page the form was on
        return RedirectResponse(f"/signin?next={quote(back, safe='')}", status_code=303)
    if state.token is not None and not valid_form_token(form.get("form_token"), who.session, state.token):
        return problem(request, state, who, 403, "The form has expired", "Open the page again and repeat what you did.",
                       back)
    return Posted(who=who, form=form, back=back)
