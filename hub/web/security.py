"""The Content-Security-Policy of Plein's pages: no script at all, except where a page needs one.

Every response gets `CONTENT_SECURITY_POLICY` unless its route set another; the few pages that
run a script (search suggestions, the API docs) load it from this origin only, never inline.
"""

from starlette.datastructures import MutableHeaders

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'"
)
SAME_ORIGIN_SCRIPTS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: every response carries `SECURITY_HEADERS`, each unless its route set its own.

    Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs each request in a task of its own
    and costs a feed page a fair part of its time (docs/performance.md)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
