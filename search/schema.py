"""The shape of the Tantivy index: its fields, its text analyzers and its version.

Tantivy stores the field list on disk but not the analyzer behind a tokenizer name, so any
change here, to a field or to an analyzer, must bump `SCHEMA_VERSION`: an index built
under another version is recreated empty and flagged for a rebuild from the database.

Text is indexed twice: as written (accents folded) in `title`/`body`, which are stored and
give snippets, suggestions, "did you mean" and typo-tolerant matches, and stemmed in the one
field of the item's language (`text_nl`, `text_en`), so `vergadering` finds `vergaderingen`
and `modem` finds `modems`. That field holds the title three times, the body and the extra
text, each as a value of its own so that no phrase runs from one into the next. A query is
analyzed for both languages, because it is parsed against both fields.
"""

from __future__ import annotations

import tantivy

from search.documents import KEYED_AS
from search.language import LANGUAGES

SCHEMA_VERSION = 6

TEXT_ANALYZER = "plein_text"


def stemmed_analyzer_name(language: str) -> str:
    return f"plein_{language}"


def stemmed_field(language: str) -> str:
    return f"text_{language}"


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", tokenizer_name="raw")
    builder.add_text_field("kind", stored=True, fast=True, tokenizer_name="raw")
    builder.add_integer_field("id", stored=True, indexed=True)
    builder.add_integer_field("post_id", stored=True, indexed=True)
    builder.add_integer_field("group_id", stored=True, indexed=True, fast=True)
    builder.add_text_field("group", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("body", stored=True, tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("extra", tokenizer_name=TEXT_ANALYZER)
    for language in LANGUAGES:
        builder.add_text_field(stemmed_field(language), tokenizer_name=stemmed_analyzer_name(language))
    builder.add_text_field("author", tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("author_email", stored=True, fast=True, tokenizer_name="raw")
    builder.add_text_field("tag", tokenizer_name="raw")
    builder.add_text_field("tag_name", fast=True, tokenizer_name="raw")
    """A post's or comment's tags as given, unfolded, for the tag facet; `tag` holds them folded for `tag:`."""
    builder.add_text_field("has", tokenizer_name="raw")
    builder.add_text_field("lang", stored=True, tokenizer_name="raw")
    builder.add_bytes_field("profile", stored=True, indexed=False)
    """A person's profile fields as JSON, stored only: the hit says which of them matched (search/index.py)."""
    builder.add_date_field("created_at", stored=True, indexed=True, fast=True)
    builder.add_integer_field("timestamp", fast=True)
    """`created_at` in microseconds, for sorting: date fast fields keep only whole seconds."""
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


def stemmed_analyzer(language: str) -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer(LANGUAGES[language]))
        .build()
    )


def analyzers() -> dict[str, tantivy.TextAnalyzer]:
    return {TEXT_ANALYZER: text_analyzer()} | {
        stemmed_analyzer_name(language): stemmed_analyzer(language) for language in LANGUAGES
    }


def doc_key(kind: str, id: int) -> str:
    """The unique key of one indexed item, e.g. `post:12`; a status is keyed as the post it is."""
    return f"{KEYED_AS.get(kind, kind)}:{id}"
