"""The JSON shapes of the API, built from models by the `from_*` functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from hub.context import context_of
from hub.models import Attachment, Comment, Group, HeldMessage, Membership, Post, Revision, User
from hub.services import addresses, groups
from hub.services.posts import edited_at
from hub.services.profiles import expertise_tags
from hub.services.reactions import REACTIONS, ItemReactions, ThreadReactions
from hub.services.searching import Found, FoundPage, SuggestionLink
from hub.urls import attachment_path, group_path, person_path, post_path


class Person(BaseModel):
    name: str
    email: str

    @classmethod
    def of(cls, user: User) -> Person:
        return cls(name=user.name, email=user.email)


class Author(Person):
    """Who wrote or edited something; `former_colleague` when they have left: it stays under their name."""

    former_colleague: bool
    anonymous: bool = False
    """Written anonymously: no name and no address, to anyone (`hub.services.anonymity`)."""

    @classmethod
    def of(cls, user: User | None) -> Author:
        if user is None:
            return cls(name="Anonymous", email="", former_colleague=False, anonymous=True)
        return cls(name=user.name, email=user.email, former_colleague=user.deactivated_at is not None)


class GroupOut(BaseModel):
    slug: str
    name: str
    description: str
    private: bool
    address: str
    url: str
    delivery: str | None
    """How the caller gets this group's mail, or None when they are not a member."""
    posting_policy: str
    """Who may post: members, anyone or moderated."""
    anonymous: str
    """Whether members may post and comment anonymously: off, moderated or on."""
    archived: bool
    """Read-only: it takes no posts, comments, reactions, members or mail."""
    role: str | None
    """The caller's: member, moderator or owner; None when they are not a member."""

    @classmethod
    def of(cls, group: Group, membership: Membership | None) -> GroupOut:
        return cls(
            slug=group.slug, name=group.name, description=group.description,
            private=group.is_private, address=addresses.address(group, "group", group.slug),
            url=context_of(group).url(group_path(group.slug)),
            delivery=membership.delivery.value if membership else None,
            posting_policy=group.posting_policy, anonymous=group.anonymous, archived=group.archived_at is not None,
            role=groups.role_of(membership) if membership else None,
        )


class PostSummary(BaseModel):
    id: int
    title: str
    author: Author
    created_at: datetime
    comment_count: int
    url: str


class PostList(BaseModel):
    group: str
    page: int
    pages: int
    posts: list[PostSummary]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id, filename=attachment.filename, content_type=attachment.content_type,
            size=attachment.size, url=context_of(attachment).url(attachment_path(attachment.id, attachment.filename)),
        )


class ReactionOut(BaseModel):
    count: int
    reacted: bool
    """Whether the caller gave this reaction."""
    people: list[Person]
    """Who gave it, first given first."""


def reactions_out(item: ItemReactions) -> dict[str, ReactionOut]:
    """An item's reactions by name (`like`, `thanks`, `agree`, `insightful`, `celebrate`): every name, given or not."""
    return {
        name: ReactionOut(
            count=count, reacted=name in item.mine, people=[Person(name=p.name, email=p.email) for p in item.people[name]]
        )
        for name, count in item.counts.items()
    }


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    author: Author
    body_text: str
    """Empty once `removed`."""
    created_at: datetime
    edited_at: datetime | None
    """When it was last edited; its history is at /api/comments/{id}/history."""
    removed: bool
    """Its author deleted it: it stays only as a mark in the thread, for the answers under it."""
    reactions: dict[str, ReactionOut]
    attachments: list[AttachmentOut] = []
    """The files sent with it (they are among its post's `attachments` too)."""

    @classmethod
    def of(cls, comment: Comment, reactions: ItemReactions) -> CommentOut:
        return cls(
            id=comment.id, parent_id=comment.parent_id, author=Author.of(comment.author),
            body_text=comment.body_text, created_at=comment.created_at, edited_at=edited_at(comment),
            removed=comment.removed_at is not None, reactions=reactions_out(reactions),
            attachments=[AttachmentOut.of(a) for a in comment.attachments],
        )


class PostOut(BaseModel):
    id: int
    title: str
    body_text: str
    body_html: str | None
    author: Author
    group: str
    created_at: datetime
    edited_at: datetime | None
    """When it was last edited; its history is at /api/posts/{id}/history."""
    url: str
    attachments: list[AttachmentOut]
    comments: list[CommentOut]
    reactions: dict[str, ReactionOut]

    @classmethod
    def of(cls, post: Post, reactions: ThreadReactions) -> PostOut:
        """`reactions`: the thread's, as the caller sees them (`hub.services.reactions.of_thread`)."""
        return cls(
            id=post.id, title=post.title, body_text=post.body_text, body_html=post.body_html,
            author=Author.of(post.author), group=post.group.slug, created_at=post.created_at,
            edited_at=edited_at(post),
            url=context_of(post).url(post_path(post.id)),
            attachments=[AttachmentOut.of(a) for a in post.attachments],
            comments=[CommentOut.of(c, reactions.of(c)) for c in post.comments],
            reactions=reactions_out(reactions.post),
        )


class MatchedFieldOut(BaseModel):
    field: str
    """expertise, department, job_title, bio or learned_expertise."""
    html: str
    """The field's text around the match, HTML-escaped, with matched words in <b>."""


class SearchResultOut(BaseModel):
    kind: str
    id: int
    post_id: int
    title: str
    snippet: str
    url: str
    title_html: str
    snippet_html: str
    """The snippet, HTML-escaped, with matched words in <b>."""
    group: str | None
    """The group's slug; None for a person."""
    author: str | None
    """The author's address (for a person: their own); None for a group."""
    created_at: datetime | None
    reactions: dict[str, int] | None = None
    """For a post or comment found by `/api/search`: how often each reaction was given."""
    matched: list[MatchedFieldOut] | None = None
    """For a person: why they were found, the fields of their profile that matched; None for other kinds."""
    thumbnail_url: str | None = None
    """For a photo its thumbnail, for a video its poster frame, once a worker made them."""

    @classmethod
    def of(
        cls, found: Found, url: Callable[[str], str], reactions: dict[tuple[str, int], dict[str, int]] | None = None,
    ) -> SearchResultOut:
        """`url` makes the hit's path absolute (`Context.url`): a hit is no row that knows its context.
        `reactions`: counts of the page's posts and comments (`hub.services.reactions.counts_of`)."""
        hit = found.hit
        return cls(
            kind=hit.kind, id=hit.id, post_id=hit.post_id, title=hit.title,
            snippet=hit.snippet, url=url(found.url), title_html=hit.title_html,
            snippet_html=hit.snippet_html, group=hit.group_slug or None,
            author=hit.author_email or None, created_at=hit.created_at,
            reactions=reaction_counts(reactions, hit.kind, hit.id) if reactions is not None else None,
            matched=[MatchedFieldOut(field=m.field, html=m.html) for m in hit.matched] if hit.kind == "person" else None,
            thumbnail_url=url(found.thumbnail) if found.thumbnail else None,
        )


def reaction_counts(counts: dict[tuple[str, int], dict[str, int]], kind: str, id: int) -> dict[str, int] | None:
    if kind not in ("post", "comment"):
        return None
    return counts.get((kind, id)) or dict.fromkeys(REACTIONS, 0)


class FacetOut(BaseModel):
    value: str
    """Add this to `q` to narrow the search, e.g. `group:engineering`."""
    label: str
    count: int


class SearchOut(BaseModel):
    """Keys that have nothing to say are left out: `facets` without results, `did_you_mean` without a better spelling."""

    total: int
    page: int
    pages: int
    results: list[SearchResultOut]
    facets: dict[str, list[FacetOut]] | None = None
    """Counts by kind, group and author over every result the caller may see."""
    did_you_mean: str | None = None
    fuzzy: bool | None = None
    """True when nothing matched as typed and these results allow for typos."""

    @classmethod
    def of(
        cls, found: FoundPage, url: Callable[[str], str], reactions: dict[tuple[str, int], dict[str, int]],
    ) -> SearchOut:
        return cls(
            total=found.total, page=found.page, pages=found.pages,
            results=[SearchResultOut.of(f, url, reactions) for f in found.results],
            facets={
                name: [FacetOut(value=f.value, label=f.label, count=f.count) for f in facets]
                for name, facets in found.facets.items()
            } if found.total else None,
            did_you_mean=found.did_you_mean, fuzzy=True if found.fuzzy else None,
        )


class SuggestionOut(BaseModel):
    kind: str
    title: str
    url: str


class SuggestionsOut(BaseModel):
    suggestions: list[SuggestionOut]

    @classmethod
    def of(cls, found: list[SuggestionLink], url: Callable[[str], str]) -> SuggestionsOut:
        return cls(suggestions=[SuggestionOut(kind=s.kind, title=s.title, url=url(s.url)) for s in found])


class RelatedOut(BaseModel):
    results: list[SearchResultOut]


class ProfileOut(BaseModel):
    name: str
    email: str
    department: str
    job_title: str
    bio: str
    expertise: list[str]
    url: str
    former_colleague: bool

    @classmethod
    def of(cls, user: User) -> ProfileOut:
        return cls(
            name=user.name, email=user.email, department=user.department, job_title=user.job_title,
            bio=user.bio, expertise=expertise_tags(user.expertise), url=context_of(user).url(person_path(user.email)),
            former_colleague=user.deactivated_at is not None,
        )


# Writing over the API: creating, editing and deleting posts and comments, and their edit history.


class PostEdit(BaseModel):
    """What changes; a field left out stays as it is."""

    title: str | None = None
    body: str | None = None


class CommentEdit(BaseModel):
    body: str


class HeldOut(BaseModel):
    """A post or comment that waits for a moderator of its group (answered with 202)."""

    held_id: int
    status: str
    """`held`"""
    group: str

    @classmethod
    def of(cls, held: HeldMessage) -> HeldOut:
        return cls(held_id=held.id, status=str(held.status), group=held.group.slug)


class RevisionOut(BaseModel):
    """What the item said before an edit, who made that edit and when."""

    title: str | None
    """A post's title before the edit; None for a comment."""
    body_text: str
    editor: Author
    edited_at: datetime

    @classmethod
    def of(cls, revision: Revision) -> RevisionOut:
        return cls(title=revision.title, body_text=revision.body_text, editor=Author.of(revision.editor),
                   edited_at=revision.created_at)


class HistoryOut(BaseModel):
    revisions: list[RevisionOut]
    """Oldest first; the item as it reads now is not among them."""

    @classmethod
    def of(cls, item: Post | Comment) -> HistoryOut:
        return cls(revisions=[RevisionOut.of(r) for r in item.revisions])
