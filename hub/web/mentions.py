"""Who to mention: the suggestions a composer offers while someone types `@`, and the script that offers them.

The endpoint answers a signed-in browser (the composer's script sends its cookie) as well as an API token.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from hub.models import User
from hub.services import mentions
from hub.web.deps import DB, api_user, context_of_app, signed_in_user

router = APIRouter()


def _reader(request: Request, session: DB) -> User:
    if "authorization" in request.headers:
        return api_user(request, session)
    return signed_in_user(request, session) or api_user(request, session)


@router.get("/api/mentions/suggest", dependencies=[Depends(_reader)])
def suggest(session: DB, q: str = "") -> JSONResponse:
    """At most eight people whose name or address starts with `q`: name, email and the local part to insert."""
    found = mentions.suggest_people(session, q)
    return JSONResponse({"suggestions": [
        {"name": person.name, "email": person.email, "local_part": person.email.rpartition("@")[0]} for person in found
    ]})


@router.get("/mentions.js")
def mentions_script(request: Request) -> Response:
    script = context_of_app(request).catalogue.environment().get_template("web/mentions.js").render()
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})
