"""Web comments and API comments carry files as a post does, under the same limits (issue 19).

At most `PLEIN_MAX_ATTACHMENTS` files, as for mail, in at most `PLEIN_WEB_UPLOAD_MAX_BYTES`;
past either the answer is 413 with the reason, the comment typed so far kept on the page, and
nothing posted or left on disk.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.models import Attachment, Comment, HeldMessage, PostingPolicy
from hub.services import accounts, groups, moderation, posts
from hub.web.app import create_app
from tests.support.web import csrf_of, signed_in

KB = 1024


@pytest.fixture
def thread(context):
    """A post in Engineering, where Alice and Bob are members; Carol is in no group. At most 2 files and 64 KB."""
    context.settings.max_attachments = 2
    context.settings.web_upload_max_bytes = 64 * KB
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        bob = accounts.create_user(session, "bob@example.com", "Bob")
        carol = accounts.create_user(session, "carol@example.com", "Carol")
        engineering = groups.create_group(session, "engineering", "Engineering")
        for person in (alice, bob):
            groups.add_member(session, engineering, person)
        tokens = {p.email: accounts.create_api_token(session, p) for p in (alice, bob, carol)}
        return {
            "post": posts.create_post(session, engineering, alice, "Storing lift B", "Wie weet meer?").id,
            "tokens": tokens,
        }


def files(count: int, size: int = 10) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"meting-{n}.csv", b"x" * size, "text/csv")) for n in range(count)]


def uploads_left(data_dir) -> list:
    folder = data_dir / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


def api(context, thread, email: str) -> TestClient:
    return TestClient(create_app(context), headers={"authorization": f"Bearer {thread['tokens'][email]}"})


def test_a_web_comment_with_files_shows_them_under_the_comment(context, thread, data_dir):
    bob = signed_in(context, "bob@example.com")
    page = bob.get(f"/p/{thread['post']}")
    assert 'enctype="multipart/form-data"' in page.text and 'name="files"' in page.text

    made = bob.post(
        f"/p/{thread['post']}/comments",
        data={"csrf": csrf_of(page.text), "body": "Zie de metingen."},
        files=files(2),
        follow_redirects=False,
    )

    assert made.status_code == 303, made.text
    with context.session_scope() as session:
        comment = session.query(Comment).one()
        assert sorted((a.filename, a.size, a.post_id) for a in comment.attachments) == [
            ("meting-0.csv", 10, thread["post"]),
            ("meting-1.csv", 10, thread["post"]),
        ]
        ids = [a.id for a in comment.attachments]
    shown = bob.get(f"/p/{thread['post']}").text
    under_comment = shown.split(f'id="comment-{comment.id}"', 1)[1]
    assert all(f'id="attachment-{i}"' in under_comment for i in ids)
    assert uploads_left(data_dir) == []


def test_a_web_comment_of_only_a_file_is_taken(context, thread):
    bob = signed_in(context, "bob@example.com")
    page = bob.get(f"/p/{thread['post']}")

    made = bob.post(
        f"/p/{thread['post']}/comments",
        data={"csrf": csrf_of(page.text), "body": ""},
        files=files(1),
        follow_redirects=False,
    )

    assert made.status_code == 303
    with context.session_scope() as session:
        assert [a.filename for a in session.query(Comment).one().attachments] == ["meting-0.csv"]


def test_a_web_comment_with_too_many_files_gets_413_and_keeps_what_was_typed(context, thread, data_dir):
    bob = signed_in(context, "bob@example.com")
    page = bob.get(f"/p/{thread['post']}")

    refused = bob.post(
        f"/p/{thread['post']}/comments", data={"csrf": csrf_of(page.text), "body": "Drie stuks."}, files=files(3)
    )

    assert refused.status_code == 413
    assert "A comment takes at most 2 files, as a mail does. Nothing was posted" in refused.text
    assert "Drie stuks.</textarea>" in refused.text
    with context.session_scope() as session:
        assert session.query(Comment).count() == session.query(Attachment).count() == 0
    assert uploads_left(data_dir) == []


def test_a_web_comment_larger_than_the_upload_limit_gets_413_and_nothing_is_left_on_disk(context, thread, data_dir):
    bob = signed_in(context, "bob@example.com")
    page = bob.get(f"/p/{thread['post']}")

    refused = bob.post(
        f"/p/{thread['post']}/comments",
        data={"csrf": csrf_of(page.text), "body": "Groot."},
        files=files(1, size=100 * KB),
    )

    assert refused.status_code == 413
    assert "A comment and its files may be at most 0 MB together. Nothing was posted" in refused.text
    with context.session_scope() as session:
        assert session.query(Comment).count() == 0
    assert uploads_left(data_dir) == []


def test_a_held_web_comment_keeps_its_file_until_a_moderator_approves_it(context, thread):
    with context.session_scope() as session:
        group = groups.get_group(session, "engineering")
        group.posting_policy = PostingPolicy.MODERATED
        moderation.set_moderator(session, group, accounts.get_user(session, "alice@example.com"))
        groups.add_member(session, group, accounts.get_user(session, "carol@example.com"))
    carol = signed_in(context, "carol@example.com")
    page = carol.get(f"/p/{thread['post']}")

    held = carol.post(
        f"/p/{thread['post']}/comments", data={"csrf": csrf_of(page.text), "body": "Mijn meting."}, files=files(1)
    )

    assert held.status_code == 200 and "waits for a moderator" in held.text
    with context.session_scope() as session:
        waiting = session.query(HeldMessage).one()
        assert [f.filename for f in waiting.files] == ["meting-0.csv"]
        moderation.approve(session, waiting, accounts.get_user(session, "alice@example.com"))
    with context.session_scope() as session:
        assert [a.filename for a in session.query(Comment).one().attachments] == ["meting-0.csv"]


def test_an_api_comment_carries_files_and_shows_them(context, thread):
    made = api(context, thread, "bob@example.com").post(
        f"/api/posts/{thread['post']}/comments", data={"body": "Metingen erbij."}, files=files(2)
    )

    assert made.status_code == 201, made.text
    assert sorted(a["filename"] for a in made.json()["attachments"]) == ["meting-0.csv", "meting-1.csv"]
    shown = api(context, thread, "bob@example.com").get(f"/api/posts/{thread['post']}").json()
    assert sorted(a["filename"] for a in shown["comments"][0]["attachments"]) == ["meting-0.csv", "meting-1.csv"]


def test_an_api_comment_past_the_limits_gets_413_and_nothing_is_posted(context, thread, data_dir):
    bob = api(context, thread, "bob@example.com")

    too_many = bob.post(f"/api/posts/{thread['post']}/comments", data={"body": "x"}, files=files(3))
    too_large = bob.post(f"/api/posts/{thread['post']}/comments", data={"body": "x"}, files=files(1, size=100 * KB))

    assert too_many.status_code == too_large.status_code == 413
    assert "Too many files" in too_many.json()["detail"]
    assert "PLEIN_WEB_UPLOAD_MAX_BYTES" in too_large.json()["detail"]
    with context.session_scope() as session:
        assert session.query(Comment).count() == 0
    assert uploads_left(data_dir) == []


def test_a_non_member_cannot_comment_with_a_file_on_a_private_groups_post_nor_learn_it_exists(context, thread):
    with context.session_scope() as session:
        alice = accounts.get_user(session, "alice@example.com")
        board = groups.create_group(session, "board", "Board", private=True)
        groups.add_member(session, board, alice)
        secret = posts.create_post(session, board, alice, "Reorganisatie", "Vertrouwelijk.").id
    carol = api(context, thread, "carol@example.com")

    hidden = carol.post(f"/api/posts/{secret}/comments", data={"body": "Hoi"}, files=files(1))
    missing = carol.post(f"/api/posts/{secret + 1000}/comments", data={"body": "Hoi"}, files=files(1))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(secret), "N") == missing.json()["detail"].replace(
        str(secret + 1000), "N"
    )
    with context.session_scope() as session:
        assert session.query(Comment).count() == 0
