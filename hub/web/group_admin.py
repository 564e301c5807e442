"""Groups made and run by their owners: `/groups/new`, `/g/SLUG/settings`, invitations, and the same over the API.

Who may do what is `hub.services.groups` (`start_group`, `manage`); a group the caller may not
see is a 404 here as everywhere, and one they see but do not own a 403. A form that is refused
is shown again with its reason, after the transaction is rolled back, so nothing half-written stays.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub.locale import N_, Message
from hub.models import AnonymousPosting, Group, Membership, PostingPolicy, User
from hub.services import accounts, groups, invitations
from hub.services.errors import Conflict, Forbidden, Invalid, NotFound, PleinError
from hub.services.visibility import find_membership
from hub.urls import group_path
from hub.web.deps import DB, ApiUser, CSRFChecked, PageUser, context_of_app
from hub.web.pages import render
from hub.web.schemas import GroupOut, Person

router = APIRouter()

STATUS_OF = {NotFound: 404, Invalid: 400, Conflict: 409, Forbidden: 403}
ROLE_NOTICES = {
    "member": N_("%(email)s is now a member."),
    "moderator": N_("%(email)s is now a moderator."),
    "owner": N_("%(email)s is now an owner."),
}


def _status_of(error: PleinError) -> int:
    return STATUS_OF.get(type(error), 400)


def _may_create(request: Request, user: User) -> bool:
    return user.is_admin or context_of_app(request).settings.group_creation == "everyone"


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only administrators archive a group.")


# The JSON API.


class GroupIn(BaseModel):
    slug: str
    """Its address: SLUG@ the mail domain; lower-case letters, digits, '.', '_' or '-'."""
    name: str
    description: str = ""
    private: bool = False
    posting_policy: str = PostingPolicy.MEMBERS.value
    """members, anyone or moderated"""


class GroupEdit(BaseModel):
    name: str | None = None
    description: str | None = None
    private: bool | None = None
    posting_policy: str | None = None
    anonymous: str | None = None
    """off, moderated or on: whether members may post and comment anonymously"""


class MemberIn(BaseModel):
    role: str | None = None
    """member, moderator or owner; left out: member for someone new, unchanged for a member."""
    delivery: str | None = None
    """each, daily, weekly or none; left out: their default for someone new, unchanged for a member."""


class MemberOut(BaseModel):
    person: Person
    role: str
    delivery: str

    @classmethod
    def of(cls, membership: Membership) -> MemberOut:
        return cls(
            person=Person.of(membership.user), role=groups.role_of(membership), delivery=membership.delivery.value
        )


class InvitationIn(BaseModel):
    email: str


class InvitationOut(BaseModel):
    email: str
    expires_in_days: int


@router.post("/api/groups", status_code=201)
def api_create_group(new: GroupIn, session: DB, user: ApiUser) -> GroupOut:
    """Create a group and become its owner; 403 where only admins create groups, 409 for an address in use."""
    group = groups.start_group(
        session,
        user,
        new.slug,
        new.name,
        private=new.private,
        description=new.description,
        posting_policy=new.posting_policy,
    )
    return GroupOut.of(group, find_membership(session, group, user))


@router.patch("/api/groups/{slug}")
def api_edit_group(slug: str, edit: GroupEdit, session: DB, user: ApiUser) -> GroupOut:
    """Change what is given; owners and admins only (403), 404 for a group you may not see."""
    group = groups.edit_group(
        session,
        groups.manage(session, user, slug),
        name=edit.name,
        description=edit.description,
        private=edit.private,
        posting_policy=edit.posting_policy,
        anonymous=edit.anonymous,
    )
    return GroupOut.of(group, find_membership(session, group, user))


@router.get("/api/groups/{slug}/members")
def api_members(slug: str, session: DB, user: ApiUser) -> list[MemberOut]:
    """Owners first, then moderators, then members; for owners and admins."""
    return [MemberOut.of(m) for m in groups.list_members(session, groups.manage(session, user, slug))]


@router.put("/api/groups/{slug}/members/{email}")
def api_set_member(slug: str, email: str, change: MemberIn, session: DB, user: ApiUser) -> MemberOut:
    """Add a colleague with a role and delivery, or change a member's; 409 when it would leave no owner."""
    group = groups.manage(session, user, slug)
    return MemberOut.of(
        groups.set_member(session, group, accounts.get_user(session, email), role=change.role, delivery=change.delivery)
    )


@router.delete("/api/groups/{slug}/members/{email}", status_code=204)
def api_remove_member(slug: str, email: str, session: DB, user: ApiUser) -> Response:
    """Take a member out (owners and admins), or leave yourself; 409 for the last owner."""
    person = accounts.get_user(session, email)
    group = (
        groups.get_visible_group(session, user, slug) if person.id == user.id else groups.manage(session, user, slug)
    )
    groups.remove_member(session, group, person)
    return Response(status_code=204)


@router.post("/api/groups/{slug}/invitations", status_code=201)
def api_invite(slug: str, invitation: InvitationIn, session: DB, user: ApiUser) -> InvitationOut:
    """Mail a colleague a link that makes them a member in one click, also of a private group."""
    group = groups.manage(session, user, slug)
    invited = accounts.get_user(session, invitation.email)
    invitations.invite(session, user, group, invited)
    return InvitationOut(email=invited.email, expires_in_days=invitations.LIFETIME_DAYS)


@router.put("/api/groups/{slug}/archive")
def api_archive(slug: str, session: DB, user: ApiUser) -> GroupOut:
    """Make a group read-only (admins only): readable and searchable, it takes nothing new."""
    _require_admin(user)
    group = groups.archive_group(session, groups.get_group(session, slug))
    return GroupOut.of(group, find_membership(session, group, user))


@router.delete("/api/groups/{slug}/archive")
def api_reopen(slug: str, session: DB, user: ApiUser) -> GroupOut:
    _require_admin(user)
    group = groups.archive_group(session, groups.get_group(session, slug), archived=False)
    return GroupOut.of(group, find_membership(session, group, user))


# The pages.


@router.get("/groups/new")
def new_group_form(request: Request, user: PageUser) -> HTMLResponse:
    if not _may_create(request, user):
        raise Forbidden("Only administrators create groups here. Ask one to create it for you.")
    return render(
        request,
        "group_new.html",
        user=user,
        form={},
        error=None,
        policies=list(PostingPolicy),
        mail_domain=context_of_app(request).settings.mail_domain,
    )


@router.post("/groups/new", dependencies=[CSRFChecked])
def new_group(
    request: Request,
    session: DB,
    user: PageUser,
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    privacy: Annotated[str, Form()] = "public",
    posting_policy: Annotated[str, Form()] = PostingPolicy.MEMBERS.value,
) -> Response:
    try:
        group = groups.start_group(
            session,
            user,
            slug,
            name,
            private=privacy == "private",
            description=description,
            posting_policy=posting_policy,
        )
    except PleinError as error:
        session.rollback()
        form = {
            "slug": slug,
            "name": name,
            "description": description,
            "privacy": privacy,
            "posting_policy": posting_policy,
        }
        return render(
            request,
            "group_new.html",
            status_code=_status_of(error),
            user=user,
            form=form,
            policies=list(PostingPolicy),
            error=error,
            mail_domain=context_of_app(request).settings.mail_domain,
        )
    return RedirectResponse(group_path(group.slug), status_code=303)


def _settings_page(
    request: Request,
    session: Session,
    user: User,
    group: Group,
    status_code: int = 200,
    error: PleinError | None = None,
    notice: Message | None = None,
) -> HTMLResponse:
    return render(
        request,
        "group_settings.html",
        status_code=status_code,
        user=user,
        group=group,
        members=groups.list_members(session, group),
        roles=groups.ROLES,
        policies=list(PostingPolicy),
        anonymous_modes=list(AnonymousPosting),
        error=error,
        notice=notice,
        days=invitations.LIFETIME_DAYS,
    )


@router.get("/g/{slug}/settings")
def settings_page(request: Request, slug: str, session: DB, user: PageUser) -> HTMLResponse:
    return _settings_page(request, session, user, groups.manage(session, user, slug))


def _changed(request: Request, session: Session, user: User, slug: str, change, notice: Message) -> HTMLResponse:
    """Carry out `change(group)` on the group `user` manages, and show the settings page with what came of it."""
    group = groups.manage(session, user, slug)
    try:
        change(group)
    except PleinError as error:
        session.rollback()
        group = groups.manage(session, user, slug)
        return _settings_page(request, session, user, group, status_code=_status_of(error), error=error)
    return _settings_page(request, session, user, group, notice=notice)


@router.post("/g/{slug}/settings", dependencies=[CSRFChecked])
def edit_settings(
    request: Request,
    slug: str,
    session: DB,
    user: PageUser,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    privacy: Annotated[str, Form()] = "public",
    posting_policy: Annotated[str, Form()] = PostingPolicy.MEMBERS.value,
    anonymous: Annotated[str, Form()] = AnonymousPosting.OFF.value,
) -> HTMLResponse:
    return _changed(
        request,
        session,
        user,
        slug,
        lambda group: groups.edit_group(
            session,
            group,
            name=name,
            description=description,
            private=privacy == "private",
            posting_policy=posting_policy,
            anonymous=anonymous,
        ),
        Message("Saved."),
    )


@router.post("/g/{slug}/settings/members", dependencies=[CSRFChecked])
def set_member(
    request: Request,
    slug: str,
    session: DB,
    user: PageUser,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "member",
) -> HTMLResponse:
    return _changed(
        request,
        session,
        user,
        slug,
        lambda group: groups.set_member(
            session,
            group,
            accounts.get_user(session, email),
            role=role,
        ),
        Message(ROLE_NOTICES.get(role, ROLE_NOTICES["member"]), email=email.strip()),
    )


@router.post("/g/{slug}/settings/members/remove", dependencies=[CSRFChecked])
def remove_member(
    request: Request,
    slug: str,
    session: DB,
    user: PageUser,
    email: Annotated[str, Form()] = "",
) -> Response:
    """An owner who takes themselves out lands on the groups, as the settings are no longer theirs."""
    leaving = email.strip().lower() == user.email.lower()
    page = _changed(
        request,
        session,
        user,
        slug,
        lambda group: groups.remove_member(
            session,
            group,
            accounts.get_user(session, email),
        ),
        Message("%(email)s is no longer a member.", email=email.strip()),
    )
    if leaving and page.status_code == 200 and not user.is_admin:
        return RedirectResponse("/groups", status_code=303)
    return page


@router.post("/g/{slug}/settings/invite", dependencies=[CSRFChecked])
def invite(
    request: Request,
    slug: str,
    session: DB,
    user: PageUser,
    email: Annotated[str, Form()] = "",
) -> HTMLResponse:
    return _changed(
        request,
        session,
        user,
        slug,
        lambda group: invitations.invite(
            session,
            user,
            group,
            accounts.get_user(session, email),
        ),
        Message("An invitation is on its way to %(email)s.", email=email.strip()),
    )


@router.post("/g/{slug}/settings/archive", dependencies=[CSRFChecked])
def archive(
    request: Request,
    slug: str,
    session: DB,
    user: PageUser,
    do: Annotated[str, Form()] = "archive",
) -> HTMLResponse:
    _require_admin(user)
    archived = do != "reopen"
    return _changed(
        request,
        session,
        user,
        slug,
        lambda group: groups.archive_group(session, group, archived),
        Message("The group is archived.") if archived else Message("The group is open again."),
    )


@router.get("/invitations/{token}")
def accept_invitation(token: str, session: DB, user: PageUser) -> Response:
    """The link in an invitation: its person joins at once, and lands on the group.

    A GET that changes something, so that one click is enough: only the signed-in person the
    invitation names can use it, and it does nothing but what they were invited to.
    """
    membership = invitations.accept(session, user, token)
    return RedirectResponse(group_path(membership.group.slug), status_code=303)
