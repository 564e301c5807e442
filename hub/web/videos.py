"""The poster frames of video attachments, shown to whoever may see the post (`hub.services.videos` makes them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from hub.services import attachments, videos
from hub.services.errors import NotFound
from hub.web.deps import DB, Id, PageUser

router = APIRouter()


@router.get("/posters/{attachment_id}.jpg")
def poster(attachment_id: Id, session: DB, user: PageUser) -> FileResponse:
    path = videos.poster_of(attachments.visible_attachment(session, user, attachment_id))
    if path is None:
        raise NotFound("no attachment %(id)s", id=attachment_id)
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"},
    )
