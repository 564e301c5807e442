"""The one search box: filters, languages, typos, facets, sorting, suggestions and related posts."""

from datetime import UTC, datetime, timedelta

import pytest

from search.documents import EVERYONE, IndexedItem
from search.index import SearchIndex
from search.language import detect_language
from search.query import parse

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def item(kind="post", id=1, post_id=None, group_id=1, title="", body="", author="Jan de Vries",
         created_at=NOW - timedelta(days=400), **extra):
    return IndexedItem(
        kind=kind, id=id, post_id=id if post_id is None else post_id, group_id=group_id,
        title=title, body=body, author_name=author,
        author_email=f"{author.split()[0].lower()}@example.nl", created_at=created_at,
        group_slug=extra.pop("group_slug", f"group{group_id}"), **extra,
    )


def ids(results):
    return sorted(hit.id for hit in results.hits)


@pytest.fixture
def index():
    return SearchIndex.in_memory()


def test_the_query_parser_takes_filters_and_exclusions_out_and_keeps_words_and_phrases():
    parsed = parse('glasvezel "in de straat" -koper kind:document -group:board from:alice OR tag:#Modems')
    assert (parsed.text, parsed.excluded) == ('glasvezel "in de straat"', ["koper"])
    assert [(f.name, f.value, f.negated) for f in parsed.filters] == [
        ("kind", "document", False), ("group", "board", True), ("from", "alice", False), ("tag", "modems", False),
    ]
    assert parsed.words == ["glasvezel"]


def test_a_filter_with_a_meaningless_value_stays_a_word():
    parsed = parse("before:morgen vergadering after:2026-13-45")
    assert parsed.filters == []
    assert parsed.text == "morgen vergadering 2026-13-45"


def test_dutch_and_english_are_detected():
    assert detect_language("De glasvezel ligt nog niet in onze straat, wanneer komt de aannemer?") == "nl"
    assert detect_language("The fiber has not been laid in our street yet, when is the contractor coming?") == "en"
    assert detect_language("modem") is None


def test_dutch_words_find_their_inflections(index):
    index.upsert([item(id=1, body="De vergaderingen van het team worden voortaan op dinsdag gehouden.")])
    assert ids(index.search("vergadering", {1})) == [1]


def test_english_words_find_their_inflections(index):
    index.upsert([item(id=1, body="The modems were restarting every night after the firmware update.")])
    assert ids(index.search("modem restarted", {1})) == [1]


def test_items_are_stemmed_in_their_own_language(index):
    index.upsert([
        item(id=1, body="The meetings about the new office building are planned for next week."),
        item(id=2, body="De vergaderingen over het nieuwe kantoor worden volgende week gepland."),
    ])
    assert index.search("fiets", {1}).total == 0
    assert ids(index.search("meeting", {1})) == [1]
    assert ids(index.search("vergadering", {1})) == [2]


def test_field_filters_narrow_by_kind_group_author_tag_date_and_attachment(index):
    index.upsert([
        item(id=1, group_id=1, group_slug="engineering", body="modem #storing", tags=("storing",), author="Alice Aalders",
             created_at=datetime(2025, 6, 1, tzinfo=UTC), has_attachment=True),
        item(id=2, group_id=2, group_slug="sales", body="modem offerte", author="Bob Bos",
             created_at=datetime(2026, 2, 1, tzinfo=UTC)),
        item(kind="document", id=3, post_id=1, group_id=1, group_slug="engineering", title="handleiding.pdf",
             body="modem handleiding", author="Alice Aalders", created_at=datetime(2025, 6, 1, tzinfo=UTC),
             has_attachment=True),
    ])
    visible = {1, 2}
    assert ids(index.search("modem kind:document", visible)) == [3]
    assert ids(index.search("modem group:engineering", visible)) == [1, 3]
    assert ids(index.search("modem -group:engineering", visible)) == [2]
    assert ids(index.search("modem from:alice", visible)) == [1, 3]
    assert ids(index.search("modem from:bob@example.nl", visible)) == [2]
    assert ids(index.search("modem tag:storing", visible)) == [1]
    assert ids(index.search("modem before:2026-01-01", visible)) == [1, 3]
    assert ids(index.search("modem after:2026-01", visible)) == [2]
    assert ids(index.search("has:attachment kind:post", visible)) == [1]


def test_or_between_words(index):
    index.upsert([item(id=1, body="glasvezel"), item(id=2, body="koperkabel"), item(id=3, body="satelliet")])
    assert ids(index.search("glasvezel OR koperkabel", {1})) == [1, 2]


def test_facets_count_every_visible_match_by_kind_group_and_author(index):
    index.upsert([
        item(id=1, group_id=1, body="begroting", author="Alice Aalders"),
        item(kind="comment", id=2, post_id=1, group_id=1, body="begroting ok", author="Bob Bos"),
        item(id=3, group_id=2, body="begroting geheim", author="Carol Claes"),
        item(id=4, group_id=3, body="begroting ook", author="Alice Aalders"),
    ])
    results = index.search("begroting", {1, 3}, limit=1)
    facets = {name: {f.value: f.count for f in counts} for name, counts in results.facets.items()}
    assert results.total == 3
    assert facets["kind"] == {"post": 2, "comment": 1}
    assert facets["group"] == {"1": 2, "3": 1}
    assert facets["author"] == {"alice@example.nl": 2, "bob@example.nl": 1}


def test_newest_first_sorting(index):
    index.upsert([
        item(id=1, title="offerte", created_at=NOW - timedelta(days=3)),
        item(id=2, body="offerte", created_at=NOW - timedelta(days=1)),
        item(id=3, body="offerte offerte", created_at=NOW - timedelta(days=2)),
    ])
    newest = index.search("offerte", {1}, sort="newest")
    assert [hit.id for hit in newest.hits] == [2, 3, 1] and newest.total == 3


def test_recent_items_rank_above_equally_good_old_ones(index):
    index.upsert([
        item(id=1, body="jaarplanning team", created_at=NOW - timedelta(days=900)),
        item(id=2, body="jaarplanning team", created_at=NOW - timedelta(days=5)),
    ])
    assert [hit.id for hit in index.search("jaarplanning", {1}, now=NOW).hits] == [2, 1]


def test_each_recency_boost_adds_to_the_score_of_the_items_young_enough_for_it(index):
    index.upsert([
        item(id=1, body="jaarplanning team", created_at=NOW - timedelta(days=900)),
        item(id=2, body="jaarplanning team", created_at=NOW - timedelta(days=200)),
        item(id=3, body="jaarplanning team", created_at=NOW - timedelta(days=5)),
    ])
    scores = {hit.id: hit.score for hit in index.search("jaarplanning", {1}, now=NOW).hits}
    assert scores[3] - scores[2] == pytest.approx(1.0, abs=1e-4), "younger than 30 days"
    assert scores[2] - scores[1] == pytest.approx(0.5, abs=1e-4), "younger than a year"


def test_a_typo_gets_a_fuzzy_retry_and_a_did_you_mean(index):
    index.upsert([item(id=1, body="De glasvezel wordt volgende week aangelegd.")])
    results = index.search("glasvezle", {1})
    assert results.fuzzy
    assert ids(results) == [1]
    assert results.did_you_mean == "glasvezel"


def test_the_retry_searches_as_the_did_you_mean_has_it_keeping_the_filters(index):
    index.upsert([
        item(id=1, body="De glasvezel wordt aangelegd."),
        item(kind="document", id=2, post_id=1, body="Tekening van de glasvezel."),
        item(kind="document", id=3, post_id=1, body="Glasvezen heet dat niet."),
    ])
    results = index.search("glasvezle kind:document", {1})
    assert (ids(results), results.did_you_mean, results.fuzzy) == ([2], "glasvezel kind:document", True)
    assert "<b>glasvezel</b>" in results.hits[0].snippet_html


def test_a_typo_in_the_first_letter_has_no_did_you_mean_but_still_a_fuzzy_retry(index):
    index.upsert([item(id=1, body="De glasvezel wordt volgende week aangelegd.")])
    results = index.search("lgasvezel", {1})
    assert (ids(results), results.did_you_mean, results.fuzzy) == ([1], None, True)


def test_did_you_mean_finds_a_word_only_written_in_a_title(index):
    index.upsert([item(kind="person", id=7, post_id=0, group_id=EVERYONE, title="Gerrit Hoogendijk", body="Netwerkbeheer")])
    results = index.search("hoogendjik", {1})
    assert (results.did_you_mean, ids(results)) == ("hoogendijk", [7])


def test_did_you_mean_never_offers_a_word_only_found_in_a_private_group(index):
    index.upsert([item(id=1, group_id=2, body="stroomlijnplan"), item(id=2, group_id=1, body="iets anders")])
    results = index.search("stroomlijnpln", {1})
    assert (results.total, results.did_you_mean, results.fuzzy) == (0, None, False)


def test_snippets_and_titles_highlight_stemmed_matches(index):
    index.upsert([item(id=1, title="Vergaderingen op dinsdag", body="De vergaderingen van het team zijn voortaan op dinsdag.")])
    hit = index.search("vergadering", {1}).hits[0]
    assert "<b>vergaderingen</b>" in hit.snippet_html
    assert "<b>Vergaderingen</b>" in hit.title_html


def test_people_and_groups_are_found_by_profile_and_expertise(index):
    index.upsert([
        item(kind="person", id=7, post_id=0, group_id=EVERYONE, title="Erin Ekker", author="Erin Ekker",
             body="Netwerkbeheerder, Infra", tags=("glasvezel",), extra="kabels glasvezel aansluiting"),
        item(kind="group", id=2, post_id=0, group_id=2, title="Board", body="Het bestuur"),
        item(kind="group", id=1, post_id=0, group_id=1, title="Engineering", body="Techniek en glasvezel"),
    ])
    assert [(h.kind, h.id) for h in index.search("glasvezel", set()).hits] == [("person", 7)]
    assert sorted((h.kind, h.id) for h in index.search("glasvezel", {1}).hits) == [("group", 1), ("person", 7)]
    assert ids(index.search("tag:glasvezel kind:person", set())) == [7]
    assert index.search("bestuur", {1}).total == 0
    assert ids(index.search("bestuur", {2})) == [2]


def test_suggestions_complete_titles_people_and_groups_the_reader_may_see(index):
    index.upsert([
        item(id=1, group_id=1, title="Glasvezel in de straat", body="x"),
        item(id=2, group_id=2, title="Glasplaten bestellen", body="x"),
        item(kind="comment", id=3, post_id=1, group_id=1, title="Re: Glasvezel in de straat", body="x"),
        item(kind="person", id=4, post_id=0, group_id=EVERYONE, title="Glenn Gouda", body=""),
        item(kind="group", id=1, post_id=0, group_id=1, title="Glazenwassers", body=""),
    ])
    found = index.suggest("gl", {1})
    assert sorted((s.kind, s.id) for s in found) == [("group", 1), ("person", 4), ("post", 1)]
    assert [s.title for s in index.suggest("glasvezel in de st", {1})] == ["Glasvezel in de straat"]
    assert index.suggest("   ", {1}) == []


def test_related_posts_are_alike_visible_and_never_the_post_itself(index):
    index.upsert([
        item(id=1, title="Glasvezel aanleg", body="glasvezel kabel aanleg in de straat graafwerk"),
        item(id=2, title="Graafwerk glasvezel", body="graafwerk voor de glasvezel kabel"),
        item(id=3, group_id=2, title="Glasvezel geheim", body="glasvezel kabel aanleg graafwerk"),
        item(id=4, title="Kantine", body="de soep van vandaag"),
    ])
    assert [hit.id for hit in index.related(1, {1})] == [2]
    assert index.related(99, {1}) == []
