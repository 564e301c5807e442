"""What a person is learned to know about forgets what they deleted (issue 15, item 5, its search half).

People are found by the titles and #tags of the public posts they wrote and the threads they
answered. Deleting a post or a comment takes its words out of its writers' expertise at the
next flush, for everyone who wrote in what was deleted.
"""

import pytest

from hub.services import accounts, groups, index_writer, posts, searching


def people(session, viewer, query):
    return [r.hit.title for r in searching.search(session, viewer, f"{query} kind:person").results]


def index_now(context, session):
    session.commit()
    index_writer.flush(context)


@pytest.fixture
def company(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
    bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
    carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
    engineering = groups.create_group(session, "engineering", "Engineering")
    session.flush()
    return alice, bob, carol, engineering


def test_a_deleted_post_no_longer_finds_its_author_or_those_who_answered_it(context, session, company):
    alice, bob, carol, engineering = company
    post = posts.create_post(session, engineering, bob, "Spleisverlies meten", "Wie heeft ervaring met #lasapparatuur?")
    posts.create_comment(session, post, carol, "Ja, ik meet het met de OTDR.")
    posts.create_post(session, engineering, bob, "Kantine", "De soep is op.")
    index_now(context, session)
    assert sorted(people(session, alice, "spleisverlies")) == ["Bob Bos", "Carol Claes"]
    assert sorted(people(session, alice, "lasapparatuur")) == ["Bob Bos", "Carol Claes"]

    posts.delete_post(session, post, bob)
    index_now(context, session)
    assert people(session, alice, "spleisverlies") == []
    assert people(session, alice, "lasapparatuur") == []
    assert people(session, alice, "kantine") == ["Bob Bos"]


def test_a_deleted_comment_no_longer_finds_its_author_but_the_thread_still_finds_its_writers(context, session, company):
    alice, bob, carol, engineering = company
    post = posts.create_post(session, engineering, alice, "Wijkkast Oost", "Wie kan de wijkkast openen?")
    answer = posts.create_comment(session, post, carol, "Ik heb de sleutel.")
    posts.create_comment(session, post, bob, "Ik ook.", parent=answer)
    index_now(context, session)
    assert sorted(people(session, bob, "wijkkast")) == ["Alice Aalders", "Bob Bos", "Carol Claes"]

    posts.delete_comment(session, answer, carol)
    index_now(context, session)
    assert sorted(people(session, bob, "wijkkast")) == ["Alice Aalders", "Bob Bos"], "Bob's answer stays"
