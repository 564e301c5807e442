"""The tag facet (issue 17): the index counts the hub's tags (hub.services.tags), a facet entry
narrows to `tag:` and leads to the tag page, `tag:` finds what the tag page lists, and a reader
never sees nor counts a private group's tags."""

import re

import pytest
from fastapi.testclient import TestClient

from hub.services import accounts, groups, index_writer, posts, searching, signing, tags
from hub.web.app import create_app


@pytest.fixture
def company(context, session):
    alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
    bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
    engineering = groups.create_group(session, "engineering", "Engineering")
    board = groups.create_group(session, "board", "Board", private=True)
    groups.add_member(session, engineering, alice)
    groups.add_member(session, board, alice)
    post = posts.create_post(session, engineering, alice, "Storing #Café", "De kast in de wijk is stuk. #storing")
    posts.create_comment(session, post, alice, "Opgelost in de wijk, #storing voorbij. Ticket #12 is dicht.")
    posts.create_post(session, engineering, alice, "Koffie in de wijk", "Nieuwe machine #cafe")
    posts.create_post(session, board, alice, "Reorganisatie in de wijk", "Alleen voor het bestuur #storing #geheim")
    session.commit()
    index_writer.flush(context)
    return alice, bob


def facet(page, name="tag"):
    return {f.label: (f.value, f.count, f.path) for f in page.facets.get(name, [])}


def test_the_tag_facet_counts_the_hubs_tags_by_name_and_leads_to_their_pages(session, company):
    _, bob = company
    found = facet(searching.search(session, bob, "wijk"))
    assert found == {
        "#storing": ("tag:storing", 2, "/tags/storing"),
        "#café": ("tag:café", 1, "/tags/caf%C3%A9"),
        "#cafe": ("tag:cafe", 1, "/tags/cafe"),
    }


def test_a_tag_filter_finds_what_the_tag_page_lists(session, company):
    alice, bob = company
    for reader in (alice, bob):
        for tag in ("storing", "geheim"):
            listed = {(t.comment or t.post).id for t in tags.tagged(session, reader, tag).items}
            hits = {r.hit.id for r in searching.search(session, reader, f"tag:{tag}").results}
            assert hits == listed, (reader.email, tag)


def test_the_index_takes_no_tag_the_hub_does_not(session, company):
    alice, _ = company
    assert searching.search(session, alice, "tag:12").total == 0
    assert "#12" not in facet(searching.search(session, alice, "ticket"))


def test_the_tag_facet_never_counts_a_private_groups_items_for_a_non_member(session, company):
    alice, bob = company
    assert facet(searching.search(session, alice, "wijk"))["#storing"][1] == 3
    assert "#geheim" in facet(searching.search(session, alice, "reorganisatie"))
    assert "#geheim" not in facet(searching.search(session, bob, "bestuur OR wijk"))
    groups.remove_member(session, groups.get_group(session, "board"), alice)
    session.flush()
    assert facet(searching.search(session, alice, "wijk"))["#storing"][1] == 2


def test_the_tag_facet_is_in_the_api_and_on_the_search_page(context, session, company):
    alice, bob = company
    token = accounts.create_api_token(session, bob)
    sign_in = signing.sign_expiring(session, "sign-in", bob.id, lifetime_seconds=600)
    session.commit()
    answer = TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"}).get(
        "/api/search", params={"q": "wijk"})
    assert {"value": "tag:storing", "label": "#storing", "count": 2} in answer.json()["facets"]["tag"]
    browser = TestClient(create_app(context))
    page = browser.get(f"/sign-in/{sign_in}").text
    browser.post(f"/sign-in/{sign_in}", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)})
    page = browser.get("/search", params={"q": "wijk"}).text
    assert 'href="/tags/storing"' in page and "tag%3Astoring" in page
