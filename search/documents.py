"""What goes into the index and what comes out of a query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("post", "status", "comment", "document", "person", "group")
SORTS = ("relevance", "newest")
EVERYONE = 0
"""The group id of items every user may see: people. Real group ids start at 1."""


@dataclass(frozen=True)
class IndexedItem:
    """One searchable thing: a post, a comment, an attached document, a person or a group.

    `id` is the id of the post, comment, attachment, user or group; `post_id` is the post it
    belongs to (equal to `id` for a post, 0 for people and groups). `group_id` decides who may
    find it: the group's members and, for a public group, everyone; `EVERYONE` for people.
    Items are keyed by (kind, id): indexing one again replaces it.
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
    group_slug: str = ""
    tags: tuple[str, ...] = ()
    """The item's tags, as the system that wrote it names them (the hub: `hub.services.tags`); the index finds
    none of its own. `tag:` matches them with accents folded; the tag facet counts a post's and a comment's by name."""
    has_attachment: bool = False
    extra: str = ""
    """Searchable text that is never shown, e.g. what a person is learned to know about."""
    language: str | None = None
    """"nl" or "en"; detected from the text when None."""
    profile: tuple[tuple[str, str], ...] = ()
    """A person's profile field by field (`PROFILE_FIELDS`), kept so that a hit can say which of them matched."""


PROFILE_FIELDS = ("expertise", "department", "job_title", "bio", "learned_expertise")


@dataclass(frozen=True)
class MatchedField:
    """A field of a person's profile that the query matched: why they were found."""

    field: str
    """One of `PROFILE_FIELDS`."""
    html: str
    """The field's text around the match, HTML-escaped, with matched terms wrapped in <b>."""


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
    title_html: str = ""
    """The title, HTML-escaped, with matched terms wrapped in <b>."""
    group_slug: str = ""
    author_email: str = ""
    created_at: datetime | None = None
    language: str = ""
    matched: tuple[MatchedField, ...] = ()
    """For a person: the fields of their profile that matched, in `PROFILE_FIELDS` order."""


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    """Counts by "kind", "group" (group ids as text) and "author" (emails), over every match."""
    did_you_mean: str | None = None
    """A spelling of the query that finds more, when this one found little."""
    fuzzy: bool = False
    """True when nothing matched exactly and these hits come from a typo-tolerant retry."""


@dataclass(frozen=True)
class Suggestion:
    kind: str
    id: int
    post_id: int
    title: str
    group_slug: str
    author_email: str
