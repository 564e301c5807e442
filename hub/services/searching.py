"""Search as a given user sees it: only groups they may see, with links to each hit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.models import User
from hub.services.errors import Invalid
from hub.services.groups import visible_group_ids
from hub.services.indexing import search_index
from hub.urls import comment_path, post_path
from search import SearchHit
from search.documents import KINDS


@dataclass(frozen=True)
class Found:
    hit: SearchHit
    url: str


@dataclass(frozen=True)
class FoundPage:
    query: str
    kind: str | None
    total: int
    page: int
    pages: int
    results: list[Found]


def _url(hit: SearchHit) -> str:
    if hit.kind == "comment":
        return comment_path(hit.post_id, hit.id)
    if hit.kind == "document":
        return f"{post_path(hit.post_id)}#attachment-{hit.id}"
    return post_path(hit.post_id)


def search(
    session: Session, viewer: User, query: str, kind: str | None = None, page: int = 1, page_size: int = 20
) -> FoundPage:
    query = query.strip()
    if kind and kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    if page < 1:
        raise Invalid("page must be 1 or more")
    if not query:
        return FoundPage(query, kind, 0, 1, 1, [])
    results = search_index().search(
        query, visible_group_ids(session, viewer), kind=kind, limit=page_size, offset=(page - 1) * page_size
    )
    found = [Found(hit, _url(hit)) for hit in results.hits]
    return FoundPage(query, kind, results.total, page, max(1, -(-results.total // page_size)), found)
