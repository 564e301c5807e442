"""The search index: opening it on disk, writing items into it, and querying it.

Several processes share one index directory (the web app reads; a Celery worker and
`plein reindex` write). Tantivy allows one writer at a time and guards it with a lock
file, so every write call opens a writer, commits, and lets go; a busy lock is waited for.
Readers reload before each search so they see what other processes committed.

Next to the Tantivy files lives a small state file with the schema version and whether a
full rebuild has completed. An index that is missing, corrupt, of another version, or
never fully rebuilt opens with `needs_rebuild` set, so the caller can refill it from the
database, which is the source of truth.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy

from search.documents import KINDS, IndexedItem, SearchHit, SearchResults
from search.schema import SCHEMA_VERSION, TEXT_ANALYZER, build_schema, doc_key, text_analyzer

log = logging.getLogger(__name__)

STATE_FILE = "plein-index.json"
WRITER_HEAP_BYTES = 50_000_000
LOCK_TIMEOUT_SECONDS = 10.0
LOCK_RETRY_SECONDS = 0.05
PROGRESS_EVERY = 1000
SEARCH_FIELDS = ["title", "body", "author"]
FIELD_BOOSTS = {"title": 2.0}
SNIPPET_CHARS = 200
_STRAY_COLON = re.compile(r"(\w*):")


class IndexBusyError(RuntimeError):
    """Another writer held the index lock for longer than the timeout."""


class SearchIndex:
    """One Tantivy index. `needs_rebuild` is decided when opening and cleared by `rebuild`."""

    def __init__(
        self, index: tantivy.Index, path: Path | None, needs_rebuild: bool, lock_timeout: float
    ) -> None:
        self._index = index
        self._path = path
        self.needs_rebuild = needs_rebuild
        self.lock_timeout = lock_timeout

    @classmethod
    def open(cls, path: Path, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> SearchIndex:
        path.mkdir(parents=True, exist_ok=True)
        state = _read_state(path)
        if state is not None and state.get("schema_version") == SCHEMA_VERSION:
            index = _open_existing(path)
            if index is not None:
                return cls(index, path, not state.get("complete"), lock_timeout)
        log.info("creating an empty search index at %s (schema version %s)", path, SCHEMA_VERSION)
        fresh = cls(_tantivy_index(path, reuse=False), path, True, lock_timeout)
        with fresh._writer():
            pass  # the first commit lets Tantivy delete the files of the previous index
        _write_state(path, complete=False)
        return fresh

    @classmethod
    def in_memory(cls) -> SearchIndex:
        return cls(_tantivy_index(None, reuse=False), None, True, LOCK_TIMEOUT_SECONDS)

    def upsert(self, items: Iterable[IndexedItem]) -> None:
        with self._writer() as writer:
            for item in items:
                writer.delete_documents_by_term("key", doc_key(item.kind, item.id))
                writer.add_document(_document(item))

    def delete(self, kind: str, ids: Iterable[int]) -> None:
        _check_kind(kind)
        with self._writer() as writer:
            for id in ids:
                writer.delete_documents_by_term("key", doc_key(kind, id))

    def delete_post(self, post_id: int) -> None:
        """Remove a post together with its comments and documents."""
        with self._writer() as writer:
            writer.delete_documents_by_term("post_id", post_id)

    def rebuild(
        self, items: Iterable[IndexedItem], progress: Callable[[int], None] | None = None
    ) -> int:
        """Replace the whole index with `items` in one commit; returns how many were added.

        `progress` is called with the running count every PROGRESS_EVERY items and at the end.
        If `items` raises, nothing changes: the previous index stays as it was.
        """
        count = 0
        with self._writer() as writer:
            writer.delete_all_documents()
            for count, item in enumerate(items, start=1):
                writer.add_document(_document(item))
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count)
            if progress is not None and (count == 0 or count % PROGRESS_EVERY):
                progress(count)
        if self._path is not None:
            _write_state(self._path, complete=True)
        self.needs_rebuild = False
        return count

    def search(
        self,
        query: str,
        visible_group_ids: Collection[int],
        kind: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Items matching `query`, only from the given groups; `total` counts only those."""
        if kind is not None:
            _check_kind(kind)
        group_ids = sorted(set(visible_group_ids))
        if not query.strip() or not group_ids:
            return SearchResults(total=0, hits=[])
        self._index.reload()
        searcher = self._index.searcher()
        schema = self._index.schema
        text_query = self._parse(query)
        clauses = [
            (tantivy.Occur.Must, text_query),
            (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "group_id", group_ids)),
        ]
        if kind is not None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(schema, "kind", kind)))
        result = searcher.search(tantivy.Query.boolean_query(clauses), limit=limit, offset=offset)
        snippets = tantivy.SnippetGenerator.create(searcher, text_query, schema, "body")
        snippets.set_max_num_chars(SNIPPET_CHARS)
        hits = [_hit(searcher.doc(address), score, snippets) for score, address in result.hits]
        return SearchResults(total=result.count, hits=hits)

    def _parse(self, query: str) -> tantivy.Query:
        """Tantivy's query language, all words required.

        A query Tantivy rejects is parsed leniently, after turning colons that do not follow
        a search field into spaces: `glasvezel:` or `om 10:30` mean words, not fields.
        """
        options = dict(
            default_field_names=SEARCH_FIELDS,
            field_boosts=FIELD_BOOSTS,
            conjunction_by_default=True,
        )
        try:
            return self._index.parse_query(query, **options)
        except ValueError:
            words = _STRAY_COLON.sub(lambda m: m[0] if m[1] in SEARCH_FIELDS else m[1] + " ", query)
            parsed, _errors = self._index.parse_query_lenient(words, **options)
            return parsed

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """A writer that commits on clean exit, rolls back on error, and always lets go."""
        writer = self._acquire_writer()
        try:
            yield writer
        except BaseException:
            writer.rollback()
            raise
        else:
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._index.reload()

    def _acquire_writer(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                return self._index.writer(WRITER_HEAP_BYTES, num_threads=1)
            except ValueError as error:
                if "LockBusy" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"the search index at {self._path} is locked by another writer "
                        f"for more than {self.lock_timeout:g} seconds"
                    ) from error
            time.sleep(LOCK_RETRY_SECONDS)


def _tantivy_index(path: Path | None, reuse: bool) -> tantivy.Index:
    index = tantivy.Index(build_schema(), path=None if path is None else str(path), reuse=reuse)
    index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
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
    document.add_text("title", item.title)
    document.add_text("body", item.body)
    document.add_text("author", item.author_name)
    document.add_text("author", item.author_email)
    document.add_date("created_at", item.created_at)
    return document


def _hit(document: tantivy.Document, score: float, snippets: tantivy.SnippetGenerator) -> SearchHit:
    snippet = snippets.snippet_from_doc(document)
    if snippet.highlighted():
        plain, marked = snippet.fragment(), snippet.to_html()
    else:
        plain = _lead(document.get_first("body") or "")
        marked = html.escape(plain)
    return SearchHit(
        kind=document.get_first("kind"),
        id=document.get_first("id"),
        post_id=document.get_first("post_id"),
        group_id=document.get_first("group_id"),
        title=document.get_first("title") or "",
        snippet=plain,
        snippet_html=marked,
        score=float(score),
    )


def _lead(body: str) -> str:
    """The start of a body that did not match itself, cut at a word boundary."""
    if len(body) <= SNIPPET_CHARS:
        return body.strip()
    cut = body[:SNIPPET_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + " …"
