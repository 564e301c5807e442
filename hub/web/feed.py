"""The home feed, as JSON (`GET /api/feed`) and as the web hub's front page with a composer on top."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from hub.services import documents, feed
from hub.urls import group_path
from hub.web.deps import DB, ApiUser, CSRFChecked, PageUser
from hub.web.pages import render
from hub.web.schemas import Author

router = APIRouter()


class FeedItemOut(BaseModel):
    kind: str
    """`post` or `comment`."""
    post_id: int
    """The thread: the post itself, or the post the comment answers."""
    id: int
    title: str
    """The thread's title."""
    snippet: str
    author: Author
    group: str
    """The group's slug."""
    created_at: datetime
    reactions: dict[str, int]
    unread: bool
    """Written after the caller last opened the thread (never for their own)."""

    @classmethod
    def of(cls, item: feed.FeedItem) -> FeedItemOut:
        return cls(
            kind=item.kind,
            post_id=item.post_id,
            id=item.id,
            title=item.title,
            snippet=item.snippet,
            author=Author.of(item.author),
            group=item.group.slug,
            created_at=item.created_at,
            reactions=item.reactions,
            unread=item.unread,
        )


class FeedOut(BaseModel):
    items: list[FeedItemOut]
    next_cursor: str | None
    """Pass as `cursor` for the next page; None on the last."""


Cursor = Annotated[str | None, Query(max_length=200)]


@router.get("/api/feed", response_model=FeedOut)
def api_feed(session: DB, user: ApiUser, cursor: Cursor = None) -> Response:
    """Newest activity first in what the caller follows; 400 for a cursor this feed did not give out."""
    page = feed.home_feed(session, user, cursor)
    answer = FeedOut(items=[FeedItemOut.of(item) for item in page.items], next_cursor=page.next_cursor)
    # Serialized here, once: the most asked-for answer of the API is not validated a second time on its way out.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get("/")
def home(request: Request, session: DB, user: PageUser, cursor: Cursor = None) -> HTMLResponse:
    page = feed.home_feed(session, user, cursor)
    return render(
        request,
        "feed.html",
        user=user,
        page=page,
        documents=documents.carried(
            session, user, [i.id for i in page.items if i.kind == "post"], [i.id for i in page.items if i.kind == "comment"]
        ),
        postable=feed.postable_groups(session, user),
        cursor=cursor,
    )


@router.post("/compose", dependencies=[CSRFChecked])
def compose(group: Annotated[str, Form()] = "") -> Response:
    """The composer's chosen group: the same form goes on, unchanged, to that group's post path."""
    return RedirectResponse(f"{group_path(quote(group, safe=''))}/posts", status_code=307)
