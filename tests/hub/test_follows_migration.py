"""Migration 0021 makes the follows that joining and writing make from now on, for what was joined and
written before it, and records the tags already written; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from hub.db import upgrade_database
from hub.models import Tagging
from hub.services import accounts, follows, groups, posts
from tests.support.migrations import at_revision, insert

NOW = datetime(2026, 11, 2, 9, 0)



@pytest.fixture
def context(unmigrated_context):
    """Here the hub's database is made at an older revision by the test itself."""
    return unmigrated_context


def made_before_0021(context) -> None:
    """Anna is in Team and wrote a post with tags; Bram, in no group, commented on it with a tag and a removed one."""
    with at_revision(context, "0020") as connection:
        for user_id, email in ((1, "anna@example.com"), (2, "bram@example.com")):
            insert(connection, "users", id=user_id, email=email, name=email.split("@")[0].title(), created_at=NOW,
                   timezone="UTC", digest_hour=7, digest_weekday=0, language="nl", notify_replies=True)
        insert(connection, "groups", id=1, slug="team", name="Team", description="", is_private=False, created_at=NOW)
        insert(connection, "memberships", id=1, user_id=1, group_id=1, delivery="each", created_at=NOW)
        insert(connection, "posts", id=1, group_id=1, author_id=1, title="Storing #Utrecht",
               body_text="Ticket #12, zie #glasvezel.", created_at=NOW)
        insert(connection, "comments", id=1, post_id=1, author_id=2, body_text="Ook in #utrecht-oost", created_at=NOW)
        insert(connection, "comments", id=2, post_id=1, author_id=2, body_text="", created_at=NOW, removed_at=NOW)


def test_members_follow_their_groups_writers_their_threads_and_old_tags_are_recorded(context):
    made_before_0021(context)

    upgrade_database(context.settings)

    with context.session_scope() as session:
        anna, bram = accounts.get_user(session, "anna@example.com"), accounts.get_user(session, "bram@example.com")
        team = groups.get_group(session, "team")
        post = posts.get_post(session, anna, 1)
        assert follows.is_following(session, anna, team) and not follows.is_following(session, bram, team)
        assert follows.is_following(session, anna, post) and follows.is_following(session, bram, post)
        assert sorted(session.execute(select(Tagging.tag, Tagging.comment_id)).all(), key=str) == sorted(
            [("utrecht", None), ("glasvezel", None), ("utrecht-oost", 1)], key=str
        )
