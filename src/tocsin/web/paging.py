"""Listings under `/api/v1` come a page at a time: at most `limit` rows and, while more
follow, a `Link: <PATH?…&cursor=…>; rel="next"` header (RFC 8288, as GitHub's API pages)
whose URL asks for the next page. The body stays a JSON array.

A cursor is opaque to clients: a position in the listing's order, refused with 400 when it is
not one this listing gave. Alerts and evaluations, which grow without bound, are read from
the store a page at a time after the last row's key; the short listings (checks, heartbeats,
silences, windows, known issues) are sliced by position."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response

from tocsin.errors import Invalid
from tocsin.web.schemas import errors

T = TypeVar("T")
LINK = {
    "Link": {
        "description": 'When more rows follow: `<URL>; rel="next"`, the next page',
        "schema": {"type": "string"},
    }
}
CURSOR = "Where the page starts: the cursor in the previous page's Link: rel=next"


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a listing: its Link header, and the 4xx of `errors(*codes)`."""
    return {200: {"headers": LINK}, **errors(*codes)}


@dataclass
class Page:
    """What a listing was asked for, and where its Link header goes."""

    request: Request
    response: Response
    limit: int
    cursor: str | None

    def sliced(self, rows: Sequence[T]) -> list[T]:
        """This page of a short listing read whole."""
        start = offset(self.cursor)
        if start + self.limit < len(rows):
            self.link_next(encode("offset", start + self.limit))
        return list(rows[start : start + self.limit])

    def keyed(self, rows: Sequence[T], kind: str, key: Callable[[T], Any]) -> list[T]:
        """This page of rows read `limit + 1` at a time after a key: the extra row only
        says that more follow, and the last row kept gives the next cursor's key."""
        if len(rows) > self.limit:
            self.link_next(encode(kind, key(rows[self.limit - 1])))
        return list(rows[: self.limit])

    def link_next(self, cursor: str) -> None:
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "cursor"]
        url = f"{self.request.url.path}?{urlencode([*query, ('cursor', cursor)])}"
        self.response.headers["Link"] = f'<{url}>; rel="next"'


def pages(default: int, most: int) -> Any:
    """The `limit` and `cursor` query parameters of a listing, as a `Page`."""

    # Defaults, not Annotated[]: these annotations are strings that could not name `most`.
    async def dependency(
        request: Request,
        response: Response,
        limit: int = Query(default, ge=1, le=most, description=f"Rows in the page, {most} at most"),
        cursor: str | None = Query(None, max_length=300, description=CURSOR),
    ) -> Page:
        return Page(request, response, limit, cursor)

    return Depends(dependency)


Listing = Annotated[Page, pages(100, 1000)]


def encode(kind: str, position: Any) -> str:
    raw = json.dumps([kind, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, kind: str) -> Any:
    """The position in `cursor` (None for the first page); refused unless a listing of this
    kind made it."""
    if cursor is None:
        return None
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        found = None
    if not (isinstance(found, list) and len(found) == 2 and found[0] == kind):
        raise refused()
    return found[1]


def refused() -> Invalid:
    return Invalid("cursor: not a cursor this listing gave; start again without it")


def row_id(position: Any) -> int:
    """A row id from a cursor: a store's 64-bit id, or the cursor is refused."""
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < 2**63:
        raise refused()
    return position


def offset(cursor: str | None) -> int:
    at = decode(cursor, "offset")
    return 0 if at is None else row_id(at)
