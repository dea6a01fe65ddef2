"""What every HTML page shares: one autoescaping Jinja2 environment over `templates/`, the
stylesheets under `/static/`, and the headers every `text/html` answer gets.

The headers are added by `PageHeaders`, a middleware, so a page cannot forget them however it
is made (a template here, an error page, a future console). The policy allows the page's own
stylesheets and form posts and nothing else: no script, no inline style (pages link
`static/*.css`), no framing (clickjacking an Acknowledge button), no referrer (a page's URL
can carry a signed acknowledge token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HERE = Path(__file__).parent
STATIC_PATH = "/static"
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}
_RAW = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page from `templates/`; never cached (pages show live alerts)."""
    html = _templates.get_template(template).render(**values)
    return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})


def static_files() -> StaticFiles:
    return StaticFiles(directory=HERE / "static")


class PageHeaders:
    """Adds `HEADERS` to every answer whose Content-Type is text/html (others pass as they
    are: the API's JSON, pings, metrics). A page that sets one of them keeps its own: the
    runbook pages' policy also allows the images their Markdown links."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                if any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    have = {k for k, _ in headers}
                    message["headers"] = [*headers, *(h for h in _RAW if h[0] not in have)]
            await send(message)

        await self.app(scope, receive, guarded)
