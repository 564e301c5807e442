"""Search through the hub's services: profiles, learned expertise, edits, deletions, leaving a group."""

import re

import pytest
from fastapi.testclient import TestClient

from hub import jobs
from hub.models import IndexPending
from hub.services import accounts, groups, index_writer, posts, profiles, searching, signing, visibility
from hub.services.errors import Forbidden, Invalid
from hub.web.app import create_app


def queued(session, task_name):
    return [args for name, args in jobs.queued(session) if name == task_name]


def pending(session):
    return sorted((row.kind, row.item_id) for row in session.query(IndexPending))


def index_now(context, session):
    """What happens after a request: its transaction commits, then the flush job runs."""
    session.commit()
    index_writer.flush(context)


def found(session, user, query, **options):
    return [(r.hit.kind, r.hit.title) for r in searching.search(session, user, query, **options).results]


@pytest.fixture
def company(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
    bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
    carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
    engineering = groups.create_group(session, "engineering", "Engineering", description="Kabels en techniek")
    board = groups.create_group(session, "board", "Board", private=True, description="Het bestuur")
    groups.add_member(session, board, alice)
    session.flush()
    return alice, bob, carol, engineering, board


def test_a_profile_is_found_by_department_title_tags_and_bio(context, session, company):
    alice, bob, *_ = company
    profiles.update_profile(session, bob, profiles.ProfileForm(
        department="Infra", job_title="Netwerkbeheerder", bio="Twintig jaar in de telecom.", expertise="Glasvezel, #modems, glasvezel",
    ))
    assert bob.expertise == "glasvezel, modems"
    assert ("person", bob.id) in pending(session) and queued(session, "plein.search.flush") == [()]
    index_now(context, session)
    for query in ("netwerkbeheerder", "infra kind:person", "tag:modems", "telecom"):
        assert found(session, alice, query) == [("person", "Bob Bos")], query
    assert searching.search(session, alice, "tag:modems").results[0].url == "/people/bob@example.com"


def test_a_profile_with_too_long_a_field_is_refused(session, company):
    with pytest.raises(Invalid):
        profiles.update_profile(session, company[1], profiles.ProfileForm(department="x" * 201))


def test_whoever_answers_glasvezel_threads_is_found_as_knowing_about_it(context, session, company):
    alice, bob, carol, engineering, board = company
    post = posts.create_post(session, engineering, alice, "Storing in de wijk", "Wie kan helpen met de #glasvezel kast?")
    posts.create_comment(session, post, carol, "Ik kijk er morgen naar, de splitter is stuk.")
    posts.create_post(session, board, alice, "Overname koperkabelbedrijf", "Strikt vertrouwelijk")
    index_now(context, session)
    people = [title for kind, title in found(session, bob, "glasvezel kind:person")]
    assert people == ["Alice Aalders", "Carol Claes"] or sorted(people) == ["Alice Aalders", "Carol Claes"]
    assert found(session, bob, "koperkabelbedrijf") == []
    assert found(session, alice, "koperkabelbedrijf kind:person") == []


def test_groups_are_found_and_a_private_one_only_by_members(context, session, company):
    alice, bob, *_ = company
    session.commit()  # the rebuild reads in transactions of its own
    index_writer.reindex(context)
    assert found(session, bob, "kabels") == [("group", "Engineering")]
    assert found(session, bob, "bestuur") == []
    assert found(session, alice, "bestuur") == [("group", "Board")]
    assert searching.search(session, alice, "bestuur").results[0].url == "/g/board"


def test_an_edit_replaces_the_old_text_in_search(context, session, company):
    alice, bob, _, engineering, _ = company
    post = posts.create_post(session, engineering, alice, "Planning", "Concept: de zeppelinhal gaat dicht")
    index_now(context, session)
    posts.edit_post(session, post, alice, "Planning definitief", "De hangaar blijft open")
    assert ("post", post.id) in pending(session)
    index_now(context, session)
    assert found(session, bob, "zeppelinhal") == []
    assert found(session, bob, "hangaar") == [("post", "Planning definitief")]


def test_only_the_author_edits_or_deletes(session, company):
    alice, bob, _, engineering, _ = company
    post = posts.create_post(session, engineering, alice, "Van Alice", "tekst")
    with pytest.raises(Forbidden):
        posts.edit_post(session, post, bob, "Van Bob", "anders")
    with pytest.raises(Forbidden):
        posts.delete_post(session, post, bob)


def test_a_deleted_post_and_comment_leave_search(context, session, company):
    alice, bob, _, engineering, _ = company
    post = posts.create_post(session, engineering, alice, "Weg ermee", "vlindernet")
    comment = posts.create_comment(session, post, bob, "ook een vlindernet hier")
    keep = posts.create_comment(session, post, alice, "vlindernet blijft")
    index_now(context, session)
    posts.delete_comment(session, comment, bob)
    index_now(context, session)
    assert sorted(r.hit.id for r in searching.search(session, bob, "vlindernet kind:comment").results) == [keep.id]
    post_id = post.id
    posts.delete_post(session, post, alice)
    assert ("post", post_id) in pending(session)
    index_now(context, session)
    assert searching.search(session, bob, "vlindernet").total == 0


def test_leaving_a_private_group_hides_its_posts_at_once(context, session, company):
    alice, _, _, _, board = company
    posts.create_post(session, board, alice, "Begroting", "De kascommissie vergadert")
    index_now(context, session)
    assert searching.search(session, alice, "kascommissie").total == 1
    groups.remove_member(session, board, alice)
    session.expire_all()
    assert searching.search(session, alice, "kascommissie").total == 0
    assert searching.suggest(session, alice, "begr") == []


def test_related_posts_and_suggestions_come_with_links(context, session, company):
    alice, bob, _, engineering, _ = company
    first = posts.create_post(session, engineering, alice, "Glasvezel aanleg Noord", "graafwerk voor glasvezel in Noord")
    second = posts.create_post(session, engineering, bob, "Glasvezel aanleg Zuid", "graafwerk voor glasvezel in Zuid")
    session.commit()  # the rebuild reads in transactions of its own
    index_writer.reindex(context)
    related = searching.related_posts(session, bob, first.id)
    assert [(r.hit.id, r.url) for r in related] == [(second.id, f"/p/{second.id}")]
    suggestions = searching.suggest(session, bob, "glasvezel aanleg n")
    assert [(s.kind, s.title, s.url) for s in suggestions] == [("post", "Glasvezel aanleg Noord", f"/p/{first.id}")]


def test_facets_name_groups_and_authors(context, session, company):
    alice, bob, _, engineering, _ = company
    posts.create_post(session, engineering, alice, "Rooster", "het rooster voor maart")
    index_now(context, session)
    page = searching.search(session, bob, "rooster")
    assert [(f.value, f.label, f.count) for f in page.facets["group"]] == [("group:engineering", "Engineering", 1)]
    assert [(f.value, f.label) for f in page.facets["author"]] == [("from:alice@example.com", "Alice Aalders")]


def test_bad_sort_and_page_size_are_clear_errors(session, company):
    with pytest.raises(Invalid, match="sort must be one of"):
        searching.search(session, company[0], "x", sort="random")
    with pytest.raises(Invalid, match="page size"):
        searching.search(session, company[0], "x", page_size=1000)


def test_every_group_is_either_visible_or_hidden_to_a_reader(session, company):
    alice, bob, carol, engineering, board = company
    secret = groups.create_group(session, "hr", "HR", private=True)
    assert visibility.group_access(session, alice) == visibility.GroupAccess(
        visible=frozenset({engineering.id, board.id}), hidden=frozenset({secret.id}),
    )
    assert visibility.group_access(session, bob) == visibility.GroupAccess(
        visible=frozenset({engineering.id}), hidden=frozenset({board.id, secret.id}),
    )


def why(session, user, query):
    person = [r for r in searching.search(session, user, query).results if r.hit.kind == "person"][0]
    return {m.field: m.html for m in person.hit.matched}


def test_a_person_hit_says_which_profile_fields_matched_highlighted(context, session, company):
    alice, bob, *_ = company
    profiles.update_profile(session, bob, profiles.ProfileForm(
        department="Infra", job_title="Netwerkbeheerder", bio="Twintig jaar bij de netwerken.", expertise="Glasvezel",
    ))
    index_now(context, session)
    assert why(session, alice, "netwerkbeheerder") == {"job_title": "<b>Netwerkbeheerder</b>"}
    assert why(session, alice, "glasvezel infra") == {"expertise": "<b>glasvezel</b>", "department": "<b>Infra</b>"}
    assert why(session, alice, "netwerken")["bio"].startswith("Twintig jaar bij de <b>netwerken</b>")
    assert why(session, alice, "Bob") == {}


def test_a_person_found_by_what_they_wrote_about_says_so_but_never_from_a_private_group(context, session, company):
    alice, bob, carol, engineering, board = company
    posts.create_post(session, engineering, carol, "Glasvezel in de wijk", "De kast is open.")
    posts.create_post(session, board, carol, "Overname koperkabelbedrijf", "Strikt vertrouwelijk")
    index_now(context, session)
    assert why(session, bob, "glasvezel kind:person") == {"learned_expertise": "<b>Glasvezel</b> in de wijk"}
    person = searching.search(session, alice, "carol kind:person").results[0]
    assert all("koperkabelbedrijf" not in m.html.lower() for m in person.hit.matched)


def test_only_people_carry_why_they_matched(context, session, company):
    alice, _bob, _carol, engineering, _board = company
    posts.create_post(session, engineering, alice, "Netwerkbeheer", "Over netwerkbeheer.")
    index_now(context, session)
    hits = [r.hit for r in searching.search(session, alice, "netwerkbeheer").results]
    assert {hit.kind for hit in hits} == {"post", "person"}
    assert all(hit.matched == () for hit in hits if hit.kind != "person")


def test_the_api_and_the_search_page_show_why_a_person_matched(context, session, company):
    alice, bob, *_ = company
    profiles.update_profile(session, bob, profiles.ProfileForm(department="Infra", job_title="Netwerkbeheerder"))
    token = accounts.create_api_token(session, alice)
    sign_in = signing.sign_expiring(session, "sign-in", alice.id, lifetime_seconds=600)
    index_now(context, session)
    api = TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})
    hit = api.get("/api/search", params={"q": "netwerkbeheerder"}).json()["results"][0]
    assert hit["kind"] == "person" and hit["matched"] == [{"field": "job_title", "html": "<b>Netwerkbeheerder</b>"}]
    assert "snippet_html" in hit and "title_html" in hit
    browser = TestClient(create_app(context))
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get(f"/sign-in/{sign_in}").text).group(1)
    browser.post(f"/sign-in/{sign_in}", data={"csrf": csrf})
    page = browser.get("/search", params={"q": "netwerkbeheerder"}).text
    assert '<dt>Job title</dt><dd><b>Netwerkbeheerder</b></dd>' in page
    assert '<span class="avatar"' in page
