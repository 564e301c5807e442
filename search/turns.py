"""Searches served over HTTP take turns: a few at a time in one process, the others wait in order.

Tantivy searches without the GIL, but the Python around each search (the query, the hits, the
web framework) holds it. Run side by side on more threads than there are cores, searches fight
over the GIL and the cores, and the slowest wait longest. At a million items on 2 cores with
8 clients, two at a time answered as many searches a second as eight at once, with a shorter
tail: p95 44 ms against 57 (docs/performance.md). The wait is in the event loop, before a
request takes a worker thread, and the first to come is the first served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send


class SearchTurns:
    """ASGI middleware: requests for `paths` are handled at most `at_once` at a time."""

    def __init__(self, app: ASGIApp, paths: Collection[str], at_once: int) -> None:
        if at_once < 1:
            raise ValueError(f"at_once must be 1 or more, not {at_once}")
        self.app = app
        self.paths = frozenset(paths)
        self._turns = asyncio.Semaphore(at_once)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        async with self._turns:
            await self.app(scope, receive, send)
