"""Pages behind the links in a receipt: edit or undo what was posted by mail, and stop receipts.

The edit and undo links work without signing in (their signed token is the permission, for
15 minutes after posting), so a person who never opens the hub can still fix what the mail
became; a signed-in author sees the same pages. Both change only by POST with a CSRF token,
because link checkers in mail clients follow every GET. The stop link is one click, like the
replies-off link (hub.web.pages).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hub.models import User
from hub.services import receipts
from hub.services.errors import Invalid
from hub.urls import group_path, receipt_edit_path, receipt_undo_path, receipts_off_path
from hub.web.deps import DB, CSRFChecked, signed_in_user
from hub.web.pages import render

router = APIRouter()


def _visitor(request: Request, session: Session) -> User | None:
    """The signed-in person, if any: these pages need no sign-in, but show the hub's header to one."""
    return signed_in_user(request, session)


def _page(
    request: Request, session: Session, found: receipts.ByLink, token: str, mode: str, status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    """`mode` is edit, undo, undone or, once the link stopped working, expired (410 Gone)."""
    if mode in ("edit", "undo") and found.expired:
        mode, status_code = "expired", 410
    item = found.comment or found.post
    context = {"form": {"title": found.post.title, "body": item.body_text}, "error": None, "saved": False, **extra}
    return render(
        request, "receipt.html", status_code=status_code, user=_visitor(request, session), mode=mode, kind=found.kind,
        edit_path=receipt_edit_path(found.kind, token), undo_path=receipt_undo_path(found.kind, token),
        title=found.post.title, group_name=found.post.group.name, group_url=group_path(found.post.group.slug),
        view_url=found.view_path, minutes=int(receipts.EDIT_WINDOW.total_seconds() // 60), **context,
    )


@router.get("/receipts/{kind}/{token}")
def edit_page(request: Request, kind: str, token: str, session: DB) -> HTMLResponse:
    return _page(request, session, receipts.by_link(session, kind, token), token, "edit")


@router.post("/receipts/{kind}/{token}", dependencies=[CSRFChecked])
def edit(
    request: Request,
    kind: str,
    token: str,
    session: DB,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
) -> HTMLResponse:
    found = receipts.by_link(session, kind, token)
    if found.expired:
        return _page(request, session, found, token, "expired", 410)
    try:
        receipts.edit_by_link(session, kind, token, body, title)
    except Invalid as error:  # checked before anything changed
        return _page(request, session, found, token, "edit", 400, form={"title": title, "body": body}, error=error)
    return _page(request, session, found, token, "edit", saved=True)


@router.get("/receipts/{kind}/{token}/undo")
def undo_page(request: Request, kind: str, token: str, session: DB) -> HTMLResponse:
    return _page(request, session, receipts.by_link(session, kind, token), token, "undo")


@router.post("/receipts/{kind}/{token}/undo", dependencies=[CSRFChecked])
def undo(request: Request, kind: str, token: str, session: DB) -> HTMLResponse:
    found = receipts.by_link(session, kind, token)
    if found.expired:
        return _page(request, session, found, token, "expired", 410)
    page = _page(request, session, found, token, "undone")
    receipts.undo_by_link(session, kind, token)
    return page


@router.get("/unsubscribe/receipts/{token}")
def receipts_off_confirm(request: Request, token: str, session: DB) -> HTMLResponse:
    person = receipts.user_for_stop_token(session, token)
    return render(request, "unsubscribe_receipts.html", person=person, action=receipts_off_path(token), done=False)


@router.post("/unsubscribe/receipts/{token}")
def receipts_off(request: Request, token: str, session: DB) -> HTMLResponse:
    """One click, no sign-in, like the replies-off link: the person gets no more receipts."""
    person = receipts.stop_receipts(session, token)
    return render(request, "unsubscribe_receipts.html", person=person, action=receipts_off_path(token), done=True)
