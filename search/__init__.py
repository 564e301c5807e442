"""The one search index of Plein, on Tantivy.

This is the only package that imports tantivy. It takes its own `IndexedItem` records as
input and returns plain `SearchResults`, `Suggestion`s and related hits; it knows nothing
of the database or the web. Who may see what arrives as a set of group ids and is applied
inside every Tantivy query.
"""

from search.documents import EVERYONE, FacetCount, IndexedItem, MatchedField, SearchHit, SearchResults, Suggestion

__all__ = ["EVERYONE", "FacetCount", "IndexedItem", "MatchedField", "SearchHit", "SearchResults", "Suggestion"]
