"""Short updates and personal blogs on the web and the API: `POST /api/status`, the home feed's
composer (`POST /share`) and `/people/{email}/blog` (`hub.services.personal`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from hub.context import context_of
from hub.models import HeldMessage
from hub.services import accounts, groups, personal, reactions, rendering, submissions
from hub.services.errors import Forbidden, Invalid
from hub.urls import group_path, person_path, post_path
from hub.web.deps import DB, ApiUser, PageUser, require_csrf
from hub.web.pages import render
from hub.web.schemas import HeldOut, PostOut
from hub.web.uploads import UploadedForm

router = APIRouter()


class StatusIn(BaseModel):
    body: str = Field(max_length=10_000, description="at most 500 characters once trimmed")
    group: str | None = Field(None, max_length=64, description="a group's slug; without it, to your followers")


@router.post(
    "/api/status", status_code=201, response_model=PostOut,
    responses={202: {"model": HeldOut, "description": "Waits for a moderator of the group"}},
)
def create_status(status: StatusIn, session: DB, user: ApiUser) -> JSONResponse:
    """A short update: a post without a title, in a group or on your own page for your followers."""
    post = personal.post_status(session, user, status.body, status.group)
    if isinstance(post, HeldMessage):
        return JSONResponse(HeldOut.of(post).model_dump(mode="json"), status_code=202)
    return JSONResponse(
        PostOut.of(post, reactions.of_thread(session, user, post)).model_dump(mode="json"),
        status_code=201,
        headers={"Location": context_of(session).url(post_path(post.id))},
    )


@router.post("/share")
def share(request: Request, session: DB, user: PageUser, form: UploadedForm) -> Response:
    """The home feed's composer: without a title a status, with one a post in the chosen group or on the blog."""
    require_csrf(request, form.fields.get("csrf", ""))
    if form.refused:
        raise Invalid("The files are too large or too many for one post.")
    title, body, slug = (form.fields.get(name, "").strip() for name in ("title", "body", "group"))
    if not title:
        if form.files:
            raise Invalid("Give your post a title to attach files; a short update is text only.")
        made = personal.post_status(session, user, body, slug or None)
        return RedirectResponse(group_path(slug) if isinstance(made, HeldMessage) else "/", status_code=303)
    if not slug:
        return RedirectResponse(
            post_path(personal.post_blog(session, user, title, body, form.files).id), status_code=303
        )
    made = submissions.submit_post(
        session, user, groups.get_visible_group(session, user, slug), title, body, form.files
    )
    if isinstance(made, HeldMessage):
        return RedirectResponse(group_path(slug), status_code=303)
    return RedirectResponse(post_path(made.id), status_code=303)


@router.get("/people/{email}/blog")
def blog(request: Request, email: str, session: DB, user: PageUser) -> HTMLResponse:
    return _blog_page(request, session, user, email)


@router.post("/people/{email}/blog")
def new_blog_post(request: Request, email: str, session: DB, user: PageUser, form: UploadedForm) -> Response:
    """Title, body and `files`, within the limits a mail has, as a group post."""
    require_csrf(request, form.fields.get("csrf", ""))
    title, body = form.fields.get("title", ""), form.fields.get("body", "")
    person = accounts.get_user(session, email)
    if person.id != user.id:
        raise Forbidden("You write only on your own blog.")
    if form.refused:
        return _blog_page(
            request,
            session,
            user,
            email,
            status_code=413,
            form={"title": title, "body": body},
            error=Invalid("The files are too large or too many for one post."),
        )
    try:
        post = personal.post_blog(session, user, title, body, form.files)
    except Invalid as error:
        return _blog_page(
            request, session, user, email, status_code=400, form={"title": title, "body": body}, error=error
        )
    return RedirectResponse(post_path(post.id), status_code=303)


def _blog_page(request: Request, session, user, email: str, status_code: int = 200, **extra) -> HTMLResponse:
    person = accounts.get_user(session, email)
    entries = personal.blog_posts(session, person)
    context = {"form": {}, "error": None, **extra}
    return render(
        request,
        "blog.html",
        status_code=status_code,
        user=user,
        person=person,
        entries=entries,
        bodies=rendering.render_bodies(session, [entry.post.body_text for entry in entries]),
        profile_url=person_path(person.email),
        **context,
    )
