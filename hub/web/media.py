"""Photos on the web and over the API: their sizes, their captions, and a group's photos (hub/services/photo_sizes.py
does the work).

A size is served to whoever may see the photo's post, the same check as downloading the file. Sizes are named by
the photo's SHA-256 and never change, so a browser keeps them for a year. Until a worker made them a photo shows
as a link to its file; these routes answer 404 meanwhile.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from hub.context import context_of
from hub.models import Attachment
from hub.services import groups, photo_sizes
from hub.services.errors import NotFound
from hub.urls import group_path, photo_size_path, post_path
from hub.web.deps import DB, ApiUser, CSRFChecked, Id, PageUser, context_of_app
from hub.web.pages import render

router = APIRouter()

YEAR = 365 * 24 * 3600


class CaptionIn(BaseModel):
    caption: str


class PhotoOut(BaseModel):
    id: int
    filename: str
    caption: str | None
    width: int | None
    height: int | None
    thumb_url: str | None
    large_url: str | None
    """Both None until a worker made the sizes, or for good when `error` says why the photo cannot be shown."""
    error: str | None

    @classmethod
    def of(cls, photo: Attachment) -> PhotoOut:
        url = context_of(photo).url
        ready = photo.media_ready_at is not None
        return cls(
            id=photo.id,
            filename=photo.filename,
            caption=photo.caption,
            width=photo.width,
            height=photo.height,
            thumb_url=url(photo_size_path(photo.id, photo_sizes.THUMB)) if ready else None,
            large_url=url(f"/attachments/{photo.id}/large") if ready else None,
            error=photo.media_error,
        )


@router.get("/attachments/{attachment_id}/thumb")
def thumb(request: Request, attachment_id: Id, session: DB, user: PageUser) -> Response:
    return _size(request, session, user, attachment_id, photo_sizes.THUMB)


@router.get("/attachments/{attachment_id}/large")
def large(request: Request, attachment_id: Id, session: DB, user: PageUser) -> Response:
    return _size(request, session, user, attachment_id, photo_sizes.LARGE)


def _size(request: Request, session: DB, user: PageUser, attachment_id: int, size: str) -> Response:
    photo = photo_sizes.photo_attachment(session, user, attachment_id)
    if photo.media_ready_at is None:
        raise NotFound("no photo %(id)s", id=attachment_id)
    etag = f'"{photo.sha256}-{size}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={YEAR}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = photo_sizes.size_path(session, photo.sha256, size).read_bytes()
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get("/lightbox.js")
def lightbox_script(request: Request) -> Response:
    """The keyboard of a thread's photo lightbox (web/_photos.html), which works by links without it."""
    script = context_of_app(request).catalogue.environment().get_template("web/lightbox.js").render()
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


@router.post("/attachments/{attachment_id}/caption", dependencies=[CSRFChecked])
def caption(attachment_id: Id, session: DB, user: PageUser, caption: Annotated[str, Form()] = "") -> Response:
    photo = photo_sizes.set_caption(session, user, attachment_id, caption)
    return RedirectResponse(f"{post_path(photo.post_id)}#attachment-{photo.id}", status_code=303)


@router.patch("/api/attachments/{attachment_id}")
def api_caption(attachment_id: Id, body: CaptionIn, session: DB, user: ApiUser) -> PhotoOut:
    """Caption a photo (its author's to write: who sent the post or comment it came with); `""` removes it. The
    caption is its `alt` text on the page and is found by search."""
    return PhotoOut.of(photo_sizes.set_caption(session, user, attachment_id, body.caption))


@router.get("/api/attachments/{attachment_id}")
def api_photo(attachment_id: Id, session: DB, user: ApiUser) -> PhotoOut:
    """A photo: its caption, its size, and where its thumbnail and large size are once a worker made them."""
    return PhotoOut.of(photo_sizes.photo_attachment(session, user, attachment_id))


@router.get("/g/{slug}/photos")
def group_photos(request: Request, slug: str, session: DB, user: PageUser, page: int = Query(1, ge=1)) -> HTMLResponse:
    group = groups.get_visible_group(session, user, slug)
    found, more = photo_sizes.group_photos(session, group, page)
    return render(
        request,
        "group_photos.html",
        user=user,
        group=group,
        photos_found=found,
        page=page,
        more=more,
        group_url=group_path(group.slug),
    )
