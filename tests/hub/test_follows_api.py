"""Follows and mutes over the JSON API and with the web's buttons (issue 17): the contract of
`/api/follows` and `/api/mutes`, and that a private group or its thread is, to a non-member, as
missing as one that does not exist."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.services import accounts, follows, groups, posts
from hub.web.app import create_app
from tests.support.web import signed_in_with_csrf


@pytest.fixture
def hub(context):
    """Team (public) with a post; Board (private) with a post. Anna is in both, Carol in neither."""
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
        team = groups.create_group(session, "team", "Team")
        board = groups.create_group(session, "board", "Board", private=True)
        groups.add_member(session, team, anna)
        groups.add_member(session, board, anna)
        post = posts.create_post(session, team, anna, "Planning", "Wie doet wat? #Storing")
        secret = posts.create_post(session, board, anna, "Reorganisatie", "Alleen voor het bestuur. #geheim")
        session.flush()
        return {
            "post": post.id, "secret": secret.id,
            "tokens": {u.email.partition("@")[0]: accounts.create_api_token(session, u) for u in (anna, carol)},
        }


def api(context, hub, who: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {hub['tokens'][who]}"})


def test_following_each_kind_answers_its_standing_and_lists_it_with_a_name_and_link(context, hub):
    carol = api(context, hub, "carol")
    answers = [
        carol.put("/api/follows/person/anna@example.com"),
        carol.put("/api/follows/group/team"),
        carol.put(f"/api/follows/post/{hub['post']}"),
        carol.put("/api/follows/tag/Storing"),
    ]
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[3].json() == {"kind": "tag", "target": "storing", "name": "#storing",
                                 "url": context.url("/tags/storing"), "following": True, "muted": False}
    listed = carol.get("/api/follows").json()
    assert [(f["kind"], f["target"], f["name"]) for f in listed] == [
        ("tag", "storing", "#storing"), ("post", str(hub["post"]), "Planning"), ("group", "team", "Team"),
        ("person", "anna@example.com", "Anna de Vries"),
    ]
    assert listed[1]["url"].endswith(f"/p/{hub['post']}")


def test_unfollowing_answers_the_standing_and_takes_it_off_the_list(context, hub):
    carol = api(context, hub, "carol")
    carol.put("/api/follows/group/team")
    answer = carol.delete("/api/follows/group/team")
    assert answer.status_code == 200 and answer.json()["following"] is False
    assert carol.get("/api/follows").json() == []


def test_muting_a_followed_thread_keeps_the_follow_for_when_it_is_unmuted(context, hub):
    anna = api(context, hub, "anna")
    muted = anna.put(f"/api/mutes/post/{hub['post']}").json()
    assert (muted["following"], muted["muted"]) == (True, True)
    assert anna.delete(f"/api/mutes/post/{hub['post']}").json()["following"] is True
    assert anna.put("/api/mutes/group/team").json()["muted"] is True
    assert anna.put("/api/mutes/person/carol@example.com").json()["muted"] is True
    assert anna.put("/api/mutes/tag/storing").json()["muted"] is True


@pytest.mark.parametrize(("path", "words"), [
    ("/api/follows/thread/1", "kind must be one of person, group, post, tag"),
    ("/api/follows/tag/12", "is not a tag"),
    ("/api/mutes/colour/blue", "kind must be one of"),
])
def test_a_bad_kind_or_tag_is_a_400_that_says_what_is_wrong(context, hub, path, words):
    answer = api(context, hub, "carol").put(path)
    assert answer.status_code == 400
    assert words in answer.json()["detail"]


def test_a_private_group_or_its_thread_is_to_a_non_member_a_404_like_a_missing_one(context, hub):
    carol = api(context, hub, "carol")
    for method in ("put", "delete"):
        for base in ("/api/follows", "/api/mutes"):
            hidden = [getattr(carol, method)(f"{base}/group/board"),
                      getattr(carol, method)(f"{base}/post/{hub['secret']}")]
            missing = [getattr(carol, method)(f"{base}/group/no-such-group"),
                       getattr(carol, method)(f"{base}/post/999999"), getattr(carol, method)(f"{base}/post/abc")]
            assert {a.status_code for a in hidden + missing} == {404}
            assert [a.json()["detail"] for a in hidden] == ["no group board", f"no post {hub['secret']}"]
            assert [a.json()["detail"] for a in missing] == ["no group no-such-group", "no post 999999", "no post abc"]
    assert carol.get("/api/follows").json() == []


def test_an_unknown_person_is_a_404(context, hub):
    assert api(context, hub, "carol").put("/api/follows/person/nobody@example.com").status_code == 404


def test_what_a_member_followed_in_a_private_group_is_not_listed_after_they_leave(context, hub):
    anna = api(context, hub, "anna")
    anna.put("/api/follows/group/board")
    assert {f["target"] for f in anna.get("/api/follows").json()} >= {"board", str(hub["secret"])}
    with context.session_scope() as session:
        groups.remove_member(session, groups.get_group(session, "board"), accounts.get_user(session, "anna@example.com"))
    listed = anna.get("/api/follows").json()
    assert not {f["target"] for f in listed} & {"board", str(hub["secret"])}
    assert "Reorganisatie" not in str(listed) and "Board" not in str(listed)


def test_the_follow_button_on_a_page_follows_and_comes_back_to_that_page(context, hub):
    client, csrf = signed_in_with_csrf(context, "carol@example.com")
    page = client.get("/g/team").text
    assert 'action="/following/group/team"' in page and 'value="follow"' in page
    answer = client.post("/following/group/team", data={"csrf": csrf, "do": "follow", "back": "/g/team?page=1"},
                         follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/g/team?page=1")
    assert 'value="unfollow"' in client.get("/g/team").text
    client.post(f"/following/post/{hub['post']}", data={"csrf": csrf, "do": "mute", "back": "https://evil.test/"})
    with context.session_scope() as session:
        carol = accounts.get_user(session, "carol@example.com")
        assert follows.is_following(session, carol, groups.get_group(session, "team"))
        assert follows.is_muted(session, carol, posts.get_post(session, carol, hub["post"]))


def test_the_follow_buttons_show_on_a_profile_a_thread_and_a_tag_page_and_the_following_page_undoes(context, hub):
    client, csrf = signed_in_with_csrf(context, "carol@example.com")
    assert 'action="/following/person/anna%40example.com"' in client.get("/people/anna@example.com").text
    assert f'action="/following/post/{hub["post"]}"' in client.get(f"/p/{hub['post']}").text
    assert 'action="/following/tag/storing"' in client.get("/tags/storing").text
    client.post("/following/tag/storing", data={"csrf": csrf, "do": "follow", "back": "/following"})
    listing = client.get("/following").text
    assert "#storing" in listing and 'value="unfollow"' in listing
    client.post("/following/tag/storing", data={"csrf": csrf, "do": "unfollow", "back": "/following"})
    assert "#storing" not in client.get("/following").text
    assert 'href="/following"' in client.get("/people/carol@example.com").text


def test_a_button_without_its_csrf_token_or_with_a_bad_action_changes_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "carol@example.com")
    assert client.post("/following/group/team", data={"do": "follow"}).status_code == 403
    assert client.post("/following/group/team", data={"csrf": csrf, "do": "adore"}).status_code == 400
    assert client.post("/following/group/board", data={"csrf": csrf, "do": "follow"}).status_code == 404
    with context.session_scope() as session:
        assert follows.list_follows(session, accounts.get_user(session, "carol@example.com")) == []
