"""Profile photos on the web and over the API: set, remove and fetch one (hub/services/photos.py does the work).

Over the API a photo is the raw body of `PUT /api/people/{email}/photo` (a JPEG, PNG, GIF or WebP image); on the
profile page it is a file in a form, with its CSRF token. Fetching one takes a `size` (64 or 256 pixels a side);
with the current version as `v`, the answer may be kept for a year, since a new photo has a new version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import User
from hub.services import accounts, follows, person_details, photos, profiles
from hub.services.errors import Forbidden, Invalid
from hub.urls import person_path
from hub.web.deps import DB, ApiUser, CSRFChecked, PageUser, context_of_app, require_csrf
from hub.web.pages import render
from hub.web.uploads import TOO_LARGE, UploadedForm

router = APIRouter()

Size = Annotated[int, Query(description="Pixels a side: 64 or 256")]
YEAR = 365 * 24 * 3600


async def photo_body(request: Request) -> bytes:
    """The request body, read no further than one byte past `PLEIN_PHOTO_MAX_BYTES` (which the service refuses)."""
    limit = context_of_app(request).settings.photo_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


class PhotoOut(BaseModel):
    version: str
    urls: dict[int, str]
    """Where each size is, by pixels a side."""


IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in photos.MEDIA_TYPES},
    }
}
"""The raw body of a PUT, as `/api/docs` shows it: FastAPI does not see a body read by a dependency."""


@router.put("/api/people/{email}/photo", openapi_extra=IMAGE_BODY)
def api_set_photo(email: str, session: DB, user: ApiUser, data: Annotated[bytes, Depends(photo_body)]) -> PhotoOut:
    """Set a person's photo: the request body is the image (JPEG, PNG, GIF or WebP, at most `PLEIN_PHOTO_MAX_BYTES`).
    One's own photo, or anyone's for an admin. It is turned upright by its EXIF orientation and cropped to a
    centred square."""
    person = accounts.get_user(session, email)
    version = photos.set_photo(session, user, person, data)
    url = context_of(session).url
    return PhotoOut(version=version, urls={size: url(_photo_path(person, size)) for size in photos.SIZES})


@router.delete("/api/people/{email}/photo", status_code=204)
def api_remove_photo(email: str, session: DB, user: ApiUser) -> Response:
    """Remove a person's photo (one's own, or anyone's for an admin): their initials show again."""
    photos.remove_photo(session, user, accounts.get_user(session, email))
    return Response(status_code=204)


@router.get("/api/people/{email}/photo")
def api_photo(request: Request, email: str, session: DB, user: ApiUser, size: Size = 256) -> Response:
    """A person's photo as a JPEG; 404 if they have none."""
    return _photo(request, session, email, size)


@router.get("/people/{email}/photo")
def photo(request: Request, email: str, session: DB, user: PageUser, size: Size = 64) -> Response:
    return _photo(request, session, email, size)


@router.post("/people/{email}/photo")
def upload_photo(request: Request, email: str, session: DB, user: PageUser, form: UploadedForm) -> Response:
    """The form on one's profile page; what goes wrong is said on the page."""
    require_csrf(request, form.fields.get("csrf", ""))
    person = accounts.get_user(session, email)
    limit = context_of_app(request).settings.photo_max_bytes
    try:
        if form.refused == TOO_LARGE:
            raise photos.too_large(session)
        if not form.files:
            raise Invalid("Choose a photo to upload.")
        with form.files[0].path.open("rb") as file:
            photos.set_photo(session, user, person, file.read(limit + 1))
    except (Invalid, Forbidden) as error:
        return _person_page(request, session, user, person, error)
    return RedirectResponse(person_path(person.email), status_code=303)


@router.post("/people/{email}/photo/remove", dependencies=[CSRFChecked])
def remove_photo(email: str, session: DB, user: PageUser) -> Response:
    person = accounts.get_user(session, email)
    photos.remove_photo(session, user, person)
    return RedirectResponse(person_path(person.email), status_code=303)


def _photo(request: Request, session: Session, email: str, size: int) -> Response:
    person = accounts.get_user(session, email)
    path = photos.photo_path(session, person, size)
    etag = f'"{person.photo_version}-{size}"'
    current = request.query_params.get("v") == person.photo_version
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={YEAR}, immutable" if current else "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(path.read_bytes(), media_type="image/jpeg", headers=headers)


def _photo_path(person: User, size: int) -> str:
    return f"{person_path(person.email)}/photo?size={size}&v={person.photo_version}"


def _person_page(request: Request, session: Session, user: User, person: User, error: Invalid) -> HTMLResponse:
    return render(
        request,
        "person.html",
        status_code=403 if isinstance(error, Forbidden) else 400,
        user=user,
        person=person,
        form=None,
        error=None,
        saved=False,
        photo_error=error,
        expertise=profiles.expertise_tags(person.expertise),
        following=follows.standing_of(session, user, person),
        details=person_details.person_details(session, user, person),
    )
