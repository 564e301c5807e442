"""The JSON API under /api, authenticated by `Authorization: Bearer TOKEN`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from python_multipart.multipart import parse_options_header
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.locale import N_
from hub.models import Comment, HeldMessage, Post, User
from hub.services import groups, inbox, posts, preferences, reactions, searching, submissions
from hub.services.errors import Invalid
from hub.services.visibility import find_membership
from hub.urls import comment_path, post_path
from hub.web.deps import DB, ApiUser, Id, context_of_app
from hub.web.schemas import (
    Author,
    CommentEdit,
    CommentOut,
    GroupOut,
    HeldOut,
    HistoryOut,
    PostEdit,
    PostList,
    PostOut,
    PostSummary,
    ReactionOut,
    RelatedOut,
    SearchOut,
    SearchResultOut,
    SuggestionsOut,
    reactions_out,
)
from hub.web.uploads import TOO_LARGE, TOO_MANY_FILES, UploadForm, read_upload_form

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
                id=p.id, title=p.title, author=Author.of(p.author), created_at=p.created_at,
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
    kind: str | None = Query(None, description="post, status, comment, document, photo, video, person or group"),
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
    notifications: dict[str, str] | None = None
    """per kind (reply, mention, reaction, post): mail (at once), daily or web; kinds left out stay as they are"""


@router.get("/preferences")
def get_mail_settings(session: DB, user: ApiUser) -> MailSettingsIO:
    return MailSettingsIO(**vars(preferences.settings_of(user)), notifications=inbox.channels_of(session, user))


@router.put("/preferences")
def put_mail_settings(wanted: MailSettingsIO, session: DB, user: ApiUser) -> MailSettingsIO:
    preferences.update_settings(session, user, preferences.MailSettings(**wanted.model_dump(exclude={"notifications"})))
    if wanted.notifications:
        inbox.set_channels(session, user, wanted.notifications)
    return MailSettingsIO(**vars(preferences.settings_of(user)), notifications=inbox.channels_of(session, user))


# Writing over the API: a phone app or a field engineer's "direct button" posts, comments, edits and deletes
# as the web does, under the same posting policy and the same limits on files (hub.web.uploads).


async def written_form(request: Request) -> AsyncIterator[UploadForm]:
    """A post or comment sent as JSON, or as a form (multipart with `files`, or urlencoded) read as the web's."""
    kind, _ = parse_options_header(request.headers.get("content-type", ""))
    if kind == b"application/json":
        yield await _json_form(request, context_of_app(request).settings.max_message_size)
        return
    reading = read_upload_form(request)
    try:
        yield await anext(reading)
    finally:
        await reading.aclose()  # removes the files the store did not take


async def _json_form(request: Request, max_bytes: int) -> UploadForm:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return UploadForm(refused=TOO_LARGE)
    try:
        fields = json.loads(body)
    except ValueError:
        raise HTTPException(400, N_("The body is not valid JSON.")) from None
    if not isinstance(fields, dict):
        raise HTTPException(400, N_("The body must be a JSON object."))
    return UploadForm(fields={
        name: value if isinstance(value, str) else json.dumps(value) for name, value in fields.items() if value is not None
    })


WrittenForm = Annotated[UploadForm, Depends(written_form, scope="function")]
REFUSED = {
    TOO_MANY_FILES: N_("Too many files: a post or comment takes no more files than a mail may. Nothing was posted."),
    TOO_LARGE: N_("Too large: a post or comment and its files may be no larger than the upload limit "
                  "(PLEIN_WEB_UPLOAD_MAX_BYTES). Nothing was posted."),
}
CREATED = {
    201: {"description": "Made: the item as `GET /api/posts/{id}` shows it"},
    202: {"model": HeldOut, "description": "Waits for a moderator of the group"},
    413: {"description": "More files than a mail may carry, or more bytes than `PLEIN_WEB_UPLOAD_MAX_BYTES`"},
}


def _created(session: Session, user: User, made: Post | Comment | HeldMessage) -> JSONResponse:
    if isinstance(made, HeldMessage):
        return JSONResponse(HeldOut.of(made).model_dump(mode="json"), status_code=202)
    if isinstance(made, Comment):
        return JSONResponse(CommentOut.of(made, reactions.of_item(session, user, made)).model_dump(mode="json"),
                            status_code=201,
                            headers={"Location": context_of(session).url(comment_path(made.post_id, made.id))})
    return JSONResponse(PostOut.of(made, reactions.of_thread(session, user, made)).model_dump(mode="json"),
                        status_code=201,
                        headers={"Location": context_of(session).url(post_path(made.id))})


def _refused(form: UploadForm) -> None:
    if form.refused:
        raise HTTPException(413, REFUSED[form.refused])


@router.post("/groups/{slug}/posts", status_code=201, response_model=PostOut, responses=CREATED)
def create_post(slug: str, form: WrittenForm, session: DB, user: ApiUser) -> JSONResponse:
    """`title`, `body` and `files`: multipart/form-data, or a JSON object without files; `"anonymous": true` posts
    it without your name where the group allows it."""
    _refused(form)
    group = groups.get_visible_group(session, user, slug)
    made = submissions.submit_post(session, user, group, form.fields.get("title", ""), form.fields.get("body", ""),
                                   form.files, anonymous=form.anonymous)
    return _created(session, user, made)


@router.post("/posts/{post_id}/comments", status_code=201, response_model=CommentOut, responses=CREATED)
def create_comment(post_id: Id, form: WrittenForm, session: DB, user: ApiUser) -> JSONResponse:
    """`body`, optionally `parent_id` (the comment it answers), `files` and `"anonymous": true`: multipart/form-data,
    or a JSON object without files."""
    _refused(form)
    post = posts.get_post(session, user, post_id)
    parent_id = form.fields.get("parent_id", "")
    if parent_id and not parent_id.isdigit():
        raise Invalid("parent_id must be the id of a comment on this post")
    parent = posts.get_comment(session, user, int(parent_id)) if parent_id else None
    made = submissions.submit_comment(
        session, user, post, form.fields.get("body", ""), parent, form.files, anonymous=form.anonymous
    )
    return _created(session, user, made)


@router.patch("/posts/{post_id}")
def edit_post(post_id: Id, edit: PostEdit, session: DB, user: ApiUser) -> PostOut:
    """Your own post only (403 otherwise); what it said before goes to its history."""
    post = posts.get_post(session, user, post_id)
    posts.edit_post(session, post, user, post.title if edit.title is None else edit.title,
                    post.body_text if edit.body is None else edit.body)
    return PostOut.of(post, reactions.of_thread(session, user, post))


@router.delete("/posts/{post_id}", status_code=204)
def delete_post(post_id: Id, session: DB, user: ApiUser) -> Response:
    """Your own post only (403 otherwise), with its whole thread."""
    posts.delete_post(session, posts.get_post(session, user, post_id), user)
    return Response(status_code=204)


@router.get("/posts/{post_id}/history")
def post_history(post_id: Id, session: DB, user: ApiUser) -> HistoryOut:
    return HistoryOut.of(posts.get_post(session, user, post_id))


@router.patch("/comments/{comment_id}")
def edit_comment(comment_id: Id, edit: CommentEdit, session: DB, user: ApiUser) -> CommentOut:
    """Your own comment only (403 otherwise); what it said before goes to its history."""
    comment = posts.edit_comment(session, posts.get_comment(session, user, comment_id), user, edit.body)
    return CommentOut.of(comment, reactions.of_item(session, user, comment))


@router.delete("/comments/{comment_id}", status_code=204)
def delete_comment(comment_id: Id, session: DB, user: ApiUser) -> Response:
    """Your own comment only (403 otherwise): it stays in its thread as removed by its author."""
    posts.delete_comment(session, posts.get_comment(session, user, comment_id), user)
    return Response(status_code=204)


@router.get("/comments/{comment_id}/history")
def comment_history(comment_id: Id, session: DB, user: ApiUser) -> HistoryOut:
    return HistoryOut.of(posts.get_comment(session, user, comment_id))


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
