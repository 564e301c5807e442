"""Groups and membership: creating and editing groups, joining and leaving them.

Who sees which group is `hub.services.visibility`; only an admin's command lists them all
(`list_groups`). Joining a group follows it and leaving unfollows it (`hub.services.follows`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from hub.models import Comment, Delivery, Group, Membership, Post, PostingPolicy, User
from hub.services import accounts, follows, indexing
from hub.services.errors import Conflict, Forbidden, Invalid, NotFound
from hub.services.visibility import can_see, find_membership, visible_groups_query
from mailgateway.addresses import GROUP_SLUG, RESERVED


def create_group(
    session: Session, slug: str, name: str, *, private: bool = False, description: str = ""
) -> Group:
    slug = slug.strip().lower()
    if not GROUP_SLUG.match(slug) or slug in RESERVED:
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


def edit_group(
    session: Session, group: Group, *, name: str | None = None, description: str | None = None,
    private: bool | None = None,
) -> Group:
    """Change what is given of `group`'s name, description and privacy; None leaves it as it is.

    The index keeps no privacy: each item carries its group's id, and who may see a group is
    decided per query (`group_access`). What a change of privacy alters is the people's items,
    whose learned expertise comes from public groups only, so everyone who wrote in the group
    is marked; the group's own item is marked for its name and description.
    """
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise Invalid("a group's name cannot be empty")
        group.name = name
    if description is not None:
        group.description = description.strip()
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
    return list(session.scalars(union(
        select(Post.author_id).where(Post.group_id == group.id),
        select(Comment.author_id).where(Comment.post_id.in_(in_group)),
    )))


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
    session.delete(membership)
    follows.unfollow(session, user, group)
    session.flush()


def join_group(session: Session, group: Group, user: User) -> Membership:
    """`user` joins a public group themselves, with their default delivery."""
    if group.is_private:
        raise Forbidden("%(name)s is private: a member adds people to it", name=group.name)
    return find_membership(session, group, user) or add_member(session, group, user, user.default_delivery)


@dataclass(frozen=True)
class GroupListing:
    group: Group
    members: int


def list_groups(session: Session) -> list[GroupListing]:
    """Every group by slug, private ones too, with its number of members: for an admin, never a page."""
    counted = (
        select(Group, func.count(Membership.id)).outerjoin(Membership, Membership.group_id == Group.id)
        .group_by(Group.id).order_by(Group.slug)
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
    if group.posting_policy == PostingPolicy.MEMBERS:
        return user.is_admin or find_membership(session, group, user) is not None
    return True
