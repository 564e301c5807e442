"""Nothing in the web hub blocks the event loop that, under `plein run`, also serves SMTP.

A route, a dependency or an error handler that touches the database or the disk is a plain
`def`, which FastAPI and Starlette run in their thread pool; `async def` is kept for code that
only awaits. The allow-list names each exception and why it may stay on the loop.
"""

from __future__ import annotations

import inspect

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from hub.web import photos, uploads
from hub.web.app import create_app
from hub.web.deps import form_fields

ONLY_AWAITS = {
    form_fields: "awaits the form, parsed by Starlette with its files spooled in the thread pool",
    uploads.read_upload_form: "awaits the request body; each chunk goes to disk in the thread pool",
    photos.photo_body: "awaits a photo's body, no more than PLEIN_PHOTO_MAX_BYTES of it, into memory",
}


def api_routes(routes):
    """Every APIRoute, also inside routers FastAPI includes lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def calls_of(dependant: Dependant):
    yield dependant.call
    for sub in dependant.dependencies:
        yield from calls_of(sub)


def test_no_route_or_dependency_of_the_web_hub_runs_on_the_event_loop_unless_it_only_awaits(context, data_dir):
    app = create_app(context)
    on_the_loop = {
        f"{route.path} {call.__qualname__}"
        for route in api_routes(app.routes)
        for call in calls_of(route.dependant)
        if call is not None and inspect.iscoroutinefunction(call) and call not in ONLY_AWAITS
    }
    assert on_the_loop == set()
    assert len(list(api_routes(app.routes))) > 40, "the walk found the hub's routes"


def test_error_handlers_that_render_pages_run_off_the_event_loop(context, data_dir):
    app = create_app(context)
    on_the_loop = {
        getattr(error, "__name__", str(error))
        for error, handler in app.exception_handlers.items()
        if inspect.iscoroutinefunction(handler) and handler.__module__ == "hub.web.app"
    }
    assert on_the_loop == set()
