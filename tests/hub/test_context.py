"""One context per process, built once and handed down: nothing of one hub is shared with another."""

from __future__ import annotations

import shutil

from hub.models import Post
from hub.services import accounts, groups, posts
from tests.support.hub import hub_context


def test_two_contexts_on_two_data_directories_in_one_process_keep_their_posts_apart(tmp_path, migrated_database):
    hubs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        shutil.copyfile(migrated_database, tmp_path / name / "plein.db")
        hubs.append(hub_context(tmp_path / name))
    first, second = hubs
    with first.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        posts.create_post(session, groups.create_group(session, "engineering", "Engineering"), alice, "Storing", "Tekst")

    with first.session_scope() as session:
        assert [post.title for post in session.query(Post)] == ["Storing"]
    with second.session_scope() as session:
        assert session.query(Post).count() == 0
        assert accounts.find_user(session, "alice@example.com") is None
    for hub in hubs:
        hub.close()

