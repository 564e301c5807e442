"""The HTML pages of the web hub, rendered on the server from `templates/web/`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session, object_session

from hub.context import Context
from hub.locale import Message
from hub.models import Attachment, Comment, Delivery, Group, HeldMessage, Post, User
from hub.services import (
    accounts,
    anonymity,
    attachments,
    bounces,
    documents,
    feed,
    follows,
    groups,
    inbox,
    moderation,
    participation,
    person_details,
    personal,
    photo_sizes,
    photos,
    posts,
    preferences,
    profiles,
    reactions,
    rendering,
    searching,
    signin,
    submissions,
    subscriptions,
    tags,
    videos,
)
from hub.services.errors import Forbidden, Invalid, NotFound, PleinError
from hub.services.submissions import Upload
from hub.services.visibility import find_membership, memberships_of
from hub.templating import showing_photos
from hub.urls import FROM_MAIL, comment_path, group_path, post_path
from hub.web.browser import browser_id, renew
from hub.web.deps import (
    DB,
    LANGUAGE_COOKIE,
    LARGEST_ID,
    CSRFChecked,
    FormFields,
    Id,
    PageUser,
    context_of_app,
    csrf_token,
    reader_language,
    require_csrf,
    signed_in_user,
)
from hub.web.security import SAME_ORIGIN_SCRIPTS_CSP
from hub.web.uploads import UploadedForm
from search.index import SearchUnavailable

log = logging.getLogger(__name__)
router = APIRouter()

INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain")


def _no_photo(email: str) -> None:
    """Photos are for people signed in."""


def render(request: Request, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """Page `template` in the reader's language; a `Message` or service error in `context` is translated into it."""
    context.setdefault("user", None)
    user = context["user"]
    # Mail to this person stopped after bounces: every page says so until they confirm.
    context.setdefault("mail_notice", bounces.disabled_notice(object_session(user), user) if user else None)
    context.setdefault("unread_notifications", inbox.unread_count(object_session(user), user) if user else 0)
    language, catalogue = reader_language(request, user), context_of_app(request).catalogue
    gettext = catalogue.translator(language).gettext
    context = {k: v.translated(gettext) if isinstance(v, (Message, PleinError)) else v for k, v in context.items()}
    if user is not None and request.method == "GET" and status_code == 200:
        _count_visit(request, user)
    with showing_photos(photos.versions_on_page(object_session(user)) if user else _no_photo):
        html = catalogue.environment(language).get_template(f"web/{template}").render(
            request=request, csrf_token=csrf_token(request), languages=preferences.LANGUAGES, **context
        )
    return HTMLResponse(html, status_code=status_code)


VIEWED_POST = "viewed_post_id"
"""Set on `request.state` by a thread's page: the visit it counts is a view of that thread."""


def _count_visit(request: Request, user: User) -> None:
    """A signed-in person opened a page: one row for the statistics, a click from mail when the link says so."""
    name, value = FROM_MAIL
    participation.record_view(
        object_session(user), user, getattr(request.state, VIEWED_POST, None),
        from_mail=request.query_params.get(name) == value,
    )


@router.post("/language", dependencies=[CSRFChecked])
def choose_language(
    request: Request, session: DB, language: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/",
) -> Response:
    """The switch at the foot of each page: the person's own language when signed in, else the browser's cookie."""
    if language not in preferences.LANGUAGES:
        raise Invalid("language must be one of %(choices)s", choices=", ".join(preferences.LANGUAGES))
    user = signed_in_user(request, session)
    if user is not None:
        preferences.set_language(session, user, language)
    # Only a path on this site: a form elsewhere must not make this an open redirect.
    response = RedirectResponse(back if back.startswith("/") and not back.startswith(("//", "/\\")) else "/", 303)
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                        secure=context_of_app(request).settings.base_url.startswith("https://"))
    return response


@router.get("/groups")
def groups_page(request: Request, session: DB, user: PageUser) -> HTMLResponse:
    visible = groups.visible_groups(session, user)
    memberships = memberships_of(session, user, visible)
    may_create = user.is_admin or context_of_app(request).settings.group_creation == "everyone"
    return render(request, "groups.html", user=user, groups=visible, memberships=memberships, may_create=may_create)


@router.get("/g/{slug}")
def group_page(
    request: Request, slug: str, session: DB, user: PageUser, page: int = Query(1, ge=1)
) -> Response:
    group = groups.get_visible_group(session, user, slug)
    if personal.is_personal(group):
        return RedirectResponse(personal.blog_path(session, group), status_code=303)
    return _group_page(request, session, user, group, page)


def _group_page(
    request: Request, session: Session, user: User, group: Group, page: int = 1, status_code: int = 200,
    form: dict[str, str] | None = None, error: str | None = None, notice: str | None = None,
    refused: str | None = None, preview: Markup | None = None, preview_files: Sequence[str] = (),
) -> HTMLResponse:
    held = moderation.held_count(session, group) if moderation.is_moderator(session, user, group) else None
    settings = context_of_app(request).settings
    found = feed.threads_by_activity(session, user, group, page)
    response = render(request, "group.html", status_code=status_code, user=user, group=group, found=found,
                  documents=documents.carried(session, user, [thread.post.id for thread in found.threads], ()),
                  membership=find_membership(session, group, user),
                  may_post=groups.can_post(session, user, group), form=form or {}, error=error, notice=notice,
                  held=held, refused=refused, max_files=settings.max_attachments,
                  max_megabytes=settings.web_upload_max_bytes // (1024 * 1024), preview=preview,
                  preview_files=preview_files, following=follows.standing_of(session, user, group), manages=groups.is_owner(session, user, group))
    response.headers["Content-Security-Policy"] = SAME_ORIGIN_SCRIPTS_CSP  # mention suggestions in the composer
    return response


@router.post("/g/{slug}/join", dependencies=[CSRFChecked])
def join_group(slug: str, session: DB, user: PageUser) -> Response:
    groups.join_group(session, groups.get_visible_group(session, user, slug), user)
    return RedirectResponse(group_path(slug), status_code=303)


@router.post("/g/{slug}/leave", dependencies=[CSRFChecked])
def leave_group(slug: str, session: DB, user: PageUser) -> Response:
    groups.remove_member(session, groups.get_visible_group(session, user, slug), user)
    return RedirectResponse("/", status_code=303)


@router.post("/g/{slug}/posts")
def new_post(request: Request, slug: str, session: DB, user: PageUser, form: UploadedForm) -> Response:
    """Title, body and `files`, read by `hub.web.uploads` within the limits a mail has (413 past them)."""
    require_csrf(request, form.fields.get("csrf", ""))
    group = groups.get_visible_group(session, user, slug)
    title, body = form.fields.get("title", ""), form.fields.get("body", "")
    written = {"title": title, "body": body, "anonymous": bool(form.fields.get("anonymous"))}
    if form.fields.get("preview"):
        return _group_page(request, session, user, group, form=written,
                           preview=_preview(request, session, user, body, uploads=form.files),
                           preview_files=[upload.filename for upload in form.files])
    if form.refused:
        return _group_page(request, session, user, group, status_code=413, form=written, refused=form.refused)
    try:
        submitted = submissions.submit_post(session, user, group, title, body, form.files, anonymous=form.anonymous)
    except (Invalid, Forbidden) as error:
        return _group_page(request, session, user, group, status_code=_status_of(error), form=written, error=error)
    if isinstance(submitted, HeldMessage):
        return _group_page(request, session, user, group, notice=_held_notice(submitted))
    return RedirectResponse(post_path(submitted.id), status_code=303)


def _status_of(refused: Invalid | Forbidden) -> int:
    return 403 if isinstance(refused, Forbidden) else 400


def _held_notice(held: HeldMessage) -> Message:
    return Message("Your message waits for a moderator of %(group)s: it appears here once approved.",
                   group=held.group.name)


def _post_page(request: Request, session: Session, user: User, post_id: int, **extra: object) -> HTMLResponse:
    post = posts.get_post(session, user, post_id)
    setattr(request.state, VIEWED_POST, post.id)
    feed.mark_read(session, user, post)
    inbox.mark_thread_read(session, user, post)
    context = {"form": {}, "error": None, "notice": None, "reply_to": None, "status_code": 200, "preview": None,
               "preview_files": [], "refused": None, **extra}
    settings = context_of_app(request).settings
    comments = posts.threaded(post.comments)
    post_attachments = [a for a in post.attachments if a.comment_id is None]
    shown = [*post_attachments, *(a for item in comments if not item.comment.removed_at for a in item.comment.attachments)]
    response = render(
        request, "post.html", user=user, post=post, comments=comments,
        may_post=groups.can_post(session, user, post.group), post_attachments=post_attachments,
        thread_photos=[a for a in shown if a.media_ready_at],
        related=_related_posts(session, user, post.id), thread_reactions=reactions.of_thread(session, user, post),
        following=follows.standing_of(session, user, post), post_tags=tags.of_post(session, post),
        bodies=rendering.render_bodies(
            session, [post.body_text, *(c.body_text for c in post.comments)], user, attachments=post.attachments
        ),
        mail_body=rendering.mail_html(post.body_html) if post.body_html else None,
        post_author_id=anonymity.author_id_for(post, user),
        comment_author_ids={c.id: anonymity.author_id_for(c, user) for c in post.comments},
        videos=videos.cards(post.attachments), versions=documents.versions_of(session, post.attachments),
        max_files=settings.max_attachments,
        max_megabytes=settings.web_upload_max_bytes // (1024 * 1024), **context,
    )
    response.headers["Content-Security-Policy"] = SAME_ORIGIN_SCRIPTS_CSP  # mention suggestions in the composer
    return response


def _preview(
    request: Request, session: Session, user: User, body: str, attachments: Iterable[Attachment] = (),
    uploads: Iterable[Upload] = (),
) -> Markup:
    """`body` as it will show; an image of a file chosen with it (`uploads`, not stored by a preview) as a
    placeholder that says it shows once posted, and one of the thread's stored files as itself."""
    gettext = context_of_app(request).catalogue.translator(reader_language(request, user)).gettext
    waiting = {
        upload.filename: Message("(%(name)s shows here once posted)", name=upload.filename).translated(gettext)
        for upload in uploads
    }
    return rendering.render_bodies(session, [body], attachments=attachments, pending=waiting)[body]


def _related_posts(session: Session, user: User, post_id: int) -> list[searching.Found]:
    """Posts like this one, or none while search cannot answer: the post itself does not need the index."""
    try:
        return searching.related_posts(session, user, post_id)
    except SearchUnavailable:
        log.warning("related posts left out of post %s: search is unavailable", post_id, exc_info=True)
        return []


@router.get("/p/{post_id}")
def post_page(
    request: Request, post_id: Id, session: DB, user: PageUser, reply_to: int | None = None
) -> HTMLResponse:
    return _post_page(request, session, user, post_id, reply_to=reply_to)


@router.post("/p/{post_id}/comments")
def new_comment(request: Request, post_id: Id, session: DB, user: PageUser, form: UploadedForm) -> Response:
    """Body, `parent_id` and `files`, read by `hub.web.uploads` as a post's are (413 past the limits)."""
    require_csrf(request, form.fields.get("csrf", ""))
    post = posts.get_post(session, user, post_id)
    body, parent_id = form.fields.get("body", ""), form.fields.get("parent_id", "")
    if parent_id and not parent_id.isdigit():
        raise Invalid("parent_id must be the id of a comment on this post")
    if parent_id and not 0 < int(parent_id) <= LARGEST_ID:
        raise NotFound("no such item: %(id)s", id=parent_id)
    parent = posts.get_comment(session, user, int(parent_id)) if parent_id else None
    written = {"body": body, "anonymous": bool(form.fields.get("anonymous"))}
    if form.fields.get("preview"):
        return _post_page(request, session, user, post_id, form=written,
                          preview=_preview(request, session, user, body, post.attachments, form.files),
                          preview_files=[upload.filename for upload in form.files],
                          reply_to=parent.id if parent else None)
    if form.refused:
        return _post_page(request, session, user, post_id, status_code=413, form=written,
                          refused=form.refused, reply_to=parent.id if parent else None)
    try:
        submitted = submissions.submit_comment(
            session, user, post, body, parent, form.files, anonymous=form.anonymous
        )
    except (Invalid, Forbidden) as error:
        return _post_page(request, session, user, post_id, status_code=_status_of(error), form=written,
                          error=error, reply_to=parent.id if parent else None)
    if isinstance(submitted, HeldMessage):
        return _post_page(request, session, user, post_id, notice=_held_notice(submitted))
    return RedirectResponse(comment_path(post.id, submitted.id), status_code=303)


# Reactions from the post page: a form per button, so that they work without JavaScript. `given` says which way
# ("1" gives, "0" takes back), so that a form sent twice does once what it says.
@router.post("/p/{post_id}/reactions/{reaction}", dependencies=[CSRFChecked])
def react_to_post(
    post_id: Id, reaction: str, session: DB, user: PageUser, given: Annotated[str, Form()] = "1"
) -> Response:
    post = posts.get_post(session, user, post_id)
    _react(session, user, post, reaction, given)
    return RedirectResponse(f"{post_path(post.id)}#reactions", status_code=303)


@router.post("/comments/{comment_id}/reactions/{reaction}", dependencies=[CSRFChecked])
def react_to_comment(
    comment_id: Id, reaction: str, session: DB, user: PageUser, given: Annotated[str, Form()] = "1"
) -> Response:
    comment = posts.get_comment(session, user, comment_id)
    _react(session, user, comment, reaction, given)
    return RedirectResponse(f"{post_path(comment.post_id)}#reactions-{comment.id}", status_code=303)


def _react(session: Session, user: User, item: Post | Comment, reaction: str, given: str) -> None:
    if given == "0":
        reactions.unreact(session, user, item, reaction)
    else:
        reactions.react(session, user, item, reaction)


@router.get("/comments/{comment_id}/original")
def comment_original(request: Request, comment_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    comment = posts.get_comment(session, user, comment_id)
    if comment.anonymous:  # its mail is not kept, and it would name no one: there is no full message
        raise NotFound("no comment %(comment_id)s", comment_id=comment_id)
    return render(request, "original.html", user=user, comment=comment)


@router.get("/attachments/{attachment_id}/{filename}")
def attachment(attachment_id: Id, filename: str, session: DB, user: PageUser) -> Response:
    """The file from disk in chunks, with the byte ranges a video player asks for (RFC 9110 §14); a photo
    without its location, whole (photos are small beside videos)."""
    found = attachments.visible_attachment(session, user, attachment_id)
    if photo_sizes.is_photo(found):
        data, media_type, name = photo_sizes.served_original(found)
        return Response(data, media_type=media_type, headers=_file_headers(media_type, name))
    return FileResponse(
        attachments.stored_path(found),
        media_type=found.content_type,
        headers=_file_headers(found.content_type, found.filename),
    )


def _file_headers(media_type: str, name: str) -> dict[str, str]:
    disposition = "inline" if media_type in INLINE_TYPES + videos.PLAYABLE_TYPES else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }


@router.get("/search")
def search_page(
    request: Request,
    session: DB,
    user: PageUser,
    q: str = "",
    kind: str = "",
    sort: str = "relevance",
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    try:
        found = searching.search(session, user, q, kind or None, page, sort=sort)
        error = None
    except Invalid as invalid:
        found, error = searching.search(session, user, "", None, 1), invalid
    counts = reactions.counts_of(session, user, [(f.hit.kind, f.hit.id) for f in found.results])
    response = render(request, "search.html", status_code=400 if error else 200,
                      user=user, found=found, q=q, kind=kind, sort=sort, error=error, reaction_counts=counts)
    response.headers["Content-Security-Policy"] = SAME_ORIGIN_SCRIPTS_CSP  # suggestions as you type
    return response


@router.get("/search/suggest")
def search_suggest(session: DB, user: PageUser, q: str = "") -> JSONResponse:
    """Suggestions for the search page's script, as the signed-in user may see them."""
    found = searching.suggest(session, user, q)
    return JSONResponse({"suggestions": [{"kind": s.kind, "title": s.title, "url": s.url} for s in found]})


@router.get("/search/suggest.js")
def search_suggest_script(request: Request) -> Response:
    script = context_of_app(request).catalogue.environment().get_template("web/suggest.js").render()
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


@router.get("/favicon.svg")
@router.get("/favicon.ico")  # asked for by browsers and feed readers that never read the page's <link>
def favicon(request: Request) -> Response:
    icon = context_of_app(request).catalogue.environment().get_template("web/favicon.svg").render()
    return Response(icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/people/{email}")
def person_page(request: Request, email: str, session: DB, user: PageUser) -> HTMLResponse:
    person = person_details.get_person(session, user, email)
    return render(request, "person.html", user=user, person=person, form=None, error=None, saved=False,
                  expertise=profiles.expertise_tags(person.expertise),
                  following=follows.standing_of(session, user, person),
                  details=person_details.person_details(session, user, person))


@router.post("/people/{email}", dependencies=[CSRFChecked])
def person_update(
    request: Request,
    email: str,
    session: DB,
    user: PageUser,
    department: Annotated[str, Form()] = "",
    job_title: Annotated[str, Form()] = "",
    expertise: Annotated[str, Form()] = "",
    bio: Annotated[str, Form()] = "",
    phone: Annotated[str | None, Form()] = None,
    location: Annotated[str | None, Form()] = None,
    languages: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    person = accounts.get_user(session, email)
    if person.id != user.id:
        raise Forbidden("you can only change your own profile")
    form = profiles.ProfileForm(department, job_title, bio, expertise, phone, location, languages)
    try:
        profiles.update_profile(session, user, form)
    except Invalid as error:
        return render(request, "person.html", status_code=400, user=user, person=person, form=form,
                      error=error, saved=False, expertise=profiles.expertise_tags(person.expertise),
                      details=person_details.person_details(session, user, person))
    return render(request, "person.html", user=user, person=person, form=None, error=None, saved=True,
                  expertise=profiles.expertise_tags(person.expertise),
                  details=person_details.person_details(session, user, person))


@router.get("/sign-in")
def sign_in_form(request: Request) -> HTMLResponse:
    return render(request, "sign_in.html", sent=False, error=None, email="", limited=False)


@router.post("/sign-in", dependencies=[CSRFChecked])
def sign_in_request(
    request: Request, background: BackgroundTasks, session: DB, email: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The same answer, as fast, whether or not the address is someone's: it is looked up after answering."""
    if "@" not in email:
        return render(request, "sign_in.html", status_code=400, sent=False, email=email, limited=False,
                      error=Message("Enter the email address you use at work."))
    admitted = signin.admit_request(session, email, request.client.host if request.client else "")
    if admitted is signin.Admission.CLIENT_LIMIT:
        return render(request, "sign_in.html", status_code=429, sent=False, email=email, limited=True, error=None)
    if admitted is signin.Admission.MAIL:
        background.add_task(_mail_sign_in_link, context_of_app(request), email)
    return render(request, "sign_in.html", sent=True, error=None, email=email, limited=False)


def _mail_sign_in_link(context: Context, email: str) -> None:
    """Runs once the answer is sent, in a transaction of its own."""
    with context.session_scope() as session:
        signin.request_sign_in(session, email)


@router.get("/sign-in/{token}")
def sign_in_confirm(request: Request, token: str, session: DB) -> HTMLResponse:
    """Asks before signing in: mail scanners follow links, and this page must not use one up."""
    user = signin.user_for_sign_in(session, token)
    return render(request, "sign_in_confirm.html", status_code=200 if user else 400, person=user, token=token)


@router.post("/sign-in/{token}", dependencies=[CSRFChecked])
def sign_in(request: Request, token: str, session: DB) -> Response:
    user = signin.use_sign_in_link(session, token)
    if user is None:
        return render(request, "sign_in_confirm.html", status_code=400, person=None, token=token)
    renew(request, signin.start_session(session, user, request.headers.get("user-agent", "")))
    return RedirectResponse("/", status_code=303)


@router.post("/sign-out", dependencies=[CSRFChecked])
def sign_out(request: Request, session: DB) -> Response:
    """Ends the session on the server, so a copy of the cookie signs no one in either."""
    signin.end_session(session, browser_id(request))
    renew(request)
    return RedirectResponse("/sign-in", status_code=303)


@router.post("/sign-out/everywhere", dependencies=[CSRFChecked])
def sign_out_everywhere(request: Request, session: DB, user: PageUser) -> Response:
    """Ends every session of the person: other browsers, a lost phone, a stolen cookie."""
    signin.end_all_sessions(session, user)
    renew(request)
    return RedirectResponse("/sign-in", status_code=303)


@router.get("/unsubscribe/{token}")
def unsubscribe_confirm(request: Request, token: str, session: DB) -> HTMLResponse:
    memberships = subscriptions.memberships_for_token(session, token)
    return render(request, "unsubscribe.html", memberships=memberships, token=token, done=False)


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str, session: DB) -> HTMLResponse:
    """One POST, no sign-in and no CSRF token: mail clients do this for the reader (RFC 8058)."""
    memberships = subscriptions.unsubscribe(session, token)
    return render(request, "unsubscribe.html", memberships=memberships, token=token, done=True)


@router.get("/unsubscribe/replies/{token}")
def replies_off_confirm(request: Request, token: str, session: DB) -> HTMLResponse:
    person = subscriptions.user_for_replies_token(session, token)
    return render(request, "unsubscribe_replies.html", person=person, token=token, done=False)


@router.post("/unsubscribe/replies/{token}")
def replies_off(request: Request, token: str, session: DB) -> HTMLResponse:
    """One-click like the group links: stops the mails about answers to your posts and threads."""
    person = subscriptions.stop_reply_notifications(session, token)
    return render(request, "unsubscribe_replies.html", person=person, token=token, done=True)


def _preferences_page(request: Request, session: Session, user: User, **extra: object) -> HTMLResponse:
    context = {"error": None, "saved": False, "settings": preferences.settings_of(user), **extra}
    return render(
        request, "preferences.html", status_code=400 if context["error"] else 200, user=user,
        memberships=preferences.memberships_of(session, user), deliveries=[d.value for d in Delivery],
        timezones=preferences.timezones(), bounce=bounces.disabled_notice(session, user),
        notification_channels=inbox.channels_of(session, user), **context,
    )


@router.get("/preferences")
def preferences_page(request: Request, session: DB, user: PageUser) -> HTMLResponse:
    return _preferences_page(request, session, user)


@router.post("/preferences", dependencies=[CSRFChecked])
def save_preferences(request: Request, session: DB, user: PageUser, form: FormFields) -> HTMLResponse:
    """Delivery per group (`delivery-SLUG` fields) and the person's digest time, language, reply mails and receipts."""
    wanted = preferences.MailSettings(
        timezone=str(form.get("timezone", "")),
        digest_hour=int(form["digest_hour"]) if str(form.get("digest_hour", "")).isdigit() else -1,
        digest_weekday=int(form["digest_weekday"]) if str(form.get("digest_weekday", "")).isdigit() else -1,
        language=str(form.get("language", "")),
        notify_replies=form.get("notify_replies") == "on",
        default_delivery=str(form.get("default_delivery", "each")),
        receipts=form.get("receipts") == "on",
    )
    try:
        preferences.update_settings(session, user, wanted)
        for membership in preferences.memberships_of(session, user):
            field = f"delivery-{membership.group.slug}"
            if field in form:
                preferences.set_delivery(session, user, membership.group.slug, str(form[field]))
    except Invalid as error:
        session.rollback()
        return _preferences_page(request, session, user, error=error, settings=wanted)
    return _preferences_page(request, session, user, saved=True)


@router.post("/preferences/address", dependencies=[CSRFChecked])
def confirm_address(request: Request, session: DB, user: PageUser) -> Response:
    """The person says their address works again after bounces: mail to it starts again."""
    bounces.reenable(session, user)
    return RedirectResponse("/preferences", status_code=303)


# Authors edit and delete their own posts and comments; whoever may see an item sees its edit history.


def _edit_page(
    request: Request, user: User, item: Post | Comment, mode: str, status_code: int = 200,
    form: dict[str, str] | None = None, error: PleinError | None = None, preview: Markup | None = None,
) -> HTMLResponse:
    """The edit form or the delete confirmation of `item`; only its author gets it (403 otherwise)."""
    is_post = isinstance(item, Post)
    if not anonymity.is_author(item, user):
        if is_post:
            raise Forbidden("only the author may edit a post")
        raise Forbidden("only the author may edit a comment")
    if not is_post and item.removed_at is not None:
        raise Invalid("a removed comment cannot be edited")
    post = item if is_post else item.post
    base = f"/p/{item.id}" if is_post else f"/comments/{item.id}"
    response = render(
        request, "edit.html", status_code=status_code, user=user, kind="post" if is_post else "comment",
        mode=mode, item=item, post=post, action=f"{base}/{mode}", error=error,
        back=post_path(post.id) if is_post else comment_path(post.id, item.id),
        form=form or {"title": post.title if is_post else "", "body": item.body_text},
        bodies=rendering.render_bodies(object_session(item), [item.body_text], attachments=post.attachments), preview=preview,
    )
    response.headers["Content-Security-Policy"] = SAME_ORIGIN_SCRIPTS_CSP  # mention suggestions in the composer
    return response


@router.get("/p/{post_id}/edit")
def edit_post_form(request: Request, post_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    return _edit_page(request, user, posts.get_post(session, user, post_id), "edit")


@router.post("/p/{post_id}/edit", dependencies=[CSRFChecked])
def edit_post(
    request: Request, post_id: Id, session: DB, user: PageUser,
    title: Annotated[str, Form()] = "", body: Annotated[str, Form()] = "", preview: Annotated[str, Form()] = "",
) -> Response:
    post = posts.get_post(session, user, post_id)
    if preview:
        return _edit_page(request, user, post, "edit", form={"title": title, "body": body},
                          preview=_preview(request, session, user, body, post.attachments))
    try:
        posts.edit_post(session, post, user, title, body)
    except Invalid as error:
        return _edit_page(request, user, post, "edit", 400, {"title": title, "body": body}, error)
    return RedirectResponse(post_path(post.id), status_code=303)


@router.get("/p/{post_id}/delete")
def delete_post_form(request: Request, post_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    """Asks first; the form it shows deletes."""
    return _edit_page(request, user, posts.get_post(session, user, post_id), "delete")


@router.post("/p/{post_id}/delete", dependencies=[CSRFChecked])
def delete_post(post_id: Id, session: DB, user: PageUser) -> Response:
    post = posts.get_post(session, user, post_id)
    slug = post.group.slug
    posts.delete_post(session, post, user)
    return RedirectResponse(group_path(slug), status_code=303)


@router.get("/comments/{comment_id}/edit")
def edit_comment_form(request: Request, comment_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    return _edit_page(request, user, posts.get_comment(session, user, comment_id), "edit")


@router.post("/comments/{comment_id}/edit", dependencies=[CSRFChecked])
def edit_comment(
    request: Request, comment_id: Id, session: DB, user: PageUser, body: Annotated[str, Form()] = "",
    preview: Annotated[str, Form()] = "",
) -> Response:
    comment = posts.get_comment(session, user, comment_id)
    if preview:
        return _edit_page(request, user, comment, "edit", form={"body": body},
                          preview=_preview(request, session, user, body, comment.post.attachments))
    try:
        posts.edit_comment(session, comment, user, body)
    except Invalid as error:
        return _edit_page(request, user, comment, "edit", 400, {"body": body}, error)
    return RedirectResponse(comment_path(comment.post_id, comment.id), status_code=303)


@router.get("/comments/{comment_id}/delete")
def delete_comment_form(request: Request, comment_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    """Asks first; the form it shows deletes."""
    return _edit_page(request, user, posts.get_comment(session, user, comment_id), "delete")


@router.post("/comments/{comment_id}/delete", dependencies=[CSRFChecked])
def delete_comment(comment_id: Id, session: DB, user: PageUser) -> Response:
    comment = posts.get_comment(session, user, comment_id)
    posts.delete_comment(session, comment, user)
    return RedirectResponse(comment_path(comment.post_id, comment.id), status_code=303)


@router.get("/p/{post_id}/history")
def post_history(request: Request, post_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    post = posts.get_post(session, user, post_id)
    return render(request, "history.html", user=user, kind="post", item=post, post=post, back=post_path(post.id),
                  revisions=list(reversed(post.revisions)), bodies=_bodies_of_history(session, post))


@router.get("/comments/{comment_id}/history")
def comment_history(request: Request, comment_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    comment = posts.get_comment(session, user, comment_id)
    return render(request, "history.html", user=user, kind="comment", item=comment, post=comment.post,
                  back=comment_path(comment.post_id, comment.id), revisions=list(reversed(comment.revisions)),
                  bodies=_bodies_of_history(session, comment))


def _bodies_of_history(session: Session, item: Post | Comment) -> dict:
    post = item if isinstance(item, Post) else item.post
    return rendering.render_bodies(
        session, [item.body_text, *(r.body_text for r in item.revisions)], attachments=post.attachments
    )
