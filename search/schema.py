"""The shape of the Tantivy index: its fields, its text analyzer and its version.

Tantivy stores the field list on disk but not the analyzer behind a tokenizer name, so any
change here, to a field or to `text_analyzer`, must bump `SCHEMA_VERSION`: an index built
under another version is recreated empty and flagged for a rebuild from the database.
"""

from __future__ import annotations

import tantivy

SCHEMA_VERSION = 1

TEXT_ANALYZER = "plein_text"


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", tokenizer_name="raw")
    builder.add_text_field("kind", stored=True, tokenizer_name="raw")
    builder.add_integer_field("id", stored=True, indexed=True)
    builder.add_integer_field("post_id", stored=True, indexed=True)
    builder.add_integer_field("group_id", stored=True, indexed=True)
    builder.add_text_field("title", stored=True, tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("body", stored=True, tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("author", tokenizer_name=TEXT_ANALYZER)
    builder.add_date_field("created_at", stored=True, indexed=True, fast=True)
    return builder.build()


def text_analyzer() -> tantivy.TextAnalyzer:
    """Tantivy's default analyzer plus accent folding, so `cafe` finds `Café`."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def doc_key(kind: str, id: int) -> str:
    """The unique key of one indexed item, e.g. `post:12`."""
    return f"{kind}:{id}"
