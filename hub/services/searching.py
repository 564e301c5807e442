"""Search as a given user sees it: only groups they may see, with links and names for each hit.

The index filters by group ids inside every query; this module supplies those ids, turns
group ids and author addresses in facets into names, and builds the link of each hit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Attachment, Group, GroupKind, User
from hub.services.attachments import PHOTO, VIDEO
from hub.services.errors import Invalid
from hub.services.photo_sizes import THUMB
from hub.services.visibility import group_access
from hub.urls import comment_path, group_path, person_path, photo_size_path, post_path, poster_path, tag_path
from search import SearchHit, Suggestion
from search.documents import KINDS, SORTS

MAX_PAGE_SIZE = 100
MAX_PAGE = 500


@dataclass(frozen=True)
class Found:
    hit: SearchHit
    url: str
    thumbnail: str | None = None
    """A photo's thumbnail or a video's poster frame, once a worker made it."""


@dataclass(frozen=True)
class Facet:
    value: str
    """What to add to the query to narrow it, e.g. `group:engineering`."""
    label: str
    count: int
    path: str | None = None
    """The page of what it names, where it has one: a tag's."""


@dataclass(frozen=True)
class FoundPage:
    query: str
    kind: str | None
    total: int
    page: int
    pages: int
    results: list[Found]
    sort: str = "relevance"
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    did_you_mean: str | None = None
    fuzzy: bool = False


@dataclass(frozen=True)
class SuggestionLink:
    kind: str
    title: str
    url: str


def _url(kind: str, id: int, post_id: int, group_slug: str, author_email: str) -> str:
    if kind == "comment":
        return comment_path(post_id, id)
    if kind in ("document", "photo", "video"):
        return f"{post_path(post_id)}#attachment-{id}"
    if kind == "person":
        return person_path(author_email)
    if kind == "group":
        return group_path(group_slug)
    return post_path(post_id)


def url_of(hit: SearchHit | Suggestion) -> str:
    return _url(hit.kind, hit.id, hit.post_id, hit.group_slug, hit.author_email)


def _facets(session: Session, raw: dict) -> dict[str, list[Facet]]:
    group_ids = [int(f.value) for f in raw.get("group", []) if f.value.isdigit()]
    groups = {g.id: g for g in session.scalars(select(Group).where(Group.id.in_(group_ids), Group.kind == GroupKind.GROUP))} if group_ids else {}
    emails = [f.value for f in raw.get("author", []) if f.value]
    names = dict(session.execute(select(User.email, User.name).where(User.email.in_(emails))).tuples().all()) if emails else {}
    return {
        "kind": [Facet(f"kind:{f.value}", f.value, f.count) for f in raw.get("kind", [])],
        "group": [
            Facet(f"group:{groups[int(f.value)].slug}", groups[int(f.value)].name, f.count)
            for f in raw.get("group", []) if f.value.isdigit() and int(f.value) in groups
        ],
        "author": [
            Facet(f"from:{f.value}", names.get(f.value, f.value), f.count) for f in raw.get("author", []) if f.value
        ],
        "tag": [Facet(f"tag:{f.value}", f"#{f.value}", f.count, tag_path(f.value)) for f in raw.get("tag", []) if f.value],
    }


def search(
    session: Session,
    viewer: User,
    query: str,
    kind: str | None = None,
    page: int = 1,
    page_size: int = 20,
    sort: str = "relevance",
) -> FoundPage:
    query = query.strip()
    if kind and kind not in KINDS:
        raise Invalid("kind must be one of %(choices)s", choices=', '.join(KINDS))
    if sort not in SORTS:
        raise Invalid("sort must be one of %(choices)s", choices=', '.join(SORTS))
    if page < 1 or page > MAX_PAGE:
        raise Invalid("page must be between 1 and %(max_page)s", max_page=MAX_PAGE)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid("page size must be between 1 and %(max_page_size)s", max_page_size=MAX_PAGE_SIZE)
    if not query:
        return FoundPage(query, kind, 0, 1, 1, [], sort)
    access = group_access(session, viewer)
    results = context_of(session).search.search(
        query, access.visible, kind=kind, limit=page_size, offset=(page - 1) * page_size, sort=sort,
        hidden_group_ids=access.hidden,
    )
    thumbnails = _thumbnails(session, [hit.id for hit in results.hits if hit.kind in (PHOTO, VIDEO)])
    found = [Found(hit, url_of(hit), thumbnails.get(hit.id) if hit.kind in (PHOTO, VIDEO) else None) for hit in results.hits]
    return FoundPage(
        query, kind, results.total, page, max(1, -(-results.total // page_size)), found, sort,
        _facets(session, results.facets), results.did_you_mean, results.fuzzy,
    )


def _thumbnails(session: Session, attachment_ids: list[int]) -> dict[int, str]:
    """The thumbnail of each photo and the poster of each video among `attachment_ids` that has one yet."""
    if not attachment_ids:
        return {}
    rows = session.execute(
        select(Attachment.id, Attachment.media_ready_at, Attachment.poster_made_at).where(Attachment.id.in_(attachment_ids))
    )
    return {
        id: photo_size_path(id, THUMB) if photo_ready else poster_path(id)
        for id, photo_ready, poster_made in rows
        if photo_ready or poster_made
    }


def suggest(session: Session, viewer: User, prefix: str, limit: int = 8) -> list[SuggestionLink]:
    """Titles of posts, people and groups that complete what the viewer is typing."""
    access = group_access(session, viewer)
    found = context_of(session).search.suggest(prefix[:200], access.visible, limit=min(limit, 20), hidden_group_ids=access.hidden)
    return [SuggestionLink(s.kind, s.title, url_of(s)) for s in found]


def related_posts(session: Session, viewer: User, post_id: int, limit: int = 5) -> list[Found]:
    """Posts like this one that the viewer may see; the caller has checked they may see this one."""
    access = group_access(session, viewer)
    hits = context_of(session).search.related(post_id, access.visible, limit=limit, hidden_group_ids=access.hidden)
    return [Found(hit, url_of(hit)) for hit in hits]
