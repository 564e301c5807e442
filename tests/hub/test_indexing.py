"""Index changes are written with the change, and flushed in batches: one commit for many, none lost."""

from datetime import timedelta

import pytest

from hub import jobs
from hub.models import Attachment, IndexPending, utcnow
from hub.services import accounts, attachments, groups, index_writer, indexing, posts, searching
from search import EVERYONE, index
from search.index import SearchUnavailable
from tests.support.hub import hub_context


@pytest.fixture(autouse=True)
def commit_at_once(monkeypatch):
    monkeypatch.setenv("PLEIN_INDEX_COMMIT_INTERVAL", "0")


@pytest.fixture
def hub(context, data_dir):
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
        engineering = groups.create_group(session, "engineering", "Engineering")
    index_writer.flush(context)
    return alice.id, engineering.id


def write_posts(context, hub, count, word="glasvezel"):
    alice_id, group_id = hub
    with context.session_scope() as session:
        alice, group = session.get(accounts.User, alice_id), session.get(groups.Group, group_id)
        return [posts.create_post(session, group, alice, f"Bericht {n}", f"Over {word} nummer {n}").id for n in range(count)]


def total(context, query):
    return context.index.search(query, [EVERYONE, *range(1, 10)]).total


def found_by_readers(context, query):
    """What a web process finds: it reads the index through a read-only handle of its own."""
    return context.search.search(query, [EVERYONE, *range(1, 10)]).total


def pending_rows(context):
    with context.session_scope() as session:
        return sorted((row.kind, row.item_id, row.version) for row in session.query(IndexPending))


def test_a_change_is_marked_in_its_own_transaction_and_a_rollback_marks_nothing(context, hub):
    [post_id] = write_posts(context, hub, 1)
    assert pending_rows(context) == [("post", post_id, 1)]
    with pytest.raises(RuntimeError), context.session_scope() as session:
        indexing.mark(session, "post", 12345)
        raise RuntimeError("the request failed")
    assert pending_rows(context) == [("post", post_id, 1)]


def test_a_transaction_that_marks_many_items_queues_one_flush(context, data_dir):
    with context.session_scope() as session:
        for n in range(1, 6):
            indexing.mark(session, "post", n)
        indexing.mark(session, "post", 1)
        assert [name for name, _ in jobs.queued(session)] == [indexing.FLUSH_TASK]
    assert pending_rows(context) == [("post", 1, 2), *(("post", n, 1) for n in range(2, 6))]


def test_marking_many_at_once_marks_each_once_and_bumps_those_already_waiting(context):
    with context.session_scope() as session:
        indexing.mark(session, "person", 3)
        indexing.mark_many(session, "person", [1, 2, 3, 4, 5, 1])
        assert [name for name, _ in jobs.queued(session)] == [indexing.FLUSH_TASK]
    assert pending_rows(context) == [("person", 1, 1), ("person", 2, 1), ("person", 3, 2), *(("person", n, 1) for n in (4, 5))]


def test_many_posts_are_indexed_with_one_commit(context, hub):
    write_posts(context, hub, 40)
    before = context.index.commits
    assert index_writer.flush(context) == 40
    assert context.index.commits - before == 1
    assert total(context, "glasvezel kind:post") == 40
    assert pending_rows(context) == []


def test_batches_are_bounded_and_each_is_one_commit(context, hub):
    write_posts(context, hub, 25)
    before = context.index.commits
    assert index_writer.flush(context, batch_size=10) == 25
    assert context.index.commits - before == 3
    assert total(context, "glasvezel kind:post") == 25


def test_flushes_queued_during_a_burst_find_the_first_drained_everything(context, hub):
    write_posts(context, hub, 5)
    assert index_writer.flush(context) == 5
    before = context.index.commits
    assert [index_writer.flush(context) for _ in range(3)] == [0, 0, 0]
    assert context.index.commits == before


def test_a_crash_between_the_index_commit_and_forgetting_the_rows_is_harmless(context, hub, monkeypatch):
    write_posts(context, hub, 3)

    def crash(session, batch):
        raise OSError("the worker died here")

    with monkeypatch.context() as patched:
        patched.setattr(index_writer, "forget", crash)
        with pytest.raises(OSError):
            index_writer.flush(context)
    assert total(context, "glasvezel kind:post") == 3
    assert len(pending_rows(context)) == 3
    assert index_writer.flush(context) == 3
    assert total(context, "glasvezel kind:post") == 3
    assert pending_rows(context) == []


def test_an_item_changed_while_it_was_being_indexed_is_indexed_again_next_time(context, hub, monkeypatch):
    [post_id] = write_posts(context, hub, 1, word="concept")
    index = context.index
    write = index.write

    seen = []

    def edit_meanwhile(posts_batch, *args):
        """The first write finds the post edited (and committed) after its batch was read."""
        seen.append({item.body for items in posts_batch.values() for item in items})
        if len(seen) == 1:
            with context.session_scope() as session:
                post = session.get(posts.Post, post_id)
                posts.edit_post(session, post, post.author, "Bericht", "Over de definitieve versie")
        write(posts_batch, *args)
        if len(seen) == 1:
            assert total(context, "concept") == 1 and pending_rows(context) == [("post", post_id, 2)]

    monkeypatch.setattr(index, "write", edit_meanwhile)
    assert index_writer.flush(context) == 2
    assert seen == [{"Over concept nummer 0"}, {"Over de definitieve versie"}]
    assert total(context, "concept") == 0 and total(context, "definitieve") == 1
    assert pending_rows(context) == []


def test_a_deleted_post_leaves_the_index_with_its_comments(context, hub):
    alice_id, _ = hub
    [post_id] = write_posts(context, hub, 1, word="vlindernet")
    with context.session_scope() as session:
        post = session.get(posts.Post, post_id)
        posts.create_comment(session, post, post.author, "nog een vlindernet")
    index_writer.flush(context)
    assert total(context, "vlindernet") == 2
    with context.session_scope() as session:
        post = session.get(posts.Post, post_id)
        posts.delete_post(session, post, post.author)
    index_writer.flush(context)
    assert total(context, "vlindernet") == 0
    assert total(context, "alice kind:person") == 1


def test_a_thread_is_indexed_whole_with_its_documents_text_extracted_once(context, hub):
    [post_id] = write_posts(context, hub, 1, word="offerte")
    with context.session_scope() as session:
        post = session.get(posts.Post, post_id)
        bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
        comment = posts.create_comment(session, post, bob, "Hierbij de getekende versie")
        attachment = attachments.attach(session, post, "getekend.txt", "text/plain", b"handtekening directeur", comment=comment)
        attachment_id = attachment.id
    index_writer.flush(context)
    index_writer.read_documents(context, [attachment_id])
    index_writer.flush(context)
    [hit] = context.index.search("handtekening", [EVERYONE, *range(1, 10)]).hits
    assert (hit.kind, hit.id, hit.post_id, hit.author_email) == ("document", attachment_id, post_id, "bob@example.com")
    assert total(context, "getekende kind:comment has:attachment") == 1
    assert total(context, "offerte has:attachment kind:post") == 1
    with context.session_scope() as session:
        assert session.get(Attachment, attachment_id).extracted_text == "handtekening directeur"
    assert total(context, "bob kind:person") == 1


def test_the_index_waits_out_the_commit_interval_before_its_next_commit(context, hub, monkeypatch):
    context.settings.index_commit_interval = 30
    waits = []
    monkeypatch.setattr(index_writer.time, "sleep", waits.append)
    write_posts(context, hub, 1)
    index_writer.flush(context)
    assert waits and 29 < waits[0] <= 30


def test_pending_reports_how_many_wait_and_since_when(context, hub):
    with context.session_scope() as session:
        assert indexing.pending(session) == (0, None)
    started = utcnow()
    write_posts(context, hub, 2)
    with context.session_scope() as session:
        count, oldest = indexing.pending(session)
    assert count == 2 and started <= oldest <= utcnow()


def test_the_sweep_queues_a_flush_only_for_items_that_wait_too_long(context, hub):
    write_posts(context, hub, 1)
    with context.session_scope() as session:
        assert indexing.requeue_stalled(session) is False
        session.query(IndexPending).update({"queued_at": utcnow() - timedelta(minutes=1)})
        assert indexing.requeue_stalled(session) is True
        assert [name for name, _ in jobs.queued(session)] == [indexing.FLUSH_TASK]


def test_only_known_kinds_are_marked(context, data_dir):
    with pytest.raises(ValueError, match="unknown pending kind"), context.session_scope() as session:
        indexing.mark(session, "comment", 1)


def test_a_rebuild_reads_posts_in_chunks_and_leaves_nothing_out(context, hub, monkeypatch):
    write_posts(context, hub, 5, word="herbouw")
    monkeypatch.setattr(index_writer, "REINDEX_POSTS", 2)
    assert index_writer.reindex(context) == 5 + 1 + 1
    with context.session_scope() as session:
        assert index_writer.count_items(session) == 5 + 1 + 1
    assert total(context, "herbouw kind:post") == 5 and total(context, "engineering kind:group") == 1


def test_a_reindex_keeps_answering_searches_and_takes_in_what_the_indexer_flushes_meanwhile(context, hub):
    first, _ = write_posts(context, hub, 2, word="vooraf")
    index_writer.flush(context)
    meanwhile = {}

    def while_the_new_index_is_written(count):
        meanwhile["searched"] = found_by_readers(context, "vooraf")
        with context.session_scope() as session:
            post = session.get(posts.Post, first)
            posts.edit_post(session, post, post.author, "Bericht", "Over de herziene versie")
        write_posts(context, hub, 1, word="tussendoor")
        index_writer.flush(context)
        meanwhile["flushed"] = found_by_readers(context, "herziene OR tussendoor")

    assert index_writer.reindex(context, progress=while_the_new_index_is_written) == 2 + 1 + 1
    assert meanwhile == {"searched": 2, "flushed": 2}
    found = [found_by_readers(context, word) for word in ("vooraf", "herziene", "tussendoor")]
    assert found == [1, 1, 1]
    assert found_by_readers(context, "alice kind:person") == found_by_readers(context, "engineering kind:group") == 1
    assert pending_rows(context) == []


def test_a_search_before_the_indexer_made_the_index_waits_then_fails_and_creates_nothing(data_dir, monkeypatch):
    monkeypatch.setattr(index, "READER_WAIT_SECONDS", 0.3)
    before_the_indexer = hub_context(data_dir)  # no index yet, as before the indexer's first start
    with before_the_indexer.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
        with pytest.raises(SearchUnavailable, match="plein indexer"):
            searching.search(session, alice, "glasvezel")
    before_the_indexer.close()
    assert not (data_dir / "index").exists()


def test_metrics_show_the_pending_items_and_the_age_of_the_oldest(context, hub):
    from prometheus_client import generate_latest

    from hub.web.health import DatabaseCollector

    def metric(name):
        lines = generate_latest(DatabaseCollector(context)).decode().splitlines()
        line = next(line for line in lines if line.startswith(name + " "))
        return float(line.split()[1])

    assert metric("plein_index_pending_items") == 0 and metric("plein_index_lag_seconds") == 0
    write_posts(context, hub, 2)
    with context.session_scope() as session:
        session.query(IndexPending).update({"queued_at": utcnow() - timedelta(seconds=30)})
    assert metric("plein_index_pending_items") == 2
    assert 30 <= metric("plein_index_lag_seconds") < 3600
