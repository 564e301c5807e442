"""What goes into the index and what comes out of a query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KINDS = ("post", "comment", "document")


@dataclass(frozen=True)
class IndexedItem:
    """One searchable thing: a post, a comment, or the text of an attached document.

    `id` is the id of the post, comment or attachment; `post_id` is the post it belongs to
    (equal to `id` for a post). Items are keyed by (kind, id): indexing one again replaces it.
    """

    kind: str
    id: int
    post_id: int
    group_id: int
    title: str
    body: str
    author_name: str
    author_email: str
    created_at: datetime


@dataclass(frozen=True)
class SearchHit:
    kind: str
    id: int
    post_id: int
    group_id: int
    title: str
    snippet: str
    """Plain text around the best match."""
    snippet_html: str
    """The same snippet, HTML-escaped, with matched terms wrapped in <b>."""
    score: float


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]
