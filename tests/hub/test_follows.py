"""Following and muting (issue 17): joining a group follows it, leaving unfollows it, writing in a
thread follows it; muting silences a target and unmuting gives the follow back."""

from __future__ import annotations

import pytest

from hub.services import accounts, follows, groups, posts
from hub.services.errors import Invalid


@pytest.fixture
def people(session):
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
    team = groups.create_group(session, "team", "Team")
    board = groups.create_group(session, "board", "Board", private=True)
    return anna, bram, team, board


def test_joining_a_group_follows_it_and_leaving_unfollows_it(session, people):
    anna, _, team, _ = people
    groups.join_group(session, team, anna)
    assert follows.is_following(session, anna, team)
    groups.remove_member(session, team, anna)
    assert not follows.is_following(session, anna, team)
    assert follows.standing(session, anna, team) is None


def test_writing_a_post_or_a_comment_follows_its_thread(session, people):
    anna, bram, team, _ = people
    groups.add_member(session, team, anna)
    post = posts.create_post(session, team, anna, "Planning", "Wie doet wat?")
    assert follows.is_following(session, anna, post)
    assert not follows.is_following(session, bram, post)
    posts.create_comment(session, post, bram, "Ik doe de kabels.")
    assert follows.is_following(session, bram, post)


def test_muting_a_followed_thread_silences_it_and_unmuting_gives_the_follow_back(session, people):
    anna, _, team, _ = people
    groups.add_member(session, team, anna)
    post = posts.create_post(session, team, anna, "Planning", "Wie doet wat?")
    follows.mute(session, anna, post)
    assert follows.is_muted(session, anna, post) and not follows.is_following(session, anna, post)
    follows.unmute(session, anna, post)
    assert follows.is_following(session, anna, post) and not follows.is_muted(session, anna, post)


def test_following_twice_keeps_one_row_and_unfollowing_what_was_never_followed_is_quiet(session, people):
    anna, bram, *_ = people
    first = follows.follow(session, anna, bram)
    assert follows.follow(session, anna, bram).id == first.id
    follows.unfollow(session, anna, "nooit-gevolgd")
    assert [row.person_id for row in follows.list_follows(session, anna)] == [bram.id]


def test_a_tag_is_followed_in_lower_case_without_its_hash(session, people):
    anna, *_ = people
    follows.follow(session, anna, "#Storing")
    assert follows.is_following(session, anna, "storing")
    with pytest.raises(Invalid):
        follows.follow(session, anna, "#12")


def test_the_follows_of_a_group_one_left_are_kept_but_not_listed(session, people):
    anna, bram, _, board = people
    groups.add_member(session, board, anna)
    groups.add_member(session, board, bram)
    secret = posts.create_post(session, board, bram, "Reorganisatie", "Alleen voor het bestuur.")
    follows.follow(session, anna, secret)
    follows.follow(session, anna, board)
    groups.remove_member(session, board, anna)
    assert follows.list_follows(session, anna) == []
    assert follows.standing(session, anna, secret).following
