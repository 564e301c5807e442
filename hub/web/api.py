"""The JSON API under /api, authenticated by `Authorization: Bearer TOKEN`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from hub.context import context_of
from hub.models import Comment, Post
from hub.services import accounts, groups, posts, preferences, reactions, searching
from hub.services.groups import find_membership
from hub.urls import post_path
from hub.web.deps import DB, ApiUser, Id
from hub.web.schemas import (
    GroupOut,
    Person,
    PostList,
    PostOut,
    PostSummary,
    ProfileOut,
    ReactionOut,
    RelatedOut,
    SearchOut,
    SearchResultOut,
    SuggestionsOut,
    reactions_out,
)

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
                comment_count=found.comment_counts.get(p.id, 0), url=context_of(session).url(post_path(p.id)),
            )
            for p in found.posts
        ],
    )


@router.get("/posts/{post_id}")
def get_post(post_id: Id, session: DB, user: ApiUser) -> PostOut:
    post = posts.get_post(session, user, post_id)
    return PostOut.of(post, reactions.of_thread(session, user, post))


@router.get("/search", response_model_exclude_none=True)
def search(
    session: DB,
    user: ApiUser,
    q: str = Query(..., description="words, \"phrases\", -exclusions, OR, and filters such as kind:document "
                                    "group:SLUG from:NAME tag:TAG before:2026-01-01 after:2025-06 has:attachment"),
    kind: str | None = Query(None, description="post, comment, document, person or group"),
    page: int = Query(1, ge=1),
    sort: str = Query("relevance", description="relevance or newest"),
    per_page: int = Query(20, ge=1, le=100),
) -> SearchOut:
    found = searching.search(session, user, q, kind or None, page, per_page, sort)
    counts = reactions.counts_of(session, user, [(f.hit.kind, f.hit.id) for f in found.results])
    return SearchOut.of(found, context_of(session).url, counts)


@router.get("/search/suggest")
def search_suggest(session: DB, user: ApiUser, q: str = Query("", description="what was typed so far")) -> SuggestionsOut:
    """Posts, people and groups whose title starts with `q`, for search-as-you-type."""
    return SuggestionsOut.of(searching.suggest(session, user, q), context_of(session).url)


@router.get("/posts/{post_id}/related")
def related_posts(post_id: Id, session: DB, user: ApiUser) -> RelatedOut:
    posts.get_post(session, user, post_id)
    found = searching.related_posts(session, user, post_id)
    return RelatedOut(results=[SearchResultOut.of(f, context_of(session).url) for f in found])


@router.get("/people/{email}")
def person(email: str, session: DB, user: ApiUser) -> ProfileOut:
    return ProfileOut.of(accounts.get_user(session, email))


class DeliveryIn(BaseModel):
    delivery: str
    """each, daily, weekly or none"""


@router.put("/groups/{slug}/membership")
def change_delivery(slug: str, change: DeliveryIn, session: DB, user: ApiUser) -> GroupOut:
    """Change how you get a group's mail; you must be a member (404 otherwise, 400 for a bad value)."""
    membership = preferences.set_delivery(session, user, slug, change.delivery)
    return GroupOut.of(membership.group, membership)


class MailSettingsIO(BaseModel):
    timezone: str
    digest_hour: int
    digest_weekday: int
    """0 = Monday"""
    language: str
    notify_replies: bool
    default_delivery: str = "each"
    """each, daily, weekly or none: for groups joined later"""
    receipts: bool = True
    """a receipt for each post and comment you send by mail"""


@router.get("/preferences")
def get_mail_settings(user: ApiUser) -> MailSettingsIO:
    return MailSettingsIO(**vars(preferences.settings_of(user)))


@router.put("/preferences")
def put_mail_settings(wanted: MailSettingsIO, session: DB, user: ApiUser) -> MailSettingsIO:
    preferences.update_settings(session, user, preferences.MailSettings(**wanted.model_dump()))
    return MailSettingsIO(**vars(preferences.settings_of(user)))


# Reactions: PUT gives one (201 the first time, 200 when given already), DELETE takes it back (200 either way);
# both answer with the item's reactions as they are now. An item the caller may not see is a 404, as a missing one.
REACTION_DOC = "like, thanks, agree, insightful or celebrate (400 otherwise)"
GIVEN = {201: {"description": "Given now"}, 200: {"description": "Given already"}}


def _reacted(session: DB, user: ApiUser, item: Post | Comment) -> dict[str, ReactionOut]:
    return reactions_out(reactions.of_item(session, user, item))


@router.put("/posts/{post_id}/reactions/{reaction}", status_code=201, responses=GIVEN)
def react_to_post(post_id: Id, reaction: Annotated[str, Path(description=REACTION_DOC)], session: DB, user: ApiUser,
                  response: Response) -> dict[str, ReactionOut]:
    post = posts.get_post(session, user, post_id)
    if not reactions.react(session, user, post, reaction):
        response.status_code = 200
    return _reacted(session, user, post)


@router.delete("/posts/{post_id}/reactions/{reaction}")
def unreact_to_post(post_id: Id, reaction: Annotated[str, Path(description=REACTION_DOC)], session: DB,
                    user: ApiUser) -> dict[str, ReactionOut]:
    post = posts.get_post(session, user, post_id)
    reactions.unreact(session, user, post, reaction)
    return _reacted(session, user, post)


@router.put("/comments/{comment_id}/reactions/{reaction}", status_code=201, responses=GIVEN)
def react_to_comment(comment_id: Id, reaction: Annotated[str, Path(description=REACTION_DOC)], session: DB,
                     user: ApiUser, response: Response) -> dict[str, ReactionOut]:
    comment = posts.get_comment(session, user, comment_id)
    if not reactions.react(session, user, comment, reaction):
        response.status_code = 200
    return _reacted(session, user, comment)


@router.delete("/comments/{comment_id}/reactions/{reaction}")
def unreact_to_comment(comment_id: Id, reaction: Annotated[str, Path(description=REACTION_DOC)], session: DB,
                       user: ApiUser) -> dict[str, ReactionOut]:
    comment = posts.get_comment(session, user, comment_id)
    reactions.unreact(session, user, comment, reaction)
    return _reacted(session, user, comment)
