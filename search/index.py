"""The search index: opening it on disk, writing items into it, and querying it.

Several processes share one index directory. Only its writers create it, change its schema
or rebuild it: the indexer, which takes in every change, and `plein reindex` (`open`).
Everyone else opens it read-only (`open_reader`) and, when it does not exist yet, waits a
while for the indexer to create it rather than create it themselves. Readers look for what
other processes committed every `RELOAD_EVERY_SECONDS`, and at once for their own process's.

The directory belongs to the index:

    current        the name of the generation everyone reads and writes (replaced atomically)
    g<number>/     a generation: Tantivy's files, and a state file with the schema version
                   and whether a full rebuild completed
    rebuilding     while a rebuild runs, the name of the generation it writes
    write.lock     held by whoever writes the current generation or swaps another in
    rebuild.lock   held by the one rebuild running

A rebuild writes a new generation beside the current one, which readers keep searching and
the indexer keeps writing meanwhile; each of those writes is noted in the new generation
(`written.jsonl`), and the rebuild asks its caller for those items again, read anew from the
database, before it points `current` at the new generation and removes the old. A generation
that is missing, corrupt, of another schema version or never fully rebuilt opens with
`needs_rebuild` set, so the indexer can refill it from the database, the source of truth.
"""

from __future__ import annotations

import fcntl
import html
import json
import logging
import math
import os
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import tantivy

from search.documents import (
    EVERYONE,
    KINDS,
    SORTS,
    FacetCount,
    IndexedItem,
    MatchedField,
    SearchHit,
    SearchResults,
    Suggestion,
)
from search.language import LANGUAGES, detect_language
from search.query import ParsedQuery, edit_distance, fold, normalize_tag, parse, parse_date
from search.schema import SCHEMA_VERSION, analyzers, build_schema, doc_key, stemmed_field

log = logging.getLogger(__name__)

STATE_FILE = "plein-index.json"
CURRENT = "current"
REBUILDING = "rebuilding"
WRITE_LOCK = "write.lock"
REBUILD_LOCK = "rebuild.lock"
WRITTEN_FILE = "written.jsonl"
GENERATION = re.compile(r"g\d+")
LEGACY_FILES = re.compile(r"meta\.json|\.managed\.json|\.tantivy-\w+\.lock|plein-index\.json|[0-9a-f]{32}\.\w+")
"""Tantivy's files as an index before generations kept them, directly in the directory."""
READER_WAIT_SECONDS = 10.0
"""How long a reader waits for the indexer to create the index before it gives up (`IndexUnavailable`)."""
WAIT_STEP_SECONDS = 0.1
WRITER_HEAP_BYTES = 50_000_000
REBUILD_HEAP_BYTES = 200_000_000
"""A rebuild writes everything at once: a larger heap means fewer, larger segments to merge.
Writers keep to one indexing thread: with two, which document lands in which segment varies
from run to run, and so does the order of equally scored hits."""
LOCK_TIMEOUT_SECONDS = 10.0
RELOAD_EVERY_SECONDS = 0.2
"""How often a reader looks for commits made by another process (the indexer's, for a web
process); its own commits it sees at once. Looking costs a read of meta.json: at every query
it was a twentieth of a search over a million items."""
LOCK_RETRY_SECONDS = 0.05
SWAP_LOCK_TIMEOUT_SECONDS = 120.0
"""How long a rebuild waits to swap its generation in while a writer holds the lock."""
PROGRESS_EVERY = 1000
STEMMED_FIELDS = [stemmed_field(language) for language in LANGUAGES]
SEARCH_FIELDS = ["author", "extra", *STEMMED_FIELDS]
"""What a query's words are looked up in: the stemmed field of each language, which holds all
of an item's text (search/schema.py), the author and the extra text. Not the plain `title` and
`body`: a word found there is found in the stemmed fields too, and each field looked up is one
more list of postings to walk and merge (docs/performance.md)."""
TITLE_WEIGHT = 3
"""How many times the title is written into the stemmed field: a word in the title counts
for more, as a field boost of its own would do (nDCG@10 0.852 once, 0.914 twice, 0.944 three times)."""
HIGHLIGHTED_FIELDS = ["title", "body", *STEMMED_FIELDS]
"""What snippets highlight a query's words in: the plain fields first, for exact matches."""
NAMED_FIELDS = {*HIGHLIGHTED_FIELDS, *SEARCH_FIELDS}
"""Fields a query may name (`title:modem`)."""
FIELD_BOOSTS = {"extra": 0.5}
FEW_GROUPS = 8
"""Up to this many hidden groups, the permission filter excludes them term by term (`_allowed`)."""
FUZZY_FIELDS = ["title", "body", "extra"]
FUZZY_TWO_TYPOS_FROM = 6
MIN_CORRECTED_LENGTH = 4
MAX_CANDIDATES_CHECKED = 5
LITTLE = 3
"""A query with fewer hits than this gets a "did you mean"; one with none, a fuzzy retry."""
RECENCY_BOOSTS = [(timedelta(days=30), 1.0), (timedelta(days=365), 0.5)]
"""Added to the relevance score of items younger than each age."""
FACET_SIZES = {"kind": 10, "group": 20, "author": 10, "tag": 10}
FACET_AGGREGATIONS = {
    "kind": {"terms": {"field": "kind", "size": FACET_SIZES["kind"]}},
    "group": {"terms": {"field": "group_id", "size": FACET_SIZES["group"]}},
    "author": {"terms": {"field": "author_email", "size": FACET_SIZES["author"]}},
    "tag": {"terms": {"field": "tag_name", "size": FACET_SIZES["tag"]}},
}
TAG_FACET_KINDS = ("post", "status", "comment")
"""What tag pages list, and so what the tag facet counts; a person's expertise is found by `tag:` but names no tag page."""
SUGGESTED_KINDS = ("post", "person", "group")
MAX_SUGGEST_WORDS = 6
SNIPPET_CHARS = 200
TITLE_CHARS = 300
_STRAY_COLON = re.compile(r"(\w*):")
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Asked:
    """What one search asks for besides its words: whose permissions, which kind, which page."""

    allowed: list[tuple]
    kind: str | None
    limit: int
    offset: int
    sort: str
    now: datetime


class IndexBusyError(RuntimeError):
    """Another writer held the index lock for longer than the timeout."""


class SearchUnavailable(RuntimeError):
    """The index could not answer: it is not there yet, or the indexer's query service is down."""


class IndexUnavailable(SearchUnavailable):
    """There is no index to read: the indexer has not created it, and did not within the wait."""


class Changes(NamedTuple):
    """What `SearchIndex.write` takes: the items of whole posts, other items, and items gone."""

    posts: Mapping[int, Iterable[IndexedItem]]
    items: Iterable[IndexedItem]
    gone: Iterable[tuple[str, int]]


CatchUp = Callable[[set[int], set[tuple[str, int]]], Changes]
"""Asked by a rebuild for what writers wrote meanwhile (post ids, and `(kind, id)` of other
items, written or gone), read anew: the changes that make the new generation as fresh."""

_commits_here: defaultdict[Path | None, int] = defaultdict(int)
"""Commits and swaps made in this process, by index directory: readers in it look again at once."""


class SearchIndex:
    """One Tantivy index. `needs_rebuild` is decided when opening and cleared by `rebuild`."""

    def __init__(
        self, index: tantivy.Index, root: Path | None, generation: str | None, needs_rebuild: bool,
        lock_timeout: float, *, writable: bool = True,
    ) -> None:
        self._index = index
        self._root = root
        self._generation = generation
        self._writable = writable
        self.needs_rebuild = needs_rebuild
        self.lock_timeout = lock_timeout
        self.commits = 0
        """How many commits this object made: one per write call, whatever its size."""
        self.last_commit = -math.inf
        """`time.monotonic()` at this object's last commit."""
        self._reload_due = -math.inf
        self._seen_here = -1

    @classmethod
    def open(cls, root: Path, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> SearchIndex:
        """The index as a writer opens it: created when missing, and created anew, empty and
        flagged `needs_rebuild`, when it is corrupt or of another schema version."""
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root / WRITE_LOCK, lock_timeout, f"the search index at {root} is locked by another writer"):
            _forget_an_abandoned_rebuild(root)
            generation = _pointer(root, CURRENT)
            found = _open_generation(root, generation) if generation else None
            if found is not None:
                index, complete = found
                return cls(index, root, generation, not complete, lock_timeout)
            generation = _create_generation(root)
            _point(root, CURRENT, generation)
            _remove_unused(root)
        log.info("created an empty search index at %s (schema version %s)", root / generation, SCHEMA_VERSION)
        return cls(_tantivy_index(root / generation, reuse=True), root, generation, True, lock_timeout)

    @classmethod
    def open_reader(cls, root: Path, wait: float | None = None) -> SearchIndex:
        """The index as a reader opens it, read-only: it waits up to `wait` seconds (by default
        `READER_WAIT_SECONDS`) for the indexer to create it, then raises `IndexUnavailable`, and
        never creates it itself."""
        wait = READER_WAIT_SECONDS if wait is None else wait
        deadline = time.monotonic() + wait
        while True:
            generation = _pointer(root, CURRENT)
            found = _open_generation(root, generation) if generation else None
            if found is not None:
                index, complete = found
                return cls(index, root, generation, not complete, LOCK_TIMEOUT_SECONDS, writable=False)
            if time.monotonic() >= deadline:
                raise IndexUnavailable(
                    f"there is no search index at {root} after {wait:g} seconds of waiting: "
                    "the indexer creates it (`plein indexer`, or `plein reindex`)"
                )
            time.sleep(WAIT_STEP_SECONDS)

    @classmethod
    def in_memory(cls) -> SearchIndex:
        return cls(_tantivy_index(None, reuse=False), None, None, True, LOCK_TIMEOUT_SECONDS)

    def upsert(self, items: Iterable[IndexedItem]) -> None:
        self.write(items=items)

    def delete(self, kind: str, ids: Iterable[int]) -> None:
        _check_kind(kind)
        self.write(gone=[(kind, id) for id in ids])

    def delete_post(self, post_id: int) -> None:
        """Remove a post together with its comments and documents."""
        self.write(posts={post_id: []})

    def write(
        self,
        posts: Mapping[int, Iterable[IndexedItem]] | None = None,
        items: Iterable[IndexedItem] = (),
        gone: Iterable[tuple[str, int]] = (),
    ) -> None:
        """Apply a batch of changes in one commit: readers see all of them or none, and no gap.

        `posts` maps a post id to every item the post has now (none when it was deleted): what
        the index held for that post is replaced. `items` are upserted; `gone` are the
        `(kind, id)` of items to remove.
        """
        self._check_writable()
        with self._write_lock():
            self._follow()  # a rebuild may have swapped in another generation
            rebuilding = self._root and _pointer(self._root, REBUILDING)
            with self._writer() as writer:
                written = _apply(writer, Changes(posts or {}, items, gone))
            if rebuilding:
                _note_written(self._root / rebuilding, *written)

    def rebuild(
        self, items: Iterable[IndexedItem], progress: Callable[[int], None] | None = None,
        catch_up: CatchUp | None = None,
    ) -> int:
        """Replace the whole index with `items`; returns how many were added.

        On disk, `items` go into a new generation beside the current one, which is searched and
        written as before until the new one is swapped in; `catch_up` is then asked for what was
        written meanwhile (without it, nothing else may write during a rebuild). `progress` is
        called with the running count every PROGRESS_EVERY items and at the end. If `items`
        raises, nothing changes: the previous index stays as it was.
        """
        self._check_writable()
        if self._root is None:
            with self._writer(REBUILD_HEAP_BYTES) as writer:
                writer.delete_all_documents()
                count = _add_all(writer, items, progress)
            self.needs_rebuild = False
            return count
        root = self._root
        with _locked(root / REBUILD_LOCK, 0, f"another rebuild of the search index at {root} is running"):
            with self._write_lock():
                generation = _create_generation(root)
                _point(root, REBUILDING, generation)
            try:
                index = _tantivy_index(root / generation, reuse=True)
                with _committing(index, REBUILD_HEAP_BYTES) as writer:
                    count = _add_all(writer, items, progress)
                caught_up = _catch_up(index, root / generation, catch_up, 0)
                with self._write_lock(SWAP_LOCK_TIMEOUT_SECONDS):
                    _catch_up(index, root / generation, catch_up, caught_up)
                    _write_state(root / generation, complete=True)
                    _point(root, CURRENT, generation)
                    (root / REBUILDING).unlink()
                    _remove_unused(root)
            except BaseException:
                with suppress(IndexBusyError), self._write_lock():
                    (root / REBUILDING).unlink(missing_ok=True)
                    _remove_unused(root)
                raise
        self._index, self._generation, self.needs_rebuild = index, generation, False
        _commits_here[root] += 1
        self._reload_due = -math.inf
        return count

    def search(
        self,
        query: str,
        visible_group_ids: Collection[int],
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        now: datetime | None = None,
        hidden_group_ids: Collection[int] | None = None,
    ) -> SearchResults:
        """Items matching `query` that the reader may see; counts and facets cover only those.

        `visible_group_ids` are the groups the reader may see; people (`EVERYONE`) are always
        visible. The permission filter is part of the Tantivy query itself, so totals, facets,
        pages and snippets never include an item from another group. A caller that knows every
        group may name the others in `hidden_group_ids`, which makes the filter cheaper (`_allowed`).
        """
        if kind is not None:
            _check_kind(kind)
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}, expected one of {SORTS}")
        parsed = parse(query)
        if not parsed.text and not parsed.filters and not parsed.excluded:
            return SearchResults(total=0, hits=[])
        searcher = self._searcher()
        asked = _Asked(self._allowed(visible_group_ids, hidden_group_ids), kind, limit, offset, sort, now or datetime.now(UTC))
        results = self._run_parsed(searcher, parsed, asked)
        if results.total >= LITTLE or not parsed.words:
            return results
        did_you_mean = self._did_you_mean(searcher, query, parsed, asked.allowed)
        if results.total == 0:
            retried = self._retry(searcher, parsed, did_you_mean, asked)
            if retried.total:
                return replace(retried, did_you_mean=did_you_mean, fuzzy=True)
        return replace(results, did_you_mean=did_you_mean)

    def suggest(
        self, prefix: str, visible_group_ids: Collection[int], limit: int = 8,
        hidden_group_ids: Collection[int] | None = None,
    ) -> list[Suggestion]:
        """Posts, people and groups whose title starts with what was typed so far."""
        words = [word for word in _TOKEN.findall(fold(prefix)) if word][:MAX_SUGGEST_WORDS]
        if not words or len(words[-1]) < 1:
            return []
        searcher = self._searcher()
        schema = self._index.schema
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.phrase_prefix_query(schema, "title", words)),
            (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "kind", list(SUGGESTED_KINDS))),
            *self._allowed(visible_group_ids, hidden_group_ids),
        ])
        suggestions = []
        for _score, address in searcher.search(query, limit=limit, count=False).hits:
            document = searcher.doc(address)
            suggestions.append(Suggestion(
                kind=document.get_first("kind"), id=document.get_first("id"),
                post_id=document.get_first("post_id"), title=document.get_first("title") or "",
                group_slug=document.get_first("group") or "",
                author_email=document.get_first("author_email") or "",
            ))
        return suggestions

    def related(
        self, post_id: int, visible_group_ids: Collection[int], limit: int = 5,
        hidden_group_ids: Collection[int] | None = None,
    ) -> list[SearchHit]:
        """Other posts like post `post_id` (more-like-this on its title and body), visible ones only."""
        searcher = self._searcher()
        schema = self._index.schema
        found = searcher.search(tantivy.Query.term_query(schema, "key", doc_key("post", post_id)), limit=1)
        if not found.hits:
            return []
        source = searcher.doc(found.hits[0][1])
        fields = {name: [source.get_first(name) or ""] for name in ("title", "body")}
        like = tantivy.Query.more_like_this_document_fields_query(
            schema, fields, min_doc_frequency=1, min_term_frequency=1, max_query_terms=25, min_word_length=3,
        )
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, like),
            (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "kind", ["post", "status"])),
            *self._allowed(visible_group_ids, hidden_group_ids),
            (tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "post_id", post_id)),
        ])
        hits = searcher.search(query, limit=limit, count=False).hits
        snippets = _Snippets(searcher, schema, like)
        return [snippets.hit(searcher.doc(address), score) for score, address in hits]

    def _allowed(self, visible_group_ids: Collection[int], hidden_group_ids: Collection[int] | None) -> list[tuple]:
        """The permission filter, as clauses of the query it guards: items of the groups the
        reader may see, and people.

        Tantivy answers a set of terms with a bitset of every document in it, which for a reader
        who sees most groups is most of the index, built again for every query (half the time
        of a search over a million items). When the caller also names the groups the reader may
        not see, and they are fewer, the clauses leave those out instead, and with them any group
        newer than the caller knows of (an id above all it named), so it stays exact: it relies
        on group ids only growing, and on no group being deleted while its items are indexed.
        A few groups are looked up one term each, which Tantivy can skip through, not as a set.
        """
        schema = self._index.schema
        hidden = set(hidden_group_ids or ()) - {EVERYONE}
        visible = {EVERYONE, *visible_group_ids} - hidden  # named both ways, a group stays hidden
        if hidden_group_ids is None or len(hidden) >= len(visible):
            return [(tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "group_id", sorted(visible)))]
        newer = tantivy.Query.range_query(
            schema, "group_id", tantivy.FieldType.Integer, lower_bound=max(visible | hidden) + 1
        )
        if len(hidden) > FEW_GROUPS:
            excluded = [tantivy.Query.term_set_query(schema, "group_id", sorted(hidden))]
        else:
            excluded = [tantivy.Query.term_query(schema, "group_id", group_id) for group_id in sorted(hidden)]
        return [(tantivy.Occur.MustNot, query) for query in (newer, *excluded)]

    def _filter_clauses(self, parsed: ParsedQuery, kind: str | None) -> list[tuple]:
        """The filters and the exclusions: what every run of the query, retries too, must keep to."""
        schema = self._index.schema
        clauses = [(tantivy.Occur.MustNot, self._parse(excluded)) for excluded in parsed.excluded]
        if kind is not None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "kind", kind)))
        for found in parsed.filters:
            if found.name in ("kind", "group", "tag", "has"):
                field = {"kind": "kind", "group": "group", "tag": "tag", "has": "has"}[found.name]
                query = tantivy.Query.term_query(schema, field, found.value)
            elif found.name == "from":
                query, _errors = self._index.parse_query_lenient(
                    found.value, default_field_names=["author"], conjunction_by_default=True
                )
            else:
                moment = parse_date(found.value)
                bound = {"upper_bound": moment, "include_upper": False} if found.name == "before" else {"lower_bound": moment}
                query = tantivy.Query.range_query(schema, "created_at", tantivy.FieldType.Date, **bound)
            clauses.append((tantivy.Occur.MustNot if found.negated else tantivy.Occur.Must, query))
        return clauses

    def _run_parsed(self, searcher: tantivy.Searcher, parsed: ParsedQuery, asked: _Asked) -> SearchResults:
        """A query as typed: its words over the search fields, and its filters."""
        filters = self._filter_clauses(parsed, asked.kind)
        if not parsed.text:
            everything = tantivy.Query.all_query()
            return self._run(searcher, everything, filters, asked, highlighted=everything)
        text_query = self._parse(parsed.text)
        return self._run(searcher, text_query, filters, asked, highlighted=self._parse(parsed.text, HIGHLIGHTED_FIELDS))

    def _retry(self, searcher: tantivy.Searcher, parsed: ParsedQuery, corrected: str | None, asked: _Asked) -> SearchResults:
        """A query that found nothing, once more, allowing for typos.

        The "did you mean" goes first: it is a search like any other. Only when there is none,
        or it finds nothing either, does every word allow for typos through Tantivy's fuzzy
        terms, which search each field's term dictionary, for the hits and again for the facets:
        at a million items that costs three plain searches.
        """
        if corrected is not None:
            retried = self._run_parsed(searcher, parse(corrected), asked)
            if retried.total:
                return retried
        fuzzy_query = self._fuzzy(parsed.words)
        return self._run(searcher, fuzzy_query, self._filter_clauses(parsed, asked.kind), asked, highlighted=fuzzy_query)

    def _run(
        self, searcher: tantivy.Searcher, text_query: tantivy.Query, filters: list[tuple], asked: _Asked,
        highlighted: tantivy.Query,
    ) -> SearchResults:
        """One page of hits for `text_query`, with the total and facets; snippets mark the words of `highlighted`."""
        schema = self._index.schema
        matching = tantivy.Query.boolean_query([(tantivy.Occur.Must, text_query), *asked.allowed, *filters])
        page = dict(limit=asked.limit, offset=asked.offset, count=False)
        # The count comes with the facets (every item has one kind), not from a second count of the matches.
        if asked.sort == "newest":
            result = searcher.search(matching, **page, order_by_field="timestamp")
            scored = [(0.0, address) for _key, address in result.hits]
        else:
            scored = searcher.search(self._ranked(matching, asked.now), **page).hits
        aggregated = searcher.aggregate(matching, FACET_AGGREGATIONS)
        kinds = aggregated.get("kind", {})
        total = sum(bucket["doc_count"] for bucket in kinds.get("buckets", [])) + kinds.get("sum_other_doc_count", 0)
        snippets = _Snippets(searcher, schema, highlighted)
        hits = [snippets.hit(searcher.doc(address), score) for score, address in scored]
        return SearchResults(total=total, hits=hits, facets=_facets(aggregated) if total else {})

    def _ranked(self, matching: tantivy.Query, now: datetime) -> tantivy.Query:
        """`matching`, with a little added to the score of recent items (never a match of its own).

        All boosts make one optional clause, which Tantivy looks up for matching items only. In
        it the oldest age is required and each younger one optional, so a younger age is only
        looked up for items within the older: half the cost of wrapping the query once per
        boost, with the same scores. Optional clauses side by side would make Tantivy walk
        every recent item in the index instead: at a million items that doubled a search.
        """
        schema = self._index.schema
        boosts: list[tuple] = []
        for age, boost in sorted(RECENCY_BOOSTS):  # the youngest first, each inside the next older one
            recent = tantivy.Query.range_query(schema, "created_at", tantivy.FieldType.Date, lower_bound=now - age)
            boosts = [(tantivy.Occur.Should, tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.const_score_query(recent, boost)), *boosts]
            ))]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, matching), *boosts])

    def _parse(self, query: str, fields: list[str] = SEARCH_FIELDS) -> tantivy.Query:
        """Tantivy's query language over `fields`, all words required.

        A query Tantivy rejects is parsed leniently, after turning colons that do not follow
        a field name into spaces: `glasvezel:` or `om 10:30` mean words, not fields.
        """
        options = dict(
            default_field_names=fields,
            field_boosts=FIELD_BOOSTS,
            conjunction_by_default=True,
        )
        try:
            return self._index.parse_query(query, **options)
        except ValueError:
            words = _STRAY_COLON.sub(lambda m: m[0] if m[1] in NAMED_FIELDS else m[1] + " ", query)
            parsed, _errors = self._index.parse_query_lenient(words, **options)
            return parsed

    def _fuzzy(self, words: list[str]) -> tantivy.Query:
        """Every word, allowing one typo (two in words of six letters or more), in any plain text field."""
        schema = self._index.schema
        clauses = []
        for word in words:
            for term in _TOKEN.findall(fold(word)):
                distance = 1 if len(term) < FUZZY_TWO_TYPOS_FROM else 2
                either = [
                    (tantivy.Occur.Should, tantivy.Query.fuzzy_term_query(schema, field, term, distance=distance))
                    for field in FUZZY_FIELDS
                ]
                clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(either)))
        return tantivy.Query.boolean_query(clauses) if clauses else tantivy.Query.empty_query()

    def _did_you_mean(
        self, searcher: tantivy.Searcher, query: str, parsed: ParsedQuery, allowed: list[tuple]
    ) -> str | None:
        """The query with each unknown word replaced by the closest word the reader can find.

        Candidates come from the term dictionary, but one is only offered when it occurs in
        an item the reader may see, so a suggestion never reveals a word from a private group.
        """
        corrected = query
        changed = False
        for word in parsed.words:
            term = fold(word)
            if not _TOKEN.fullmatch(term) or len(term) < MIN_CORRECTED_LENGTH or self._visible_count(searcher, term, allowed):
                continue
            better = self._closest_visible_term(searcher, term, allowed)
            if better is not None:
                corrected = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", better, corrected, count=1)
                changed = True
        return corrected if changed else None

    def _visible_count(self, searcher: tantivy.Searcher, term: str, allowed: list[tuple]) -> int:
        schema = self._index.schema
        either = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, field, term)) for field in FUZZY_FIELDS]
        )
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, either), *allowed])
        return searcher.search(query, limit=1).count

    def _closest_visible_term(self, searcher: tantivy.Searcher, term: str, allowed: list[tuple]) -> str | None:
        """The word closest to `term` among those with its first letter, found in an item the reader may see.

        Bodies are looked through first, titles only when no body has such a word: the two
        hold mostly the same words, and listing a field's words is most of the cost.
        """
        allowed_distance = 1 if len(term) < FUZZY_TWO_TYPOS_FROM else 2
        for field in ("body", "title"):
            candidates: dict[str, tuple[int, int]] = {}
            for candidate, frequency in searcher.terms_with_prefix(field, term[:1]):
                distance = edit_distance(term, candidate, limit=allowed_distance)
                if distance <= allowed_distance:
                    candidates[candidate] = (distance, -frequency)
            for candidate in sorted(candidates, key=candidates.__getitem__)[:MAX_CANDIDATES_CHECKED]:
                if self._visible_count(searcher, candidate, allowed):
                    return candidate
        return None

    @contextmanager
    def _writer(self, heap_bytes: int = WRITER_HEAP_BYTES) -> Iterator[tantivy.IndexWriter]:
        with _committing(self._index, heap_bytes) as writer:
            yield writer
        self.commits += 1
        self.last_commit = time.monotonic()
        _commits_here[self._root] += 1
        self._reload_due = -math.inf

    def _check_writable(self) -> None:
        if not self._writable:
            raise PermissionError(f"the search index at {self._root} was opened for reading: only its writers change it")

    def _write_lock(self, timeout: float | None = None) -> AbstractContextManager[None]:
        if self._root is None:
            return nullcontext()
        timeout = self.lock_timeout if timeout is None else timeout
        return _locked(
            self._root / WRITE_LOCK, timeout,
            f"the search index at {self._root} is locked by another writer for more than {timeout:g} seconds",
        )

    def _follow(self) -> None:
        """Open the generation `current` names, if a rebuild swapped in another since this one was opened."""
        generation = self._root and _pointer(self._root, CURRENT)
        if not generation or generation == self._generation:
            return
        found = _open_generation(self._root, generation)
        if found is not None:
            (self._index, complete), self._generation = found, generation
            self.needs_rebuild = not complete

    def _searcher(self) -> tantivy.Searcher:
        """A searcher over the latest commit: this process's at once, other processes' within `RELOAD_EVERY_SECONDS`."""
        now = time.monotonic()
        if now >= self._reload_due or self._seen_here != _commits_here[self._root]:
            self._seen_here = _commits_here[self._root]
            self._follow()
            try:
                self._index.reload()
            except ValueError:
                self._follow()  # its generation was swapped out and removed between the two
                self._index.reload()
            self._reload_due = now + RELOAD_EVERY_SECONDS
        return self._index.searcher()


@contextmanager
def _committing(index: tantivy.Index, heap_bytes: int) -> Iterator[tantivy.IndexWriter]:
    """A writer that commits on clean exit, rolls back on error, and always lets go.

    Writers of one index directory take turns through its write lock (`_locked`), so Tantivy's
    own writer lock is always free here."""
    writer = index.writer(heap_bytes, num_threads=1)
    try:
        yield writer
    except BaseException:
        writer.rollback()
        raise
    else:
        writer.commit()
    finally:
        writer.wait_merging_threads()


def _apply(writer: tantivy.IndexWriter, changes: Changes) -> tuple[set[int], set[tuple[str, int]]]:
    """Write `changes`; returns what they touched: post ids, and `(kind, id)` of other items."""
    posts, keys = set(), set()
    for post_id, post_items in changes.posts.items():
        posts.add(post_id)
        writer.delete_documents_by_term("post_id", post_id)
        for item in post_items:
            writer.delete_documents_by_term("key", doc_key(item.kind, item.id))
            writer.add_document(_document(item))
    for item in changes.items:
        keys.add((item.kind, item.id))
        writer.delete_documents_by_term("key", doc_key(item.kind, item.id))
        writer.add_document(_document(item))
    for kind, id in changes.gone:
        _check_kind(kind)
        keys.add((kind, id))
        writer.delete_documents_by_term("key", doc_key(kind, id))
    return posts, keys


def _add_all(writer: tantivy.IndexWriter, items: Iterable[IndexedItem], progress: Callable[[int], None] | None) -> int:
    count = 0
    for count, item in enumerate(items, start=1):
        writer.add_document(_document(item))
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    if progress is not None and (count == 0 or count % PROGRESS_EVERY):
        progress(count)
    return count


def _note_written(generation: Path, posts: set[int], keys: set[tuple[str, int]]) -> None:
    """Note, in the generation a rebuild writes, what was just written to the current one."""
    if posts or keys:
        with (generation / WRITTEN_FILE).open("a") as written:
            written.write(json.dumps({"posts": sorted(posts), "keys": sorted(keys)}) + "\n")


def _catch_up(index: tantivy.Index, generation: Path, catch_up: CatchUp | None, offset: int) -> int:
    """Write into `generation` what writers wrote to the current one since `offset` of the notes,
    as `catch_up` reads it anew; returns the offset up to which the notes are taken in."""
    try:
        notes = (generation / WRITTEN_FILE).read_bytes()
    except FileNotFoundError:
        return offset
    end = notes.rfind(b"\n") + 1  # a note being written without the lock is not whole yet
    posts, keys = set(), set()
    for line in notes[offset:end].splitlines():
        note = json.loads(line)
        posts.update(note["posts"])
        keys.update((kind, id) for kind, id in note["keys"])
    if catch_up is not None and (posts or keys):
        with _committing(index, WRITER_HEAP_BYTES) as writer:
            _apply(writer, catch_up(posts, keys))
    return max(offset, end)


@contextmanager
def _locked(path: Path, timeout: float, busy: str) -> Iterator[None]:
    """Hold the lock file `path` (flock(2): let go when its process ends, however it ends)."""
    deadline = time.monotonic() + timeout
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(busy) from None
                time.sleep(LOCK_RETRY_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pointer(root: Path, name: str) -> str | None:
    """The generation the pointer file `name` names, if it exists."""
    try:
        return (root / name).read_text().strip() or None
    except FileNotFoundError:
        return None


def _point(root: Path, name: str, generation: str) -> None:
    temporary = root / f"{name}.tmp"
    temporary.write_text(generation)
    os.replace(temporary, root / name)


def _create_generation(root: Path) -> str:
    generation = f"g{time.time_ns()}"
    (root / generation).mkdir()
    _tantivy_index(root / generation, reuse=False)
    _write_state(root / generation, complete=False)
    return generation


def _open_generation(root: Path, generation: str) -> tuple[tantivy.Index, bool] | None:
    """The generation's Tantivy index and whether a rebuild completed it; None if it cannot be read
    with this schema version."""
    path = root / generation
    state = _read_state(path)
    if state is None or state.get("schema_version") != SCHEMA_VERSION:
        return None
    index = _open_existing(path)
    return None if index is None else (index, bool(state.get("complete")))


def _forget_an_abandoned_rebuild(root: Path) -> None:
    """Stop noting writes for a rebuild that is not running any more (it crashed)."""
    if (root / REBUILDING).exists():
        with suppress(IndexBusyError), _locked(root / REBUILD_LOCK, 0, "a rebuild is running"):
            (root / REBUILDING).unlink(missing_ok=True)


def _remove_unused(root: Path) -> None:
    """Remove the generations that are neither current nor being rebuilt, and the files of an
    index from before generations; the caller holds the write lock."""
    kept = {_pointer(root, CURRENT), _pointer(root, REBUILDING)}
    for entry in root.iterdir():
        if entry.name in kept:
            continue
        if entry.is_dir() and GENERATION.fullmatch(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and LEGACY_FILES.fullmatch(entry.name):
            entry.unlink(missing_ok=True)


def _tantivy_index(path: Path | None, reuse: bool) -> tantivy.Index:
    index = tantivy.Index(build_schema(), path=None if path is None else str(path), reuse=reuse)
    for name, analyzer in analyzers().items():
        index.register_tokenizer(name, analyzer)
    index.config_reader(reload_policy="manual")
    return index


def _open_existing(path: Path) -> tantivy.Index | None:
    try:
        if tantivy.Index.exists(str(path)):
            return _tantivy_index(path, reuse=True)
        log.warning("the search index at %s is missing", path)
    except (ValueError, OSError) as error:
        log.warning("the search index at %s is unreadable: %s", path, error)
    return None


def _read_state(path: Path) -> dict | None:
    try:
        state = json.loads((path / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _write_state(path: Path, complete: bool) -> None:
    temporary = path / f"{STATE_FILE}.tmp"
    temporary.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "complete": complete}))
    os.replace(temporary, path / STATE_FILE)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}, expected one of {KINDS}")


def _document(item: IndexedItem) -> tantivy.Document:
    _check_kind(item.kind)
    document = tantivy.Document()
    document.add_text("key", doc_key(item.kind, item.id))
    document.add_text("kind", item.kind)
    document.add_integer("id", item.id)
    document.add_integer("post_id", item.post_id)
    document.add_integer("group_id", item.group_id)
    document.add_text("group", item.group_slug.lower())
    document.add_text("title", item.title)
    document.add_text("body", item.body)
    if item.extra:
        document.add_text("extra", item.extra)
    if item.profile:
        document.add_bytes("profile", json.dumps([list(part) for part in item.profile]).encode())
    language = item.language or detect_language(f"{item.title}\n{item.body}\n{item.extra}")
    for stemmed in LANGUAGES if language not in LANGUAGES else [language]:
        for text in filter(None, [item.title] * TITLE_WEIGHT + [item.body, item.extra]):
            document.add_text(stemmed_field(stemmed), text)
    document.add_text("lang", language or "")
    document.add_text("author", item.author_name)
    document.add_text("author", item.author_email)
    document.add_text("author_email", item.author_email.lower())
    for tag in {*map(normalize_tag, item.tags)} - {""}:
        document.add_text("tag", tag)
    if item.kind in TAG_FACET_KINDS:
        for tag in dict.fromkeys(item.tags):
            document.add_text("tag_name", tag)
    if item.has_attachment:
        document.add_text("has", "attachment")
    document.add_date("created_at", item.created_at)
    created = item.created_at if item.created_at.tzinfo else item.created_at.replace(tzinfo=UTC)
    document.add_integer("timestamp", int(created.timestamp() * 1_000_000))
    return document


def _facets(aggregated: dict) -> dict[str, list[FacetCount]]:
    return {
        name: [FacetCount(str(bucket["key"]), bucket["doc_count"]) for bucket in aggregated.get(name, {}).get("buckets", [])]
        for name in FACET_AGGREGATIONS
    }


class _Snippets:
    """Highlighted titles and snippets for the hits of one query.

    The plain `title`/`body` fields highlight exact matches; when a hit matched only through
    its language's stemmer (`fietsen` for `fiets`), the stemmed field is tried as well.
    """

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, query: tantivy.Query) -> None:
        self._searcher, self._schema, self._query = searcher, schema, query
        self._generators: dict[str, tantivy.SnippetGenerator] = {}

    def _generator(self, field: str, chars: int) -> tantivy.SnippetGenerator:
        if field not in self._generators:
            generator = tantivy.SnippetGenerator.create(self._searcher, self._query, self._schema, field)
            generator.set_max_num_chars(chars)
            self._generators[field] = generator
        return self._generators[field]

    def _highlight(self, part: str, text: str, language: str, chars: int) -> tantivy.Snippet | None:
        for field in (part, *([stemmed_field(language)] if language in LANGUAGES else [])):
            document = tantivy.Document()
            document.add_text(field, text)
            snippet = self._generator(field, chars).snippet_from_doc(document)
            if snippet.highlighted():
                return snippet
        return None

    def hit(self, document: tantivy.Document, score: float) -> SearchHit:
        language = document.get_first("lang") or ""
        body = document.get_first("body") or ""
        title = document.get_first("title") or ""
        snippet = self._highlight("body", body, language, SNIPPET_CHARS)
        if snippet is not None:
            plain, marked = snippet.fragment(), snippet.to_html()
        else:
            plain = _lead(body)
            marked = html.escape(plain)
        title_snippet = self._highlight("title", title, language, TITLE_CHARS) if len(title) <= TITLE_CHARS else None
        created = document.get_first("created_at")
        return SearchHit(
            kind=document.get_first("kind"),
            id=document.get_first("id"),
            post_id=document.get_first("post_id"),
            group_id=document.get_first("group_id"),
            title=title,
            snippet=plain,
            snippet_html=marked,
            score=float(score),
            title_html=title_snippet.to_html() if title_snippet is not None else html.escape(title),
            group_slug=document.get_first("group") or "",
            author_email=document.get_first("author_email") or "",
            created_at=created.replace(tzinfo=UTC) if created is not None and created.tzinfo is None else created,
            language=language,
            matched=self._matched(document.get_first("profile"), language),
        )

    def _matched(self, profile: bytes | None, language: str) -> tuple[MatchedField, ...]:
        """The fields of a person's profile that hold a word of the query, each highlighted."""
        if not profile:
            return ()
        matched = []
        for field, text in json.loads(profile):
            snippet = self._highlight("body", text, language, SNIPPET_CHARS) if text else None
            if snippet is not None:
                matched.append(MatchedField(field, snippet.to_html()))
        return tuple(matched)


def _lead(body: str) -> str:
    """The start of a body that did not match itself, cut at a word boundary."""
    if len(body) <= SNIPPET_CHARS:
        return body.strip()
    cut = body[:SNIPPET_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + " …"
