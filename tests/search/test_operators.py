"""Every operator the search box documents, over Dutch and English items, each stemmed in its own field.

README's JSON API names them: words, "phrases", -exclusions, OR, kind:, group:, from:, tag:,
before:, after: and has:attachment. An exclusion removes every item the excluded word or phrase
would find on its own, whatever else the query says and however it is retried (issue 15, item 17).
"""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.documents import IndexedItem
from search.index import SearchIndex
from search.language import detect_language

ENGINEERING, SALES = 1, 2
VISIBLE = {ENGINEERING, SALES}


def item(id, kind, group_id, author, day, body, **extra):
    return IndexedItem(
        kind=kind, id=id, post_id=id if kind == "post" else 1, group_id=group_id, title="", body=body,
        author_name=author, author_email=f"{author.lower()}@example.nl", created_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
        group_slug={ENGINEERING: "engineering", SALES: "sales"}[group_id], **extra,
    )


DUTCH = [
    item(1, "post", ENGINEERING, "Alice", "2025-06-01",
         "De glasvezel in de wijk wordt volgende week aangelegd door de aannemers. #planning", has_attachment=True,
         tags=("planning",)),
    item(2, "comment", ENGINEERING, "Bob", "2025-07-01",
         "Ik las de glasvezel morgen in de wijkkast, daarna meet ik de verbinding nog een keer door."),
    item(3, "comment", ENGINEERING, "Bob", "2025-08-01",
         "Wij lassen de glasvezel bij de kast aan de Dorpsstraat, de aannemer komt op dinsdag."),
]
ENGLISH = [
    item(4, "post", SALES, "Carol", "2026-01-10",
         "The fibre connection in the street will be welded by the contractors next week. #planning",
         tags=("planning",)),
    item(5, "comment", SALES, "Dave", "2026-01-20",
         "We are welding the fibre splices tonight, the cabinet stays closed until the morning."),
    item(6, "post", SALES, "Carol", "2026-02-01",
         "Fibre orders for the new neighbourhood are coming in faster than expected this month.", has_attachment=True),
]


@pytest.fixture(scope="module")
def index():
    index = SearchIndex.in_memory()
    index.upsert(DUTCH + ENGLISH)
    return index


def ids(index, query):
    return sorted(hit.id for hit in index.search(query, VISIBLE, limit=50).hits)


def test_the_items_are_dutch_and_english_so_both_stemmed_fields_are_searched():
    assert {detect_language(i.body) for i in DUTCH} == {"nl"}
    assert {detect_language(i.body) for i in ENGLISH} == {"en"}


@pytest.mark.parametrize(("query", "expected"), [
    # words, all required, found through each language's stemmer
    ("glasvezel aannemer", [1, 3]),
    ("fibre weld", [4, 5]),
    ("contractor", [4]),
    # "phrases"
    ('"glasvezel in de wijk"', [1]),
    ('"fibre splices"', [5]),
    # -exclusions: of a word, stemmed (Dutch `las`, `lassen`; English `welded`, `welding`), and of a phrase
    ("glasvezel -lassen", [1]),
    ("glasvezel -las", [1]),
    ("fibre -welding", [6]),
    ("fibre -weld", [6]),
    ('glasvezel -"de wijkkast"', [1, 3]),
    ('fibre -"the cabinet"', [4, 6]),
    ("glasvezel -lassen -aannemer", []),
    # OR, with and without exclusions, which hold for the whole query
    ("aannemer OR contractor", [1, 3, 4]),
    ("glasvezel OR fibre -lassen -welding", [1, 6]),
    ("glasvezel -lassen OR fibre", [1, 4, 5, 6]),
    ("fibre OR glasvezel -welded", [1, 2, 3, 6]),
    ("glasvezel AND NOT lassen", [1]),
    ("glasvezel NOT lassen", [1]),
    # kind:
    ("glasvezel kind:comment", [2, 3]),
    ("fibre -kind:comment", [4, 6]),
    ("kind:comment -lassen", [5]),
    # group:
    ("group:sales fibre", [4, 5, 6]),
    ("planning -group:engineering", [4]),
    ("-lassen group:engineering", [1]),
    # from:
    ("from:bob glasvezel", [2, 3]),
    ("fibre -from:dave", [4, 6]),
    ("from:carol@example.nl -orders", [4]),
    # tag:
    ("tag:planning", [1, 4]),
    ("tag:planning -welded", [1]),
    ("fibre -tag:planning", [5, 6]),
    # before: and after:
    ("glasvezel before:2025-07-15", [1, 2]),
    ("glasvezel after:2025-07", [2, 3]),
    ("fibre after:2026-01-15 -orders", [5]),
    ("fibre -after:2026-01-15", [4]),
    # has:attachment
    ("has:attachment", [1, 6]),
    ("has:attachment -glasvezel", [6]),
    ("fibre -has:attachment", [4, 5]),
])
def test_each_documented_operator_over_dutch_and_english_items(index, query, expected):
    assert ids(index, query) == expected


def test_a_typo_retry_keeps_the_exclusions(index):
    results = index.search("glasvezle -lassen", VISIBLE)
    assert (sorted(hit.id for hit in results.hits), results.fuzzy) == ([1], True)


def test_when_exclusions_leave_nothing_the_retry_brings_nothing_back(index):
    results = index.search("aannemer -wijk -dorpsstraat", VISIBLE)
    assert (results.total, results.hits) == (0, [])
    assert index.search("glasvezel -glasvezel", VISIBLE).total == 0


VOCABULARY = [
    "glasvezel", "aannemer", "lassen", "las", "wijk", "wijkkast", "dinsdag", "verbinding", "de",
    "fibre", "welding", "weld", "contractor", "cabinet", "street", "orders", "the", "planning",
]
WORDS = st.sampled_from(VOCABULARY)
FILTERS = st.sampled_from(["", "kind:comment", "-kind:post", "group:sales", "-group:sales", "has:attachment", "after:2025-07"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(WORDS, min_size=1, max_size=3), joined=st.sampled_from([" ", " OR "]),
    excluded=WORDS, phrase=st.booleans(), position=st.integers(0, 3), extra=FILTERS,
)
def test_an_excluded_word_never_comes_back_whatever_surrounds_it(index, words, joined, excluded, phrase, position, extra):
    exclusion = f'-"{excluded}"' if phrase else f"-{excluded}"
    parts = joined.join(words).split(" ")
    parts.insert(min(position, len(parts)), exclusion)
    query = " ".join([*parts, extra])
    found = set(ids(index, query))
    assert found.isdisjoint(ids(index, excluded)), query
    without = index.search(joined.join(words) + " " + extra, VISIBLE, limit=50)
    if not without.fuzzy and not index.search(query, VISIBLE).fuzzy:
        assert found <= {hit.id for hit in without.hits}, query
