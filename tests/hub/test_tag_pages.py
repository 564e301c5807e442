"""Tag pages (issue 17): `/tags/{tag}` and `GET /api/tags/{tag}` list what is tagged, newest first,
and never show or count what the reader may not see; a post's tags link to their pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.services import accounts, groups, posts, tags
from hub.web.app import create_app
from tests.support.web import signed_in


@pytest.fixture
def hub(context):
    """#storing in a public post, a comment, and a private post; #geheim only in the private group."""
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
        team = groups.create_group(session, "team", "Team")
        board = groups.create_group(session, "board", "Board", private=True)
        groups.add_member(session, team, anna)
        groups.add_member(session, board, anna)
        old = posts.create_post(session, team, anna, "Storing in Noord", "De kast is stuk. #Storing")
        comment = posts.create_comment(session, old, anna, "Opgelost, zie #storing en #kabels")
        secret = posts.create_post(session, board, anna, "Reorganisatie", "#storing bij het bestuur, #geheim")
        session.flush()
        return {
            "post": old.id, "comment": comment.id, "secret": secret.id,
            "tokens": {u.email.partition("@")[0]: accounts.create_api_token(session, u) for u in (anna, carol)},
        }


def api(context, hub, who: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {hub['tokens'][who]}"})


def test_the_tag_api_lists_posts_and_comments_newest_first_with_the_count(context, hub):
    found = api(context, hub, "anna").get("/api/tags/Storing").json()
    assert (found["tag"], found["total"], found["following"]) == ("storing", 3, False)
    assert [(i["kind"], i["id"]) for i in found["items"]] == [
        ("post", hub["secret"]), ("comment", hub["comment"]), ("post", hub["post"])
    ]
    assert found["items"][1]["url"].endswith(f"/p/{hub['post']}#comment-{hub['comment']}")


def test_a_non_member_neither_sees_nor_counts_a_private_groups_tagged_items(context, hub):
    carol = api(context, hub, "carol")
    found = carol.get("/api/tags/storing").json()
    assert found["total"] == 2 and hub["secret"] not in [i["post_id"] for i in found["items"]]
    page = signed_in(context, "carol@example.com").get("/tags/storing").text
    assert "Reorganisatie" not in page and "Board" not in page


def test_a_tag_used_only_in_a_private_group_looks_to_a_non_member_as_one_nobody_used(context, hub):
    carol = api(context, hub, "carol")
    secret, unused = carol.get("/api/tags/geheim"), carol.get("/api/tags/nooitgebruikt")
    assert secret.status_code == unused.status_code == 200
    assert {k: v for k, v in secret.json().items() if k != "tag"} == {k: v for k, v in unused.json().items() if k != "tag"}
    client = signed_in(context, "carol@example.com")
    assert client.get("/tags/geheim").text.replace("geheim", "X") == client.get("/tags/nooitgebruikt").text.replace(
        "nooitgebruikt", "X")


def test_nor_after_they_leave_the_private_group(context, hub):
    with context.session_scope() as session:
        groups.remove_member(session, groups.get_group(session, "board"), accounts.get_user(session, "anna@example.com"))
    assert api(context, hub, "anna").get("/api/tags/geheim").json()["total"] == 0


def test_a_bad_tag_is_a_400_that_says_why(context, hub):
    answer = api(context, hub, "anna").get("/api/tags/12")
    assert answer.status_code == 400 and "is not a tag" in answer.json()["detail"]


def test_the_tag_page_pages_through_many_items(context, hub, session):
    anna = accounts.get_user(session, "anna@example.com")
    team = groups.get_group(session, "team")
    for n in range(tags.TAG_PAGE_SIZE + 2):
        posts.create_post(session, team, anna, f"Melding {n}", "#veel")
    first = tags.tagged(session, anna, "veel")
    second = tags.tagged(session, anna, "veel", page=2)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (22, 2, 20, 2)
    assert first.items[0].post.title == "Melding 21" and second.items[-1].post.title == "Melding 0"


def test_the_tag_page_shows_the_count_the_items_and_a_follow_button(context, hub):
    page = signed_in(context, "anna@example.com").get("/tags/storing").text
    assert "3 posts and comments" in page and "Storing in Noord" in page and "Reorganisatie" in page
    assert 'action="/following/tag/storing"' in page


def test_a_posts_tags_show_on_its_page_and_link_to_their_tag_pages(context, hub):
    page = signed_in(context, "carol@example.com").get(f"/p/{hub['post']}").text
    assert '<a class="badge" href="/tags/storing">#storing</a>' in page
