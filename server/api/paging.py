"""What the paged routes share: the `cursor` and `limit` parameters, and the next page's headers.

A paged answer carries the next page's cursor in `X-Next-Cursor` (and in its body's `next_cursor`
where the body is an object) and the next page's URL in `Link: <…>; rel="next"`; the last page
carries neither. The cursors themselves are `engine.read_model.cursors`'.
"""

from __future__ import annotations

from fastapi import Query, Request, Response

__all__ = ["CURSOR", "LIMIT", "next_page_headers"]

LIMIT = Query(description="accounts per page, 1 to 200 (default 50)")
CURSOR = Query(description="where the page starts: the `next_cursor` (or `X-Next-Cursor`) of the page before",
               max_length=1000)


def next_page_headers(response: Response, request: Request, next_cursor: str | None) -> None:
    """The next page's cursor in `X-Next-Cursor`, and its URL in `Link` (`rel="next"`)."""
    if next_cursor is None:
        return
    response.headers["X-Next-Cursor"] = next_cursor
    response.headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
