"""Pages for the hub's admins: the inbound quarantine, with each message's reason, raw text and a retry; and the
audit log of what administrators did, such as revealing an anonymous author (`plein audit list` shows the same).

Only users with `is_admin` see them; to anyone else they do not exist (404), like a private
group. Retry calls the same service as `plein inbound retry`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from hub.models import InboundStatus, User
from hub.services import anonymity, inbound, raw_mail
from hub.services.errors import NotFound
from hub.web.deps import DB, CSRFChecked, Id, PageUser
from hub.web.pages import render

router = APIRouter(prefix="/admin")

QUARANTINE_PAGE = "/admin/inbound"


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise NotFound("There is no such page.")


@router.get("/inbound")
def quarantine(request: Request, session: DB, user: PageUser) -> HTMLResponse:
    _require_admin(user)
    return render(
        request, "admin_inbound.html", user=user,
        failed=inbound.list_inbound(session, InboundStatus.FAILED),
        refused=inbound.list_inbound(session, InboundStatus.REFUSED),
    )


@router.get("/inbound/{inbound_id}/raw")
def raw_message(inbound_id: Id, session: DB, user: PageUser) -> PlainTextResponse:
    """The message as it arrived, shown as plain text: a browser renders none of its HTML."""
    _require_admin(user)
    message = inbound.get_inbound(session, inbound_id)
    if inbound.sent_anonymously(session, message):
        raise NotFound("Message %(id)s went to an anonymous address: its raw text is not shown.", id=inbound_id)
    raw = raw_mail.read_raw(message)
    return PlainTextResponse(raw.decode("utf-8", errors="replace"), headers={"Content-Disposition": "inline"})


@router.post("/inbound/{inbound_id}/retry", dependencies=[CSRFChecked])
def retry(inbound_id: Id, session: DB, user: PageUser) -> RedirectResponse:
    _require_admin(user)
    inbound.retry_inbound(session, inbound_id)
    return RedirectResponse(f"{QUARANTINE_PAGE}?retried={inbound_id}", status_code=303)


@router.get("/audit")
def audit_log(request: Request, session: DB, user: PageUser) -> HTMLResponse:
    _require_admin(user)
    return render(request, "admin_audit.html", user=user, entries=anonymity.audit_log(session))
