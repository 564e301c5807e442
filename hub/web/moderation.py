"""The moderation queue of a group on the web: what waits, why, and buttons to approve or reject.

Only the group's moderators and the hub's admins see it; to anyone else it does not exist (404).
Approving and rejecting call the same services as a moderator's answer by mail.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from hub.services import moderation, raw_mail
from hub.services.errors import NotFound
from hub.urls import moderation_path
from hub.web.deps import DB, CSRFChecked, Id, PageUser
from hub.web.pages import render

router = APIRouter()


@router.get("/g/{slug}/moderation")
def queue(request: Request, slug: str, session: DB, user: PageUser, done: str = "") -> HTMLResponse:
    group = moderation.moderated_group(session, user, slug)
    held = moderation.held_messages(session, user, group)
    return render(request, "moderation.html", user=user, group=group, held=held, done=done)


@router.get("/g/{slug}/moderation/{held_id}/original")
def original(slug: str, held_id: Id, session: DB, user: PageUser) -> PlainTextResponse:
    """The held mail as it arrived, shown as plain text: a browser renders none of its HTML."""
    held = moderation.get_held(session, user, moderation.moderated_group(session, user, slug), held_id)
    if held.inbound is None:
        raise NotFound("held message %(id)s was written on the web: the queue shows all of it", id=held_id)
    if held.anonymous:
        raise NotFound("held message %(id)s is anonymous: its mail, which names its sender, is not shown", id=held_id)
    raw = raw_mail.read_raw(held.inbound)
    return PlainTextResponse(raw.decode("utf-8", errors="replace"), headers={"Content-Disposition": "inline"})


@router.post("/g/{slug}/moderation/{held_id}/approve", dependencies=[CSRFChecked])
def approve(slug: str, held_id: Id, session: DB, user: PageUser) -> RedirectResponse:
    held = moderation.get_held(session, user, moderation.moderated_group(session, user, slug), held_id)
    moderation.approve(session, held, user)
    return RedirectResponse(f"{moderation_path(slug)}?done={held_id}", status_code=303)


@router.post("/g/{slug}/moderation/{held_id}/reject", dependencies=[CSRFChecked])
def reject(slug: str, held_id: Id, session: DB, user: PageUser) -> RedirectResponse:
    held = moderation.get_held(session, user, moderation.moderated_group(session, user, slug), held_id)
    moderation.reject(session, held, user)
    return RedirectResponse(f"{moderation_path(slug)}?done={held_id}", status_code=303)
