import json
import threading
import time
from datetime import datetime

import pytest

from search.documents import IndexedItem
from search.index import (
    CURRENT,
    FEW_GROUPS,
    RELOAD_EVERY_SECONDS,
    STATE_FILE,
    Changes,
    IndexBusyError,
    IndexUnavailable,
    SearchIndex,
)
from search.schema import SCHEMA_VERSION


def item(kind="post", id=1, post_id=None, group_id=1, title="", body="", author="Jan de Vries"):
    return IndexedItem(
        kind=kind,
        id=id,
        post_id=id if post_id is None else post_id,
        group_id=group_id,
        title=title,
        body=body,
        author_name=author,
        author_email=f"{author.split()[0].lower()}@example.nl",
        created_at=datetime(2024, 5, 1, 12, 0),
    )


def keys(results):
    return sorted((hit.kind, hit.id) for hit in results.hits)


@pytest.fixture
def index():
    return SearchIndex.in_memory()


def test_words_are_found_in_title_body_and_author(index):
    index.upsert([
        item(id=1, title="Glasvezel in de straat"),
        item(id=2, body="De glasvezel ligt er"),
        item(id=3, author="Glasvezel Jansen"),
        item(id=4, body="Iets anders"),
    ])
    assert keys(index.search("glasvezel", {1})) == [("post", 1), ("post", 2), ("post", 3)]


def test_all_words_must_match(index):
    index.upsert([item(id=1, body="glasvezel modem"), item(id=2, body="glasvezel alleen")])
    assert keys(index.search("glasvezel modem", {1})) == [("post", 1)]


def test_title_matches_rank_above_body_matches(index):
    index.upsert([item(id=1, body="over de vergadering"), item(id=2, title="vergadering")])
    assert [hit.id for hit in index.search("vergadering", {1}).hits] == [2, 1]


def test_accents_and_case_are_ignored(index):
    index.upsert([item(id=1, body="Het CAFÉ op de hoek")])
    assert index.search("cafe", {1}).total == 1
    assert index.search("Café", {1}).total == 1


def test_private_group_items_are_not_counted_for_outsiders(index):
    index.upsert([
        item(id=1, group_id=1, body="vergadering open"),
        item(id=2, group_id=2, body="vergadering geheim"),
        item(id=3, group_id=3, body="vergadering bestuur"),
    ])
    results = index.search("vergadering", {1, 3})
    assert results.total == 2
    assert keys(results) == [("post", 1), ("post", 3)]


@pytest.mark.parametrize("visible, hidden", [
    ({1, 3, 4}, {2}),  # fewer hidden than visible: the filter leaves the hidden groups out
    ({1}, {2, 3, 4}),  # more hidden: the filter keeps the visible ones, as without `hidden_group_ids`
    ({1, 2, 3, 4}, set()),  # everything visible
])
def test_naming_the_hidden_groups_finds_exactly_what_the_visible_ones_allow(index, visible, hidden):
    index.upsert([item(id=n, group_id=n, title=f"Vergadering {n}", body="vergadering") for n in (1, 2, 3, 4)])
    index.upsert([item(kind="person", id=9, post_id=0, group_id=0, title="Vergadering Jansen")])
    by_visible = index.search("vergadering", visible)
    by_both = index.search("vergadering", visible, hidden_group_ids=hidden)
    assert keys(by_both) == keys(by_visible) == sorted([("person", 9), *(("post", n) for n in visible)])
    assert by_both.total == by_visible.total and by_both.facets == by_visible.facets
    suggested = {s.title for s in index.suggest("vergad", visible, hidden_group_ids=hidden)}
    assert suggested == {f"Vergadering {n}" for n in visible} | {"Vergadering Jansen"}


def test_many_hidden_groups_are_left_out_as_exactly_as_a_few(index):
    groups = range(1, 2 * FEW_GROUPS + 4)
    index.upsert([item(id=n, group_id=n, body="vergadering") for n in groups])
    hidden = set(range(2, FEW_GROUPS + 3))
    visible = set(groups) - hidden
    assert FEW_GROUPS < len(hidden) < len(visible), "excluded as a set, not term by term"
    assert keys(index.search("vergadering", visible, hidden_group_ids=hidden)) == sorted(("post", n) for n in visible)


def test_a_group_newer_than_the_caller_knows_stays_hidden(index):
    index.upsert([item(id=n, group_id=n, body="vergadering") for n in (1, 2, 3, 4, 5)])
    # The caller knew groups 1 to 4 when it asked; group 5 was made (private) since.
    assert keys(index.search("vergadering", {1, 2, 3}, hidden_group_ids={4})) == [("post", 1), ("post", 2), ("post", 3)]


def test_a_group_named_both_visible_and_hidden_stays_hidden(index):
    index.upsert([item(id=n, group_id=n, body="vergadering") for n in (1, 2, 3)])
    assert keys(index.search("vergadering", {1, 2, 3}, hidden_group_ids={3})) == [("post", 1), ("post", 2)]
    assert keys(index.search("vergadering", {1, 2}, hidden_group_ids={2, 3})) == [("post", 1)]


def test_an_empty_visible_set_finds_nothing(index):
    index.upsert([item(id=1, body="vergadering")])
    assert index.search("vergadering", set()).total == 0


def test_kind_filter_keeps_only_that_kind(index):
    index.upsert([
        item(kind="post", id=1, body="begroting"),
        item(kind="comment", id=7, post_id=1, body="begroting klopt"),
        item(kind="document", id=9, post_id=1, body="begroting 2024"),
    ])
    results = index.search("begroting", {1}, kind="comment")
    assert results.total == 1
    assert keys(results) == [("comment", 7)]


def test_an_unknown_kind_is_rejected(index):
    with pytest.raises(ValueError):
        index.search("begroting", {1}, kind="poll")


def test_limit_and_offset_page_through_hits_with_the_same_total(index):
    index.upsert(item(id=n, body=f"agenda punt {n}") for n in range(1, 6))
    first = index.search("agenda", {1}, limit=3)
    second = index.search("agenda", {1}, limit=3, offset=3)
    assert (first.total, second.total) == (5, 5)
    assert (len(first.hits), len(second.hits)) == (3, 2)
    assert {hit.id for hit in first.hits + second.hits} == {1, 2, 3, 4, 5}


def test_upsert_replaces_the_previous_version(index):
    index.upsert([item(id=1, title="Oude titel", body="concept")])
    index.upsert([item(id=1, title="Nieuwe titel", body="definitief")])
    assert index.search("concept", {1}).total == 0
    results = index.search("definitief", {1})
    assert results.total == 1
    assert results.hits[0].title == "Nieuwe titel"


def test_items_of_different_kinds_with_the_same_id_are_kept_apart(index):
    index.upsert([
        item(kind="post", id=5, body="fiets"),
        item(kind="comment", id=5, post_id=1, body="fiets"),
    ])
    assert keys(index.search("fiets", {1})) == [("comment", 5), ("post", 5)]


def test_delete_removes_only_the_named_items(index):
    index.upsert([item(kind="comment", id=n, post_id=1, body="reactie") for n in (1, 2, 3)])
    index.delete("comment", [1, 3])
    assert keys(index.search("reactie", {1})) == [("comment", 2)]


def test_delete_post_removes_its_comments_and_documents(index):
    index.upsert([
        item(kind="post", id=1, body="kascommissie"),
        item(kind="comment", id=10, post_id=1, body="kascommissie akkoord"),
        item(kind="document", id=20, post_id=1, body="kascommissie verslag"),
        item(kind="post", id=2, body="kascommissie volgend jaar"),
    ])
    index.delete_post(1)
    assert keys(index.search("kascommissie", {1})) == [("post", 2)]


@pytest.mark.parametrize(
    "query",
    ['glasvezel "modem', "glasvezel (", "glasvezel)", "glasvezel:", "glasvezel 10:30", ": glasvezel"],
)
def test_bad_query_syntax_falls_back_to_lenient_parse(index, query):
    index.upsert([item(id=1, body="glasvezel en modem om 10:30"), item(id=2, body="koper")])
    assert keys(index.search(query, {1})) == [("post", 1)]


def test_field_names_still_work_when_the_rest_of_the_query_is_broken(index):
    index.upsert([
        item(id=1, title="modem", body="glasvezel"),
        item(id=2, title="glasvezel", body="modem"),
    ])
    assert keys(index.search('title:modem "glasvezel', {1})) == [("post", 1)]


def test_phrase_and_exclusion(index):
    index.upsert([
        item(id=1, body="de modem is kapot"),
        item(id=2, body="kapot is de modem"),
        item(id=3, body="de modem werkt, glasvezel ook"),
    ])
    assert keys(index.search('"modem is kapot"', {1})) == [("post", 1)]
    assert keys(index.search("modem -glasvezel", {1})) == [("post", 1), ("post", 2)]


def test_a_blank_query_finds_nothing(index):
    index.upsert([item(id=1, body="iets")])
    assert index.search("   ", {1}).total == 0


def test_snippet_highlights_the_match(index):
    index.upsert([item(id=1, body="Zet de <modem> uit & wacht. De modem start dan opnieuw op.")])
    hit = index.search("modem", {1}).hits[0]
    assert "Zet de <modem> uit & wacht." in hit.snippet
    assert "<b>" not in hit.snippet
    assert "<b>modem</b>" in hit.snippet_html
    assert "&lt;<b>modem</b>&gt;" in hit.snippet_html
    assert "&amp;" in hit.snippet_html


def test_title_only_match_snippets_the_start_of_the_body(index):
    body = "Beste buren, " + "er is veel te vertellen over de straat. " * 20
    index.upsert([item(id=1, title="Nieuwsbrief", body=body)])
    hit = index.search("nieuwsbrief", {1}).hits[0]
    assert hit.snippet.startswith("Beste buren,")
    assert len(hit.snippet) <= 202
    assert "<b>" not in hit.snippet_html


def test_rebuild_replaces_everything_and_reports_progress(index):
    index.upsert([item(id=99, body="verouderd")])
    seen = []
    count = index.rebuild((item(id=n, body="nieuw") for n in range(1, 4)), progress=seen.append)
    assert count == 3
    assert seen == [3]
    assert index.search("verouderd", {1}).total == 0
    assert index.search("nieuw", {1}).total == 3
    assert not index.needs_rebuild


def test_a_failed_rebuild_leaves_the_index_as_it_was(index):
    index.upsert([item(id=1, body="bewaard")])

    def broken_items():
        yield item(id=2, body="half")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        index.rebuild(broken_items())
    assert keys(index.search("bewaard", {1})) == [("post", 1)]
    assert index.search("half", {1}).total == 0


def test_a_reader_sees_another_writers_commit_once_it_looks_again(tmp_path):
    writer = SearchIndex.open(tmp_path)
    reader = SearchIndex.open_reader(tmp_path)
    assert reader.search("notulen", {1}).total == 0
    writer.upsert([item(id=1, body="notulen van maandag")])
    assert writer.search("notulen", {1}).total == 1, "a writer sees its own commit at once"
    time.sleep(RELOAD_EVERY_SECONDS)
    assert reader.search("notulen", {1}).total == 1


def current_state(path):
    return path / (path / CURRENT).read_text() / STATE_FILE


def test_a_new_index_needs_a_rebuild_until_one_completes(tmp_path):
    assert SearchIndex.open(tmp_path).needs_rebuild
    assert SearchIndex.open(tmp_path).needs_rebuild
    SearchIndex.open(tmp_path).rebuild([item(id=1, body="klaar")])
    reopened = SearchIndex.open(tmp_path)
    assert not reopened.needs_rebuild
    assert reopened.search("klaar", {1}).total == 1


def test_schema_version_change_flags_rebuild(tmp_path):
    SearchIndex.open(tmp_path).rebuild([item(id=1, body="oud")])
    older = {"schema_version": SCHEMA_VERSION - 1, "complete": True}
    current_state(tmp_path).write_text(json.dumps(older))
    reopened = SearchIndex.open(tmp_path)
    assert reopened.needs_rebuild
    assert reopened.search("oud", {1}).total == 0


def test_a_corrupt_index_is_recreated_empty_and_flagged(tmp_path):
    SearchIndex.open(tmp_path).rebuild([item(id=1, body="oud")])
    current_state(tmp_path).with_name("meta.json").write_text("geen json")
    reopened = SearchIndex.open(tmp_path)
    assert reopened.needs_rebuild
    assert reopened.search("oud", {1}).total == 0
    reopened.upsert([item(id=2, body="nieuw")])
    assert reopened.search("nieuw", {1}).total == 1


def hold_writer_lock(path):
    """Starts a write in a thread that keeps the writer lock until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    def slow_items():
        yield item(id=1, body="eerste")
        held.set()
        release.wait(10)

    thread = threading.Thread(target=SearchIndex.open(path).upsert, args=(slow_items(),))
    thread.start()
    assert held.wait(10)
    return thread, release


def test_a_busy_writer_lock_is_waited_for(tmp_path):
    other = SearchIndex.open(tmp_path)
    thread, release = hold_writer_lock(tmp_path)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    other.upsert([item(id=2, body="tweede")])
    thread.join()
    assert time.monotonic() - started >= 0.25
    assert keys(other.search("eerste OR tweede", {1})) == [("post", 1), ("post", 2)]


def test_a_writer_lock_held_too_long_raises_index_busy(tmp_path):
    other = SearchIndex.open(tmp_path, lock_timeout=0.2)
    thread, release = hold_writer_lock(tmp_path)
    try:
        with pytest.raises(IndexBusyError):
            other.upsert([item(id=2, body="tweede")])
    finally:
        release.set()
        thread.join()


def test_a_reader_waits_for_the_indexer_to_create_the_index_and_never_creates_it(tmp_path):
    started = time.monotonic()
    with pytest.raises(IndexUnavailable, match="plein indexer"):
        SearchIndex.open_reader(tmp_path / "index", wait=0.3)
    assert time.monotonic() - started >= 0.3
    assert not (tmp_path / "index").exists()
    threading.Timer(0.3, lambda: SearchIndex.open(tmp_path / "index").upsert([item(id=1, body="eindelijk")])).start()
    reader = SearchIndex.open_reader(tmp_path / "index", wait=10)
    time.sleep(RELOAD_EVERY_SECONDS)
    assert reader.search("eindelijk", {1}).total == 1


def test_a_reader_cannot_write(tmp_path):
    SearchIndex.open(tmp_path)
    with pytest.raises(PermissionError, match="opened for reading"):
        SearchIndex.open_reader(tmp_path).upsert([item(id=1, body="nee")])


def test_a_search_during_a_rebuild_answers_from_the_old_index_and_the_new_one_after_the_swap(tmp_path):
    writer = SearchIndex.open(tmp_path)
    writer.rebuild([item(id=1, body="oud bericht")])
    reader = SearchIndex.open_reader(tmp_path)
    old_generation = (tmp_path / CURRENT).read_text()
    during = {}

    def items_while_the_indexer_goes_on():
        yield item(id=1, body="oud bericht")
        yield item(id=2, body="nieuw bericht")
        during["searched"] = keys(reader.search("bericht", {1}))
        writer.write(posts={3: [item(id=3, body="bericht van tijdens de herbouw")]})
        during["flushed"] = keys(reader.search("herbouw", {1}))

    asked_again = []

    def read_again(posts, others):
        asked_again.append((posts, others))
        return Changes({post_id: [item(id=post_id, body="bericht van tijdens de herbouw")] for post_id in posts}, [], [])

    SearchIndex.open(tmp_path).rebuild(items_while_the_indexer_goes_on(), catch_up=read_again)
    assert during == {"searched": [("post", 1)], "flushed": [("post", 3)]}
    assert asked_again == [({3}, set())]
    assert (tmp_path / CURRENT).read_text() != old_generation
    assert not (tmp_path / old_generation).exists()
    time.sleep(RELOAD_EVERY_SECONDS)
    assert keys(reader.search("bericht", {1})) == [("post", 1), ("post", 2), ("post", 3)]
    writer.upsert([item(id=4, body="bericht na de herbouw")])
    assert keys(SearchIndex.open_reader(tmp_path).search("bericht", {1})) == [
        ("post", 1), ("post", 2), ("post", 3), ("post", 4)
    ]


def test_a_failed_rebuild_on_disk_leaves_the_current_generation_and_removes_its_own(tmp_path):
    index = SearchIndex.open(tmp_path)
    index.upsert([item(id=1, body="bewaard")])

    def broken_items():
        yield item(id=2, body="half")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        index.rebuild(broken_items())
    assert [path.name for path in tmp_path.iterdir() if path.is_dir()] == [(tmp_path / CURRENT).read_text()]
    assert keys(SearchIndex.open_reader(tmp_path).search("bewaard OR half", {1})) == [("post", 1)]


def test_an_index_from_before_generations_is_replaced_and_its_files_removed(tmp_path):
    (tmp_path / "meta.json").write_text("{}")
    (tmp_path / STATE_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION, "complete": True}))
    index = SearchIndex.open(tmp_path)
    assert index.needs_rebuild
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == [CURRENT, "write.lock"]
