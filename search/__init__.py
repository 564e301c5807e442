"""The one search index of Plein, on Tantivy.

This is the only package that imports tantivy. It takes its own `IndexedItem` records as
input and returns plain `SearchResults`; it knows nothing of the database or the web.
"""

from search.documents import IndexedItem, SearchHit, SearchResults

__all__ = ["IndexedItem", "SearchHit", "SearchResults"]
