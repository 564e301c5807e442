"""The JSON API under /api, authenticated by `Authorization: Bearer TOKEN`."""

from __future__ import annotations

from fastapi import APIRouter, Query

from hub.services import groups, posts, searching
from hub.services.groups import find_membership
from hub.web.deps import DB, ApiUser
from hub.web.schemas import GroupOut, Person, PostList, PostOut, PostSummary, SearchOut, SearchResultOut
from hub.urls import absolute, post_path

router = APIRouter(prefix="/api")


@router.get("/groups")
def list_groups(session: DB, user: ApiUser) -> list[GroupOut]:
    return [GroupOut.of(g, find_membership(session, g, user)) for g in groups.visible_groups(session, user)]


@router.get("/groups/{slug}/posts")
def list_group_posts(slug: str, session: DB, user: ApiUser, page: int = Query(1, ge=1)) -> PostList:
    group = groups.get_visible_group(session, user, slug)
    found = posts.list_posts(session, group, page)
    return PostList(
        group=group.slug, page=found.page, pages=found.pages,
        posts=[
            PostSummary(
                id=p.id, title=p.title, author=Person.of(p.author), created_at=p.created_at,
                comment_count=found.comment_counts.get(p.id, 0), url=absolute(post_path(p.id)),
            )
            for p in found.posts
        ],
    )


@router.get("/posts/{post_id}")
def get_post(post_id: int, session: DB, user: ApiUser) -> PostOut:
    return PostOut.of(posts.get_post(session, user, post_id))


@router.get("/search")
def search(
    session: DB,
    user: ApiUser,
    q: str = Query(..., description="what to look for"),
    kind: str | None = Query(None, description="post, comment or document"),
    page: int = Query(1, ge=1),
) -> SearchOut:
    found = searching.search(session, user, q, kind or None, page)
    return SearchOut(
        total=found.total, page=found.page, pages=found.pages,
        results=[SearchResultOut.of(f) for f in found.results],
    )
