"""Notifications on the web and in the API: the list, marking read, and the choice of channel per kind."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from hub.models import User
from hub.services import inbox
from hub.web.deps import DB, ApiUser, CSRFChecked, FormFields, PageUser, context_of_app, reader_language
from hub.web.pages import render

router = APIRouter()


def _items(request: Request, user: User, entries: list[inbox.Entry]) -> list[dict]:
    context = context_of_app(request)
    t = context.catalogue.translator(reader_language(request, user))
    return [
        {
            "id": entry.ids[0],
            "ids": entry.ids,
            "kind": entry.kind,
            "who": {"name": entry.who.name, "email": entry.who.email} if entry.who else {"name": inbox.name_of(t, None), "email": ""},
            "others": entry.others,
            "what": inbox.describe(
                t,
                entry.kind,
                inbox.name_of(t, entry.who),
                entry.post.headline,
                reaction=entry.reaction,
                group=inbox.place(entry.post),
                others=entry.others,
            ),
            "title": entry.post.title,
            "post_id": entry.post.id,
            "comment_id": entry.comment.id if entry.comment else None,
            "reaction": entry.reaction,
            "link": context.url(entry.link),
            "created_at": entry.created_at.isoformat(),
            "read": entry.read,
        }
        for entry in entries
    ]


@router.get("/api/notifications")
def list_notifications(request: Request, session: DB, user: ApiUser, cursor: str | None = None) -> dict:
    """Newest first, a page at a time: `cursor` is the `next_cursor` of the page before, null on the last page;
    the reactions of several people to one item are one item, `ids` naming each."""
    found = inbox.list_notifications(session, user, cursor=cursor)
    return {"unread": found.unread, "items": _items(request, user, found.entries), "next_cursor": found.next_cursor}


class ReadIn(BaseModel):
    ids: list[int] | None = None
    """the notifications to mark read; all of them when left out"""


@router.post("/api/notifications/read")
def mark_read(session: DB, user: ApiUser, wanted: ReadIn | None = None) -> dict:
    marked = inbox.mark_read(session, user, wanted.ids if wanted else None)
    return {"marked": marked, "unread": inbox.unread_count(session, user)}


@router.get("/notifications")
def notifications_page(request: Request, session: DB, user: PageUser, cursor: str | None = None) -> Response:
    found = inbox.list_notifications(session, user, cursor=cursor)
    return render(
        request,
        "notifications.html",
        user=user,
        unread=found.unread,
        cursor=cursor,
        next_cursor=found.next_cursor,
        entries=list(zip(found.entries, _items(request, user, found.entries), strict=True)),
    )


@router.post("/notifications/read", dependencies=[CSRFChecked])
def mark_all_read(session: DB, user: PageUser) -> Response:
    inbox.mark_read(session, user)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/preferences/notifications", dependencies=[CSRFChecked])
def save_channels(session: DB, user: PageUser, form: FormFields) -> Response:
    """The notifications section of /preferences: one `channel-KIND` field per kind."""
    inbox.set_channels(
        session, user, {kind: str(form[f"channel-{kind}"]) for kind in inbox.DEFAULTS if f"channel-{kind}" in form}
    )
    return RedirectResponse("/preferences#notifications", status_code=303)
