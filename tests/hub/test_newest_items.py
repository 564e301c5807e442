"""The newest items a process keeps for the home feed (hub.services.newest_items): never a stale page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.models import Post
from hub.services import accounts, feed, groups, posts
from hub.services.newest_items import NewestItems

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def hub(session):
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
    team = groups.create_group(session, "team", "Team")
    for person in (anna, bram):
        groups.add_member(session, team, person)
    return anna, bram, team


def titles(session, reader) -> list[str]:
    return [
        item.title if item.kind == "post" else f"re: {item.title}" for item in feed.home_feed(session, reader).items
    ]


def test_what_is_written_after_a_process_read_the_newest_items_comes_in_and_what_is_removed_leaves(session, hub):
    anna, bram, team = hub
    first = posts.create_post(session, team, bram, "Planning", "Wie doet wat?")
    assert titles(session, anna) == ["Planning"]

    answer = posts.create_comment(session, first, bram, "Ik doe de kabels.")
    answer.created_at = datetime.now(UTC) + timedelta(seconds=5)
    posts.create_post(session, team, bram, "Storing", "LOS rood")
    session.flush()
    assert titles(session, anna) == ["re: Planning", "Storing", "Planning"]

    answer.removed_at = datetime.now(UTC)
    session.flush()
    assert titles(session, anna) == ["Storing", "Planning"]


def test_an_item_whose_id_came_before_one_already_taken_in_still_comes_in(session, context, hub):
    """Ids are handed out before commit: a post may commit after one with a higher id was read."""
    anna, bram, team = hub
    posts.create_post(session, team, bram, "Eerste", "een")
    later = Post(group_id=team.id, author_id=bram.id, title="Later", body_text="twee", created_at=START)
    later.id = session.get(Post, 1).id + 10  # within LAG of the ids after it
    session.add(later)
    session.flush()
    assert titles(session, anna) == ["Eerste", "Later"]

    earlier = Post(group_id=team.id, author_id=bram.id, title="Vertraagd", body_text="drie", created_at=START)
    earlier.id = later.id - 1
    session.add(earlier)
    newest = Post(group_id=team.id, author_id=bram.id, title="Nieuwst", body_text="vier", created_at=START)
    newest.id = later.id + 1
    session.add(newest)
    session.flush()
    assert titles(session, anna) == ["Eerste", "Nieuwst", "Later", "Vertraagd"]


def test_each_context_keeps_its_own_newest_items(session, context, hub):
    anna, bram, team = hub
    posts.create_post(session, team, bram, "Planning", "Wie doet wat?")
    feed.home_feed(session, anna)
    kept = context.kept["newest items"]
    assert isinstance(kept, NewestItems)
    assert [item.key[2] for item in kept.window(session.connection(), 10).items.values()] == [1]
