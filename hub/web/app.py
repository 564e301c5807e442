"""The FastAPI application: routers, sessions, security headers, and errors as answers.

A service error becomes a 4xx: JSON with a `detail` under /api, a page everywhere else.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from hub.context import Context, build_context
from hub.locale import Message
from hub.services.errors import Conflict, Forbidden, Invalid, NotFound, PleinError
from hub.web import admin, api, docs, feed, follows, health, mentions, moderation, notifications, pages, receipts
from hub.web.browser import BrowserCookie
from hub.web.deps import SignInRequired, context_of_app, reader_language, signed_in_user
from hub.web.directory import router as directory_router
from hub.web.directory_groups import router as directory_groups_router
from hub.web.documents import router as documents_router
from hub.web.group_admin import router as group_admin_router
from hub.web.media import router as media_router
from hub.web.photos import router as photos_router
from hub.web.security import SecurityHeaders
from hub.web.stats import router as stats_router
from hub.web.statuses import router as statuses_router
from hub.web.videos import router as videos_router
from search.remote import SearchUnavailable
from search.turns import SearchTurns

log = logging.getLogger(__name__)
SEARCH_PATHS = {"/search", "/api/search"}
TURN_TAKING_PATHS = SEARCH_PATHS | {"/search/suggest", "/api/search/suggest"}
"""Searched in this process one turn at a time (search/turns.py), unless the indexer answers them."""
STATUS_OF = {NotFound: 404, Invalid: 400, Conflict: 409, Forbidden: 403}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: Message | PleinError) -> Response:
    """Called from the error handlers below, which are plain `def`s: Starlette runs them in its
    thread pool, so the page's database read never holds up the event loop."""
    if _wants_json(request):
        gettext = context_of_app(request).catalogue.translator(reader_language(request, None)).gettext
        return JSONResponse({"detail": message.translated(gettext)}, status_code=status)
    with context_of_app(request).session_scope() as session:
        # The page keeps its header (search, mail settings) for whoever is signed in, so a
        # 404 is a way back rather than a dead end.
        user = signed_in_user(request, session)
        return pages.render(request, "error.html", status_code=status, user=user, status=status, message=message)


def create_app(context: Context | None = None) -> FastAPI:
    """The hub on `context`, or on a context of its own built from the environment."""
    context = context or build_context()
    settings = context.settings
    app = FastAPI(title="Plein", docs_url=None, openapi_url="/api/openapi.json", redoc_url=None)
    app.state.context = context
    settings.signing_key()  # made now, before requests that sign CSRF tokens arrive together
    app.add_middleware(BrowserCookie, https_only=settings.base_url.startswith("https://"))
    if not settings.search_url:
        app.add_middleware(SearchTurns, paths=TURN_TAKING_PATHS, at_once=settings.searches_at_once)

    app.add_middleware(health.SearchLatency, paths=SEARCH_PATHS)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(PleinError)
    def service_error(request: Request, error: PleinError) -> Response:
        return _error(request, STATUS_OF.get(type(error), 400), error)

    @app.exception_handler(SearchUnavailable)
    def search_unavailable(request: Request, error: SearchUnavailable) -> Response:
        log.warning("search unavailable: %s", error)
        return _error(request, 503, Message("Search is unavailable right now; everything else works. Try again in a minute."))

    @app.exception_handler(SignInRequired)
    def sign_in_required(request: Request, _: SignInRequired) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> Response:
        response = _error(request, error.status_code, Message(str(error.detail)))
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in error.errors()
        )
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return _error(request, 400, Message(problems.replace("%", "%%")))

    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(docs.router)
    app.include_router(feed.router)
    app.include_router(media_router)  # before pages: /attachments/{id}/thumb is not a file called thumb
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(moderation.router)
    app.include_router(receipts.router)
    app.include_router(follows.router)
    app.include_router(mentions.router)
    app.include_router(notifications.router)
    app.include_router(group_admin_router)
    app.include_router(directory_router)
    app.include_router(directory_groups_router)
    app.include_router(photos_router)
    app.include_router(documents_router)
    app.include_router(videos_router)
    app.include_router(statuses_router)
    app.include_router(stats_router)
    return app
