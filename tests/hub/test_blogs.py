"""Personal blogs (issue 19): `/people/{email}/blog`, titled posts that belong to a person rather than a
group, in their personal space: read by everyone signed in, written by its owner alone, commented on by
anyone, followed by their followers, and never listed, joined, made or mailed as a group."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models import Attachment, Post
from hub.services import (
    accounts,
    departments,
    feed,
    follows,
    groups,
    inbox,
    index_writer,
    organisation,
    personal,
    posts,
    searching,
    submissions,
)
from hub.services.errors import Forbidden, Invalid
from hub.web.app import create_app
from tests.support.web import signed_in_with_csrf


@pytest.fixture
def hub(context) -> dict:
    """Anna, who blogs; Bert, who follows her; Carol, in the public group Team with Anna."""
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna")
        bert = accounts.create_user(session, "bert@example.com", "Bert")
        carol = accounts.create_user(session, "carol@example.com", "Carol")
        team = groups.create_group(session, "team", "Team")
        groups.add_member(session, team, anna, "none")
        groups.add_member(session, team, carol, "none")
        follows.follow(session, bert, anna)
        return {
            "tokens": {u.email.partition("@")[0]: accounts.create_api_token(session, u) for u in (anna, bert, carol)}
        }


def user(session, name: str):
    return accounts.get_user(session, f"{name}@example.com")


def test_the_blog_lists_the_persons_titled_posts_newest_first_and_not_their_statuses(context, hub):
    with context.session_scope() as session:
        anna = user(session, "anna")
        personal.post_blog(session, anna, "First thoughts", "On **planning**")
        personal.post_status(session, anna, "Just a status")
        personal.post_blog(session, anna, "Second thoughts", "On doing")
    with context.session_scope() as session:
        assert [e.post.title for e in personal.blog_posts(session, user(session, "anna"))] == [
            "Second thoughts",
            "First thoughts",
        ]
    page = signed_in_with_csrf(context, "carol@example.com")[0].get("/people/anna@example.com/blog").text
    assert page.index("Second thoughts") < page.index("First thoughts") and "Just a status" not in page
    assert "<strong>planning</strong>" in page and "New blog post" not in page


def test_only_the_owner_gets_the_composer_and_posts_with_attachments(context, hub):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    assert "New blog post" in client.get("/people/anna@example.com/blog").text
    posted = client.post(
        "/people/anna@example.com/blog",
        data={"csrf": csrf, "title": "With a file", "body": "See attached"},
        files={"files": ("notes.txt", b"the notes", "text/plain")},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/p/")
    with context.session_scope() as session:
        post = session.scalar(select(Post).where(Post.title == "With a file"))
        assert post.group.owner_id == user(session, "anna").id
        assert session.scalar(select(Attachment.filename).where(Attachment.post_id == post.id)) == "notes.txt"
    untitled = client.post(
        "/people/anna@example.com/blog", data={"csrf": csrf, "title": " ", "body": "x"}, files={"files": ("", b"")}
    )
    assert untitled.status_code == 400 and "needs a title" in untitled.text
    other, other_csrf = signed_in_with_csrf(context, "carol@example.com")
    refused = other.post(
        "/people/anna@example.com/blog",
        data={"csrf": other_csrf, "title": "Mine", "body": "x"},
        files={"files": ("", b"")},
    )
    assert refused.status_code == 403


def test_others_comment_on_a_blog_post_but_never_post_in_the_personal_space(context, hub):
    with context.session_scope() as session:
        post = personal.post_blog(session, user(session, "anna"), "Open question", "What do you think?")
        carol = user(session, "carol")
        assert submissions.submit_comment(session, carol, post, "I agree").body_text == "I agree"
        with pytest.raises(Forbidden):
            posts.create_post(session, post.group, carol, "Intruder", "x")
        with pytest.raises(Forbidden):
            personal.post_status(session, carol, "x", post.group.slug)
        slug = post.group.slug
    api = TestClient(create_app(context), headers={"Authorization": f"Bearer {hub['tokens']['carol']}"})
    assert api.post(f"/api/groups/{slug}/posts", json={"title": "Intruder", "body": "x"}).status_code == 403


def test_followers_get_blog_posts_in_their_feed_and_a_notification(context, hub):
    with context.session_scope() as session:
        post_id = personal.post_blog(session, user(session, "anna"), "Lessons learned", "Three of them").id
        inbox.notify_post(session, post_id)
    with context.session_scope() as session:
        bert = user(session, "bert")
        assert [item.title for item in feed.home_feed(session, bert).items] == ["Lessons learned"]
        [entry] = inbox.list_notifications(session, bert).entries
        assert entry.post.id == post_id
    page = signed_in_with_csrf(context, "bert@example.com")[0].get("/").text
    assert "posted on their blog" in page and "Lessons learned" in page
    notes = signed_in_with_csrf(context, "bert@example.com")[0].get("/notifications").text
    assert "Anna posted “Lessons learned” on their blog" in notes


def test_the_profile_links_the_blog_and_its_group_address_leads_there(context, hub):
    with context.session_scope() as session:
        slug = personal.post_blog(session, user(session, "anna"), "Hello", "World").group.slug
    client, _ = signed_in_with_csrf(context, "carol@example.com")
    assert "/people/anna%40example.com/blog" in client.get("/people/anna@example.com").text
    moved = client.get(f"/g/{slug}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/people/anna@example.com/blog"


def test_the_personal_space_is_never_listed_joined_or_made_as_a_group(context, hub):
    with context.session_scope() as session:
        anna, carol = user(session, "anna"), user(session, "carol")
        space = personal.personal_space(session, anna)
        personal.post_blog(session, anna, "Blogging", "About team work")
        posts.create_post(session, groups.get_group(session, "team"), anna, "Team work", "About team work")
        assert space not in groups.visible_groups(session, carol)
        assert space.slug not in [listing.group.slug for listing in groups.list_groups(session)]
        assert space not in feed.postable_groups(session, anna)
        sales = organisation.department_for_path(session, "Sales")
        anna.department_id = sales.id
        session.flush()
        assert [active.group.slug for active in departments.active_groups(session, carol, sales)] == ["team"]
        with pytest.raises(Forbidden):
            groups.join_group(session, space, carol)
        with pytest.raises(Forbidden):
            groups.add_member(session, space, carol)
        with pytest.raises(Invalid):
            groups.create_group(session, f"personal.{carol.id}", "Squatter")
    index_writer.flush(context)
    with context.session_scope() as session:
        carol = user(session, "carol")
        assert searching.search(session, carol, "Anna", kind="group").total == 0
        found = searching.search(session, carol, "team work")
        assert found.total >= 2 and [f.label for f in found.facets["group"]] == ["Team"]
    client, _ = signed_in_with_csrf(context, "carol@example.com")
    assert "personal." not in client.get("/groups").text
    listed = TestClient(create_app(context), headers={"Authorization": f"Bearer {hub['tokens']['carol']}"})
    assert [g["slug"] for g in listed.get("/api/groups").json()] == ["team"]
