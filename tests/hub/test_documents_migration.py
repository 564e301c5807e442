"""Migration 0032 files what was shared before it in the groups' libraries, as sharing does from then on."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.db import upgrade_database
from hub.services import documents, groups
from tests.support.migrations import at_revision, insert

NOW = datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def context(unmigrated_context):
    """Here the hub's database is made at an older revision by the test itself."""
    return unmigrated_context


def test_files_shared_before_the_library_become_documents_with_their_versions(context):
    with at_revision(context, "0029") as connection:
        insert(
            connection,
            "users",
            id=1,
            email="anna@example.com",
            name="Anna",
            created_at=NOW,
            timezone="UTC",
            digest_hour=7,
            digest_weekday=0,
            language="nl",
            notify_replies=True,
        )
        for group_id, slug in ((1, "team"), (2, "board")):
            insert(
                connection,
                "groups",
                id=group_id,
                slug=slug,
                name=slug.title(),
                description="",
                is_private=False,
                created_at=NOW,
            )
        for post_id, group_id in ((1, 1), (2, 1), (3, 2)):
            insert(
                connection,
                "posts",
                id=post_id,
                group_id=group_id,
                author_id=1,
                title=f"Post {post_id}",
                body_text="Zie bijlage.",
                created_at=NOW,
            )
        shared = [
            (1, 1, "Plan.pdf", "application/pdf", None),
            (2, 2, "plan.PDF", "application/octet-stream", None),
            (3, 3, "plan.pdf", "application/pdf", None),
            (4, 1, "IMG_1.jpg", "image/jpeg", None),
            (5, 2, "img_1.JPG", "application/octet-stream", None),
            (6, 2, "image001.png", "image/png", "<logo@x>"),
        ]
        for attachment_id, post_id, filename, content_type, content_id in shared:
            insert(
                connection,
                "attachments",
                id=attachment_id,
                post_id=post_id,
                filename=filename,
                content_type=content_type,
                size=attachment_id * 100,
                sha256="0" * 64,
                content_id=content_id,
                created_at=NOW,
            )

    upgrade_database(context.settings)

    with context.session_scope() as session:
        team = documents.library(session, groups.get_group(session, "team"), sort="name", order="asc")
        assert [(e.current.filename, e.versions) for e in team.entries] == [
            ("IMG_1.jpg", 1),
            ("img_1.JPG", 1),
            ("plan.PDF", 2),  # a photo stands alone
        ]
        board = documents.library(session, groups.get_group(session, "board"))
        assert [(e.current.filename, e.versions) for e in board.entries] == [("plan.pdf", 1)]
