"""Groups and membership: creating and editing groups, joining and leaving them, owners and archiving.

Who sees which group is `hub.services.visibility`; only an admin's command lists them all
(`list_groups`). Joining a group follows it and leaving unfollows it (`hub.services.follows`).

Whoever creates a group on the web or the API owns it (`start_group`); owners, and hub admins
for every group, edit it and its members (`manage`). A group made by `plein group create`, or
before owners existed, has none until an admin names one. A group keeps at least one owner
once it has one. An archived group stays readable and searchable, and takes nothing new
(`require_open`). The members of a group that follows the directory (`hub.services.directory_members`)
are not added or taken out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import (
    PERSONAL_SLUG_PREFIX,
    Comment,
    Delivery,
    Group,
    GroupKind,
    Membership,
    Post,
    PostingPolicy,
    User,
    utcnow,
)
from hub.services import accounts, anonymity, directory_members, follows, indexing
from hub.services.errors import Conflict, Forbidden, Invalid, NotFound
from hub.services.visibility import can_see, find_membership, visible_groups_query
from mailgateway.addresses import GROUP_SLUG, RESERVED


def create_group(
    session: Session, slug: str, name: str, *, private: bool = False, description: str = ""
) -> Group:
    slug = slug.strip().lower()
    if not GROUP_SLUG.match(slug) or slug in RESERVED or slug.startswith(PERSONAL_SLUG_PREFIX):
        raise Invalid(
            "%(slug)s cannot be a group address: use lower-case letters, digits, '.', '_' or '-'", slug=repr(slug)
        )
    if session.scalar(select(Group).where(Group.slug == slug)):
        raise Conflict("a group %(slug)s already exists", slug=slug)
    group = Group(slug=slug, name=name.strip() or slug, is_private=private, description=description)
    session.add(group)
    session.flush()
    indexing.mark(session, "group", group.id)
    return group


def start_group(
    session: Session, creator: User, slug: str, name: str, *, private: bool = False, description: str = "",
    posting_policy: str = PostingPolicy.MEMBERS,
) -> Group:
    """A group made by `creator` on the web or the API, who becomes its first member and owner."""
    if creator.deactivated_at is not None:
        raise Forbidden("a former colleague cannot create groups")
    if context_of(session).settings.group_creation == "admins" and not creator.is_admin:
        raise Forbidden("Only administrators create groups here. Ask one to create it for you.")
    if not " ".join(name.split()):
        raise Invalid("a group's name cannot be empty")
    policy = _policy(posting_policy)
    group = create_group(session, slug, name, private=private, description=description.strip())
    group.posting_policy = policy
    membership = add_member(session, group, creator, creator.default_delivery)
    membership.is_owner = membership.is_moderator = True
    session.flush()
    return group


def _policy(posting_policy: str) -> str:
    try:
        return PostingPolicy(posting_policy).value
    except ValueError:
        raise Invalid(
            "posting policy must be one of %(choices)s", choices=", ".join(p.value for p in PostingPolicy)
        ) from None


def edit_group(
    session: Session, group: Group, *, name: str | None = None, description: str | None = None,
    private: bool | None = None, posting_policy: str | None = None, anonymous: str | None = None,
) -> Group:
    """Change what is given of `group`'s name, description, privacy, posting policy and anonymous posting (off,
    moderated or on, `hub.services.anonymity`); None leaves it as it is.

    The index keeps no privacy: each item carries its group's id, and who may see a group is
    decided per query (`group_access`). What a change of privacy alters is the people's items,
    whose learned expertise comes from public groups only, so everyone who wrote in the group
    is marked; the group's own item is marked for its name and description.
    """
    policy = None if posting_policy is None else _policy(posting_policy)
    if anonymous is not None:
        anonymity.set_mode(session, group, anonymous)
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise Invalid("a group's name cannot be empty")
        group.name = name
    if description is not None:
        group.description = description.strip()
    if policy is not None:
        group.posting_policy = policy
    if private is not None and private != group.is_private:
        group.is_private = private
        for user_id in _writers(session, group):
            indexing.mark(session, "person", user_id)
    session.flush()
    if name is not None or description is not None:
        indexing.mark(session, "group", group.id)
    return group


def _writers(session: Session, group: Group) -> list[int]:
    """The ids of everyone who wrote a post or a comment in `group`."""
    in_group = select(Post.id).where(Post.group_id == group.id)
    return [user_id for user_id in session.scalars(union(
        select(Post.author_id).where(Post.group_id == group.id),
        select(Comment.author_id).where(Comment.post_id.in_(in_group)),
    )) if user_id is not None]


def get_group(session: Session, slug: str) -> Group:
    group = session.scalar(select(Group).where(Group.slug == slug.strip().lower()))
    if group is None:
        raise NotFound("no group %(slug)s", slug=slug)
    return group


def add_member(
    session: Session, group: Group, user: User, delivery: Delivery | str = Delivery.EACH
) -> Membership:
    """Add `user` to `group`, who then follows it, or change how an existing member gets its mail."""
    if not accounts.is_active(user):
        raise Invalid("%(email)s is a former colleague and cannot be added to a group", email=user.email)
    try:
        delivery = Delivery(delivery)
    except ValueError:
        raise Invalid("delivery must be one of %(choices)s", choices=', '.join(d.value for d in Delivery)) from None
    membership = find_membership(session, group, user)
    if membership is None:
        require_open(group)
        _require_by_hand(group)
        if group.kind == GroupKind.PERSONAL:
            raise Forbidden("%(name)s is a person's own page: follow them instead of joining it", name=group.name)
        membership = Membership(group_id=group.id, user_id=user.id)
        session.add(membership)
        follows.follow(session, user, group)
    membership.delivery = delivery
    session.flush()
    return membership


def remove_member(session: Session, group: Group, user: User) -> None:
    """Take `user` out of `group`, with its moderator right; from now on a private group's items
    are hidden from them.

    Search needs no reindex for this: who may see a group is decided per query.
    """
    membership = find_membership(session, group, user)
    if membership is None:
        raise NotFound("%(email)s is not a member of %(slug)s", email=user.email, slug=group.slug)
    _require_by_hand(group)
    if membership.is_owner:
        _keep_an_owner(session, group, membership)
    session.delete(membership)
    follows.unfollow(session, user, group)
    session.flush()


def join_group(session: Session, group: Group, user: User) -> Membership:
    """`user` joins a public group themselves, with their default delivery."""
    if group.kind == GroupKind.PERSONAL:
        raise Forbidden("%(name)s is a person's own page: follow them instead of joining it", name=group.name)
    if group.is_private:
        raise Forbidden("%(name)s is private: a member adds people to it", name=group.name)
    require_open(group)
    return find_membership(session, group, user) or add_member(session, group, user, user.default_delivery)


@dataclass(frozen=True)
class GroupListing:
    group: Group
    members: int


def list_groups(session: Session) -> list[GroupListing]:
    """Every group by slug, private ones too, with its number of members: for an admin, never a page."""
    counted = (
        select(Group, func.count(Membership.id)).outerjoin(Membership, Membership.group_id == Group.id)
        .where(Group.kind == GroupKind.GROUP).group_by(Group.id).order_by(Group.slug)
    )
    return [GroupListing(group, members) for group, members in session.execute(counted)]


def visible_groups(session: Session, user: User) -> list[Group]:
    return list(session.scalars(visible_groups_query(user).order_by(Group.name)))


def get_visible_group(session: Session, user: User, slug: str) -> Group:
    group = session.scalar(select(Group).where(Group.slug == slug.strip().lower()))
    if group is None or not can_see(session, user, group):
        raise NotFound("no group %(slug)s", slug=slug)
    return group


def can_post(session: Session, user: User, group: Group) -> bool:
    """Whether `user` may send posts and comments to `group` at all, by its `PostingPolicy`.

    Members post to a members-only group (the default), hub admins too; in a group open to
    anyone or moderated everyone may send, and in a moderated one it waits for a moderator.
    """
    if group.archived_at is not None:
        return False
    if group.kind == GroupKind.PERSONAL:
        return True  # anyone comments; new posts are its owner's alone (`posts.create_post`)
    if group.posting_policy == PostingPolicy.MEMBERS:
        return user.is_admin or find_membership(session, group, user) is not None
    return True


ROLES = ("member", "moderator", "owner")
"""What a member may do: read and post; also decide on held mail; also edit the group and its members."""


def role_of(membership: Membership) -> str:
    return "owner" if membership.is_owner else "moderator" if membership.is_moderator else "member"


def is_owner(session: Session, user: User, group: Group) -> bool:
    """Whether `user` may edit `group` and its members: its owners and every hub admin."""
    if user.is_admin:
        return True
    membership = find_membership(session, group, user)
    return membership is not None and membership.is_owner


def manage(session: Session, user: User, slug: str) -> Group:
    """The group `user` edits: NotFound when they may not see it, Forbidden when they see it but do not own it.

    Hub admins edit every group, private ones too, as `plein group` commands do.
    """
    group = get_group(session, slug) if user.is_admin else get_visible_group(session, user, slug)
    if not is_owner(session, user, group):
        raise Forbidden("Only the owners of %(name)s change its settings and members.", name=group.name)
    return group


def set_member(
    session: Session, group: Group, user: User, *, role: str | None = None, delivery: Delivery | str | None = None,
) -> Membership:
    """Add `user` to `group` as `role` (a member by default), or change an existing member's role or delivery."""
    if role is not None and role not in ROLES:
        raise Invalid("role must be one of %(choices)s", choices=", ".join(ROLES))
    if user.deactivated_at is not None:
        raise Invalid("%(email)s is a former colleague and cannot join groups", email=user.email)
    membership = find_membership(session, group, user)
    if membership is None or delivery is not None:
        membership = add_member(session, group, user, delivery or user.default_delivery)
    if role is not None:
        if membership.is_owner and role != "owner":
            _keep_an_owner(session, group, membership)
        membership.is_owner = role == "owner"
        membership.is_moderator = role != "member"
    session.flush()
    return membership


def _keep_an_owner(session: Session, group: Group, leaving: Membership) -> None:
    others = session.scalar(select(func.count(Membership.id)).where(
        Membership.group_id == group.id, Membership.is_owner.is_(True), Membership.id != leaving.id,
    ))
    if not others:
        raise Conflict(
            "%(email)s is the last owner of %(name)s: make someone else an owner first",
            email=leaving.user.email, name=group.name,
        )


def list_members(session: Session, group: Group) -> list[Membership]:
    """Owners first, then moderators, then everyone else, each by name."""
    return list(session.scalars(
        select(Membership).join(User, User.id == Membership.user_id).where(Membership.group_id == group.id)
        .order_by(Membership.is_owner.desc(), Membership.is_moderator.desc(), User.name, User.email)
    ))


def _require_by_hand(group: Group) -> None:
    if directory_members.follows_directory(group):
        raise Forbidden(
            "The members of %(name)s follow the directory: no one joins or leaves it by hand, "
            "but each member chooses how they get its mail.",
            name=group.name,
        )


def require_open(group: Group) -> None:
    if group.archived_at is not None:
        raise Forbidden("%(name)s is archived: it can be read, but takes no new posts, comments, reactions or members.",
                        name=group.name)


def archive_group(session: Session, group: Group, archived: bool = True) -> Group:
    """Make `group` read-only, or open it again; only admins do this (the edges check)."""
    if archived and group.archived_at is None:
        group.archived_at = utcnow()
    elif not archived:
        group.archived_at = None
    session.flush()
    return group
