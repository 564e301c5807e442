"""Following, muting and tags, over the JSON API and on the web.

A target is named in the path as `/{kind}/{target}`: a person by address, a group by slug, a
thread by its post's id, a tag without its `#`. It is looked up as the reader may see it, so a
private group or its thread that the reader cannot see is a 404 exactly as a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import FollowKind, User
from hub.services import accounts, follows, groups, posts, tags
from hub.services.errors import Invalid, NotFound
from hub.urls import comment_path, post_path
from hub.web.deps import DB, LARGEST_ID, ApiUser, CSRFChecked, PageUser
from hub.web.pages import render
from hub.web.schemas import Author

router = APIRouter()

KIND_DOC = "person (target: an address), group (a slug), post (an id) or tag (without #)"
ACTIONS = {"follow": follows.follow, "unfollow": follows.unfollow, "mute": follows.mute, "unmute": follows.unmute}


def resolve(session: Session, user: User, kind: str, target: str) -> follows.Target:
    """What `kind` and `target` name, as `user` may see it: NotFound when they may not, Invalid for a bad name."""
    if kind == FollowKind.PERSON:
        return accounts.get_user(session, target)
    if kind == FollowKind.GROUP:
        return groups.get_visible_group(session, user, target)
    if kind == FollowKind.POST:
        if not target.isdigit() or not 0 < int(target) <= LARGEST_ID:
            raise NotFound("no post %(post_id)s", post_id=target)
        return posts.get_post(session, user, int(target))
    if kind == FollowKind.TAG:
        return tags.normalize_tag(target)
    raise Invalid("kind must be one of %(choices)s", choices=", ".join(FollowKind))


class FollowOut(BaseModel):
    kind: str
    target: str
    """What names it in `/api/follows/{kind}/{target}`."""
    name: str
    url: str
    following: bool
    muted: bool

    @classmethod
    def of(cls, session: Session, followed: follows.Followed) -> FollowOut:
        return cls(kind=followed.kind, target=followed.target, name=followed.name,
                   url=context_of(session).url(followed.path), following=followed.following, muted=followed.muted)


def _act(session: Session, user: User, action: str, kind: str, target: str) -> FollowOut:
    found = resolve(session, user, kind, target)
    ACTIONS[action](session, user, found)
    return FollowOut.of(session, follows.standing_of(session, user, found))


KindPath = Annotated[str, Path(description=KIND_DOC)]


@router.get("/api/follows")
def list_follows(session: DB, user: ApiUser) -> list[FollowOut]:
    """What you follow and mute, newest first; nothing in a group you can no longer see."""
    return [FollowOut.of(session, followed) for followed in follows.described_follows(session, user)]


@router.put("/api/follows/{kind}/{target}")
def follow(kind: KindPath, target: str, session: DB, user: ApiUser) -> FollowOut:
    return _act(session, user, "follow", kind, target)


@router.delete("/api/follows/{kind}/{target}")
def unfollow(kind: KindPath, target: str, session: DB, user: ApiUser) -> FollowOut:
    return _act(session, user, "unfollow", kind, target)


@router.put("/api/mutes/{kind}/{target}")
def mute(kind: KindPath, target: str, session: DB, user: ApiUser) -> FollowOut:
    """Silence a thread, group, person or tag, followed or not; unmuting gives back the follow as it was."""
    return _act(session, user, "mute", kind, target)


@router.delete("/api/mutes/{kind}/{target}")
def unmute(kind: KindPath, target: str, session: DB, user: ApiUser) -> FollowOut:
    return _act(session, user, "unmute", kind, target)


class TaggedOut(BaseModel):
    kind: str
    """post or comment"""
    id: int
    post_id: int
    title: str
    author: Author
    group: str
    created_at: datetime
    url: str


class TagOut(BaseModel):
    tag: str
    total: int
    page: int
    pages: int
    following: bool
    items: list[TaggedOut]


def _tagged_out(session: Session, tagged: tags.Tagged) -> TaggedOut:
    post, item = tagged.post, tagged.item
    return TaggedOut(
        kind="comment" if tagged.comment else "post", id=item.id, post_id=post.id, title=post.title,
        author=Author.of(item.author), group=post.group.slug, created_at=item.created_at,
        url=context_of(session).url(comment_path(post.id, item.id) if tagged.comment else post_path(post.id)),
    )


@router.get("/api/tags/{tag}")
def tag_items(tag: str, session: DB, user: ApiUser, page: int = Query(1, ge=1)) -> TagOut:
    """The posts and comments tagged `tag` that you may see, newest first."""
    found = tags.tagged(session, user, tag, page)
    return TagOut(tag=found.tag, total=found.total, page=found.page, pages=found.pages,
                  following=follows.is_following(session, user, found.tag),
                  items=[_tagged_out(session, item) for item in found.items])


# On the web: one form per target with a follow and a mute button (templates/web/_follow.html), which comes
# back to the page it was sent from.


def _back(back: str, fallback: str) -> str:
    """Only a path on this site: a form elsewhere must not make this an open redirect."""
    return back if back.startswith("/") and not back.startswith(("//", "/\\")) else fallback


@router.post("/following/{kind}/{target}", dependencies=[CSRFChecked])
def change_following(
    kind: str, target: str, session: DB, user: PageUser,
    do: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "",
) -> Response:
    if do not in ACTIONS:
        raise Invalid("do must be one of %(choices)s", choices=", ".join(ACTIONS))
    _act(session, user, do, kind, target)
    return RedirectResponse(_back(back, "/following"), status_code=303)


@router.get("/following")
def following_page(request: Request, session: DB, user: PageUser) -> HTMLResponse:
    return render(request, "following.html", user=user, followed=follows.described_follows(session, user))


@router.get("/tags/{tag}")
def tag_page(request: Request, tag: str, session: DB, user: PageUser, page: int = Query(1, ge=1)) -> HTMLResponse:
    found = tags.tagged(session, user, tag, page)
    return render(request, "tag.html", user=user, found=found,
                  following=follows.standing_of(session, user, found.tag))
