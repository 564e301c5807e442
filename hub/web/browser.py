"""The browser's cookie: a random id and nothing else.

Whose it is lives in the database (`web_sessions`, hub.services.signin), so the server can end
a session; the CSRF token of a form is derived from the id (hub.web.deps). Signing in and out
give the browser a new id (`renew`), so an id seen before signing in never becomes a session.
"""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "plein_session"
MAX_AGE_SECONDS = 30 * 24 * 3600
_ID = re.compile(r"[A-Za-z0-9_-]{43}")
"""What `secrets.token_urlsafe(32)` makes; anything else in the cookie is replaced."""


def browser_id(request: Request) -> str:
    return request.state.browser_id


def renew(request: Request, new_id: str | None = None) -> None:
    """Give the browser `new_id`, or a fresh random id, in the cookie of this response."""
    request.state.browser_id = new_id or secrets.token_urlsafe(32)


class BrowserCookie:
    """Puts the cookie's id in `request.state.browser_id`, and sets the cookie when it is new."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        self.attributes = f"Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax" + (
            "; Secure" if https_only else ""
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = HTTPConnection(scope).cookies.get(COOKIE, "")
        given = given if _ID.fullmatch(given) else ""
        state = scope.setdefault("state", {})
        state["browser_id"] = given or secrets.token_urlsafe(32)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state["browser_id"] != given:
                headers = MutableHeaders(scope=message)
                headers.append("Set-Cookie", f"{COOKIE}={state['browser_id']}; {self.attributes}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)
