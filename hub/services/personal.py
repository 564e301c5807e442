"""A person's own space, and what they post there or to a group: short updates (statuses) and blog posts.

A status is a post without a title, of at most `posts.MAX_STATUS_LENGTH` characters, in a group or in
its author's personal space ("to your followers"). A blog post is a titled post in the personal
space. The personal space is a `Group` row of kind "personal", made on first use, so that what
is written there is read, followed, found and notified as a group's posts are: every signed-in
person reads it as a public group, only its owner posts in it, and anyone may comment and react,
as on a profile stream. It is never listed, joined or mailed as a group: `visible_groups_query`
lists groups only, `hub.services.groups` refuses to make or join one, and mail to its address is
refused (`hub.services.inbound`). Its slug, `personal.ID`, is one no group can take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import PERSONAL_SLUG_PREFIX, Comment, Group, GroupKind, HeldMessage, Post, PostingPolicy, User
from hub.services import groups, moderation, submissions
from hub.services.errors import Conflict, Forbidden, Invalid
from hub.services.posts import MAX_STATUS_LENGTH, create_post
from hub.services.submissions import Upload
from hub.services.visibility import visible_group_ids
from hub.urls import person_path


def is_personal(group: Group) -> bool:
    return group.kind == GroupKind.PERSONAL


def personal_space(session: Session, person: User) -> Group:
    """`person`'s personal space, made on first use."""
    space = find_personal_space(session, person)
    if space is not None:
        return space
    slug = f"{PERSONAL_SLUG_PREFIX}{person.id}"
    if session.scalar(select(Group.id).where(Group.slug == slug)):
        raise Conflict("a group %(slug)s already exists", slug=slug)
    space = Group(slug=slug, name=person.name or person.email, kind=GroupKind.PERSONAL, owner_id=person.id)
    session.add(space)
    session.flush()
    return space


def blog_path(session: Session, space: Group) -> str:
    """Where a personal space is read: its owner's blog."""
    return f"{person_path(session.get(User, space.owner_id).email)}/blog"


def find_personal_space(session: Session, person: User) -> Group | None:
    return session.scalar(select(Group).where(Group.kind == GroupKind.PERSONAL, Group.owner_id == person.id))


def post_status(session: Session, author: User, body: str, group_slug: str | None = None) -> Post | HeldMessage:
    """A status by `author` to `group_slug`, or to their followers (their personal space) without one; in a
    moderated group, the held message that becomes the status once a moderator approves it."""
    body = body.strip()
    if not body:
        raise Invalid("a status needs some text")
    if len(body) > MAX_STATUS_LENGTH:
        raise Invalid(
            "a status is at most %(limit)s characters; this one has %(length)s: post it with a title instead",
            limit=MAX_STATUS_LENGTH,
            length=len(body),
        )
    group = _destination(session, author, group_slug)
    if group.posting_policy == PostingPolicy.MODERATED and not moderation.is_moderator(session, author, group):
        return moderation.hold_written(session, author, group, None, None, "", body)
    return create_post(session, group, author, "", body, untitled=True)


def post_blog(session: Session, author: User, title: str, body: str, uploads: Sequence[Upload] = ()) -> Post:
    """A blog post by `author`, with its files, as a group post is written on the web."""
    if not " ".join(title.split()):
        raise Invalid("a blog post needs a title")
    made = submissions.submit_post(session, author, _destination(session, author, None), title, body, uploads)
    assert isinstance(made, Post), "a personal space is never moderated"
    return made


def _destination(session: Session, author: User, group_slug: str | None) -> Group:
    if author.deactivated_at is not None:
        raise Forbidden("a former colleague cannot post")
    if not group_slug or not group_slug.strip():
        return personal_space(session, author)
    group = groups.get_visible_group(session, author, group_slug)
    if is_personal(group) and group.owner_id != author.id:
        raise Forbidden("only %(name)s posts on their own page", name=group.name)
    if is_personal(group):
        return group
    groups.require_open(group)
    if not groups.can_post(session, author, group):
        raise Forbidden("Only members post to %(name)s. Join it to post and comment.", name=group.name)
    return group


@dataclass(frozen=True)
class PersonalPost:
    post: Post
    comments: int


def blog_posts(session: Session, person: User, limit: int = 50) -> list[PersonalPost]:
    """`person`'s blog: their titled posts in their personal space, newest first."""
    space = find_personal_space(session, person)
    if space is None:
        return []
    query = select(Post).where(Post.group_id == space.id, Post.title != "")
    return _with_counts(session, query, limit)


def recent_statuses(session: Session, reader: User, person: User, limit: int = 5) -> list[PersonalPost]:
    """`person`'s newest statuses that `reader` may see, wherever they were posted."""
    query = select(Post).where(
        Post.author_id == person.id, Post.title == "", Post.group_id.in_(visible_group_ids(reader))
    )
    return _with_counts(session, query, limit)


def _with_counts(session: Session, query, limit: int) -> list[PersonalPost]:
    posts = list(session.scalars(query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)))
    counts = dict(
        session.execute(
            select(Comment.post_id, func.count())
            .where(Comment.post_id.in_([p.id for p in posts]), Comment.removed_at.is_(None))
            .group_by(Comment.post_id)
        ).all()
    )
    return [PersonalPost(post, counts.get(post.id, 0)) for post in posts]
