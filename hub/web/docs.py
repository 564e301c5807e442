"""`/api/docs`: the JSON API to browse and try, with no CDN and no inline script.

Swagger UI's own files come from the fastapi-offline package and are served from here, so
the page works on a company network that reaches nothing outside; its one script of our own
is a file too, so this page needs no more than `script-src 'self'`, and only this page gets it.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from hub.web.deps import context_of_app
from hub.web.security import SAME_ORIGIN_SCRIPTS_CSP

router = APIRouter(prefix="/api/docs", include_in_schema=False)

SWAGGER_UI_FILES = files("fastapi_offline") / "static"
SWAGGER_UI_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
CACHED_FOR_A_DAY = {"Cache-Control": "max-age=86400"}


@router.get("")
def api_docs(request: Request) -> HTMLResponse:
    template = context_of_app(request).catalogue.environment().get_template("web/api_docs.html")
    html = template.render(openapi_url=request.app.openapi_url)
    return HTMLResponse(html, headers={"Content-Security-Policy": SAME_ORIGIN_SCRIPTS_CSP})


@router.get("/start.js")
def start_script(request: Request) -> Response:
    script = context_of_app(request).catalogue.environment().get_template("web/api_docs.js").render()
    return Response(script, media_type="text/javascript", headers=CACHED_FOR_A_DAY)


@router.get("/{asset}")
def swagger_ui_asset(asset: str) -> Response:
    if asset not in SWAGGER_UI_ASSETS:
        raise HTTPException(404, f"no file {asset} here: the API docs are at {router.prefix}")
    return FileResponse(SWAGGER_UI_FILES / asset, media_type=SWAGGER_UI_ASSETS[asset], headers=CACHED_FOR_A_DAY)
