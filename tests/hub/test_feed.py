"""The home feed (issue 17): what a reader follows, newest first, a page at a time; unread marks; `/` as the feed
with a composer, the list of groups at `/groups`, and a group's threads by last activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from hub.db import upgrade_database
from hub.models import Comment, Post, ThreadRead
from hub.services import accounts, feed, follows, groups, posts, reactions
from hub.services.errors import Invalid
from hub.web.app import create_app
from tests.support.hub import hub_context
from tests.support.web import signed_in_with_csrf

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True, params=["window", "per follow"])
def way(request, monkeypatch):
    """Each test twice: with every item in the window of the newest, and with a window of two, so that pages
    are read per kind of follow past it (`hub.services.feed.feed_keys`)."""
    if request.param == "per follow":
        monkeypatch.setattr(feed, "RECENT", 2)
        monkeypatch.setattr(feed, "WINDOWS", 2)
    return request.param


@pytest.fixture
def hub(session):
    return people_and_groups(session)


def people_and_groups(session):
    """Anna reads. Bram and Carol write; Team and Club are public, Board is private with Bram (not Anna) in it."""
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
    carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
    team = groups.create_group(session, "team", "Team")
    club = groups.create_group(session, "club", "Club")
    board = groups.create_group(session, "board", "Board", private=True)
    for group in (team, club):
        for person in (anna, bram, carol):
            groups.add_member(session, group, person)
    groups.add_member(session, board, bram)
    follows.unfollow(session, anna, club)
    return anna, bram, carol, team, club, board


def write(session, group, author, title, body="", minutes=0):
    post = posts.create_post(session, group, author, title, body or title)
    post.created_at = START + timedelta(minutes=minutes)
    session.flush()
    return post


def answer(session, post, author, body, minutes=0):
    comment = posts.create_comment(session, post, author, body)
    comment.created_at = START + timedelta(minutes=minutes)
    session.flush()
    return comment


def seen(session, reader, cursor=None, size=feed.PAGE_SIZE):
    return [(item.kind, item.id) for item in feed.home_feed(session, reader, cursor, size).items]


@pytest.fixture
def postgres_session(postgres, tmp_path):
    built = hub_context(tmp_path / "data", database_url=postgres.fresh_database("home_feed"))
    upgrade_database(built.settings)
    with built.session_scope() as session:
        yield session
    built.close()


def test_on_postgresql_the_feed_leaves_out_hidden_groups_and_muted_threads_and_pages_on(postgres_session):
    session = postgres_session
    anna, bram, carol, team, club, board = people_and_groups(session)
    follows.follow(session, anna, bram)
    secret = write(session, board, bram, "Geheim", minutes=1)
    muted = write(session, team, carol, "Stil", minutes=2)
    follows.mute(session, anna, muted)
    shown = [write(session, team, bram, f"Bericht {n}", minutes=3 + n) for n in range(3)]
    answer(session, secret, bram, "Ook geheim", minutes=9)
    first = feed.home_feed(session, anna, size=2)
    assert [item.id for item in first.items] == [shown[2].id, shown[1].id]
    assert seen(session, anna, first.next_cursor, size=2) == [("post", shown[0].id)]


# What appears


def test_the_feed_holds_what_followed_people_groups_tags_and_threads_wrote_newest_first(session, hub):
    anna, bram, carol, team, club, _ = hub
    in_team = write(session, team, carol, "Planning", minutes=1)
    by_bram = write(session, club, bram, "Bram in de club", minutes=2)
    tagged = write(session, club, carol, "Over #storing", minutes=3)
    thread = write(session, club, carol, "Een draad", minutes=4)
    reply = answer(session, thread, carol, "Een antwoord in een gevolgde draad", minutes=5)
    team_reply = answer(session, in_team, carol, "Een antwoord in Team", minutes=6)
    follows.follow(session, anna, bram)
    follows.follow(session, anna, "storing")
    follows.follow(session, anna, thread)
    assert seen(session, anna) == [
        ("comment", team_reply.id),
        ("comment", reply.id),
        ("post", tagged.id),
        ("post", by_bram.id),
        ("post", in_team.id),
    ]


def test_what_is_not_followed_stays_out_and_unfollowing_takes_it_out(session, hub):
    anna, bram, carol, team, club, _ = hub
    write(session, club, carol, "Niet gevolgd", minutes=1)
    by_bram = write(session, club, bram, "Van Bram", minutes=2)
    follows.follow(session, anna, bram)
    assert seen(session, anna) == [("post", by_bram.id)]
    follows.unfollow(session, anna, bram)
    assert seen(session, anna) == []


def test_a_muted_thread_group_person_or_tag_stays_out_though_followed_another_way(session, hub):
    anna, bram, carol, team, club, _ = hub
    thread = write(session, team, carol, "Lawaai", minutes=1)
    answer(session, thread, carol, "Nog meer lawaai", minutes=2)
    by_bram = write(session, team, bram, "Van Bram", minutes=3)
    tagged = write(session, team, carol, "Over #kantine", minutes=4)
    follows.follow(session, anna, thread)
    follows.mute(session, anna, thread)
    follows.mute(session, anna, bram)
    follows.mute(session, anna, "kantine")
    assert seen(session, anna) == []
    follows.unmute(session, anna, bram)
    follows.unmute(session, anna, "kantine")
    assert seen(session, anna) == [("post", tagged.id), ("post", by_bram.id)]
    follows.mute(session, anna, team)
    assert seen(session, anna) == []


def test_a_comment_removed_by_its_author_never_appears(session, hub):
    anna, bram, carol, team, *_ = hub
    post = write(session, team, carol, "Planning", minutes=1)
    comment = answer(session, post, bram, "Oeps", minutes=2)
    posts.delete_comment(session, comment, bram)
    assert seen(session, anna) == [("post", post.id)]


def test_ones_own_items_appear_but_are_never_unread(session, hub):
    anna, _, carol, team, *_ = hub
    mine = write(session, team, anna, "Van mij", minutes=1)
    theirs = answer(session, mine, carol, "Van Carol", minutes=2)
    items = {(item.kind, item.id): item for item in feed.home_feed(session, anna).items}
    assert not items["post", mine.id].unread and items["comment", theirs.id].unread


# Pages


def test_pages_follow_each_other_without_gaps_or_repeats_also_through_items_written_at_one_instant(session, hub):
    anna, bram, carol, team, *_ = hub
    written = []
    for n in range(9):
        post = write(session, team, bram, f"Bericht {n}", minutes=n // 3)
        written.append(("post", post.id))
        written.append(("comment", answer(session, post, carol, f"Antwoord {n}", minutes=n // 3).id))
    pages, cursor = [], None
    while True:
        page = feed.home_feed(session, anna, cursor, size=4)
        pages.append([(item.kind, item.id) for item in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    together = [item for page in pages for item in page]
    assert sorted(together) == sorted(written) and len(together) == len(set(together))
    assert all(len(page) == 4 for page in pages[:-1]) and pages[-1]
    times = [item.created_at for item in feed.home_feed(session, anna, size=100).items]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("cursor", ["nonsense", "MjAyNnxhfGI", "", "%%%", "MjAyNi0wMy0wMXwxfDE"])
def test_a_cursor_the_feed_did_not_give_out_is_refused(session, hub, cursor):
    with pytest.raises(Invalid):
        feed.home_feed(session, hub[0], cursor or "x")


def test_a_page_costs_a_bounded_number_of_queries_whatever_its_size_with_reactions_read_in_one(session, hub, context):
    anna, bram, carol, team, *_ = hub
    for n in range(12):
        post = write(session, team, bram, f"Bericht {n}", minutes=n)
        reactions.react(session, carol, post, "like")
        answer(session, post, carol, f"Antwoord {n}", minutes=n)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(context.engine, "before_cursor_execute", listener)
    try:
        small = len(feed.home_feed(session, anna, size=5).items)
        few = len(statements)
        statements.clear()
        large = feed.home_feed(session, anna, size=20).items
    finally:
        event.remove(context.engine, "before_cursor_execute", listener)
    most = 1 + 3 * feed.WINDOWS + 1 + 4  # follows; each window; per follow; items, reactions, read marks
    assert small == 5 and len(large) == 20 and few <= most and len(statements) <= most
    assert sum("reactions" in s for s in statements) == 1
    assert next(i for i in large if i.kind == "post").reactions["like"] == 1


# Unread


def test_opening_a_thread_reads_it_and_what_is_written_after_is_unread_again(session, hub):
    anna, bram, _, team, *_ = hub
    post = posts.create_post(session, team, bram, "Planning", "Wie doet wat?")
    assert [item.unread for item in feed.home_feed(session, anna).items] == [True]
    feed.mark_read(session, anna, post)
    feed.mark_read(session, anna, post)
    assert session.scalar(select(ThreadRead.read_at).where(ThreadRead.user_id == anna.id)) is not None
    assert [item.unread for item in feed.home_feed(session, anna).items] == [False]
    later = posts.create_comment(session, post, bram, "Ik doe de kabels.")
    later.created_at = datetime.now(UTC) + timedelta(seconds=5)
    session.flush()
    assert [item.unread for item in feed.home_feed(session, anna).items] == [True, False]


# Privacy


def test_a_private_groups_items_never_reach_a_non_member_who_follows_its_author_its_tag_or_a_thread(session, hub):
    anna, bram, _, _, _, board = hub
    secret = write(session, board, bram, "Reorganisatie #plannen", minutes=1)
    answer(session, secret, bram, "Meer #plannen", minutes=2)
    follows.follow(session, anna, bram)
    follows.follow(session, anna, "plannen")
    assert seen(session, anna) == []
    assert seen(session, bram) != []


def test_after_leaving_a_private_group_its_items_leave_the_feed_though_the_follows_are_kept(session, hub):
    anna, bram, _, _, _, board = hub
    groups.add_member(session, board, anna)
    secret = write(session, board, bram, "Reorganisatie", minutes=1)
    answer(session, secret, bram, "Vertrouwelijk", minutes=2)
    follows.follow(session, anna, secret)
    follows.follow(session, anna, bram)
    assert len(seen(session, anna)) == 2
    groups.remove_member(session, board, anna)
    assert seen(session, anna) == []


# Group page


def test_a_groups_threads_come_by_last_activity_with_unread_for_what_others_wrote_since_reading(session, hub):
    anna, bram, _, team, *_ = hub
    old = write(session, team, bram, "Oud", minutes=1)
    new = write(session, team, bram, "Nieuw", minutes=2)
    own = write(session, team, anna, "Van mij", minutes=3)
    answer(session, old, bram, "Het oude leeft weer", minutes=4)
    feed.mark_read(session, anna, new)
    page = feed.threads_by_activity(session, anna, team)
    assert [(t.post.id, t.unread, t.comments) for t in page.threads] == [
        (old.id, True, 1),
        (own.id, False, 0),
        (new.id, False, 0),
    ]
    assert page.threads[0].last_activity == START + timedelta(minutes=4)


# Over HTTP


@pytest.fixture
def web(context):
    with context.session_scope() as session:
        anna, bram, carol, team, _, board = (
            accounts.create_user(session, "anna@example.com", "Anna de Vries"),
            accounts.create_user(session, "bram@example.com", "Bram Bos"),
            accounts.create_user(session, "carol@example.com", "Carol Claes"),
            groups.create_group(session, "team", "Team"),
            groups.create_group(session, "club", "Club"),
            groups.create_group(session, "board", "Board", private=True),
        )
        for person in (anna, bram):
            groups.add_member(session, team, person)
        groups.add_member(session, board, bram)
        post = posts.create_post(session, team, bram, "Planning", "Wie doet wat?")
        secret = posts.create_post(session, board, bram, "Reorganisatie", "Alleen voor het bestuur.")
        session.flush()
        return {
            "post": post.id,
            "secret": secret.id,
            "token": accounts.create_api_token(session, anna),
            "carol": accounts.create_api_token(session, carol),
        }


def test_api_feed_gives_items_with_exactly_the_contract_fields(context, web):
    client = TestClient(create_app(context), headers={"Authorization": f"Bearer {web['token']}"})
    answer = client.get("/api/feed")
    assert answer.status_code == 200 and answer.json()["next_cursor"] is None
    [item] = answer.json()["items"]
    assert set(item) == {
        "kind",
        "post_id",
        "id",
        "title",
        "snippet",
        "author",
        "group",
        "created_at",
        "reactions",
        "unread",
    }
    assert (item["kind"], item["id"], item["post_id"], item["group"], item["unread"]) == (
        "post",
        web["post"],
        web["post"],
        "team",
        True,
    )
    assert item["author"]["email"] == "bram@example.com" and item["reactions"]["like"] == 0


def test_api_feed_refuses_a_bad_cursor_with_400_and_a_reason(context, web):
    client = TestClient(create_app(context), headers={"Authorization": f"Bearer {web['token']}"})
    answer = client.get("/api/feed", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 400 and "cursor" in answer.json()["detail"]
    assert TestClient(create_app(context)).get("/api/feed").status_code == 401


def test_home_is_the_feed_with_a_composer_and_the_groups_moved_to_their_own_page(context, web):
    client, _ = signed_in_with_csrf(context, "anna@example.com")
    home = client.get("/").text
    assert "Planning" in home and 'action="/share"' in home and '<option value="team">' in home
    assert '<option value="board">' not in home and "Reorganisatie" not in home
    listing = client.get("/groups").text
    assert "/g/team" in listing and "/g/club" in listing and "/g/board" not in listing
    assert TestClient(create_app(context)).get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_the_composer_posts_to_the_chosen_group_through_its_post_path(context, web):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    posted = client.post(
        "/compose",
        data={"csrf": csrf, "group": "team", "title": "Vanaf thuis", "body": "Hallo"},
        files={"files": ("", b"")},
    )
    assert posted.status_code == 200 and "Vanaf thuis" in posted.text
    with context.session_scope() as session:
        assert session.scalar(select(Post.group_id).where(Post.title == "Vanaf thuis")) is not None
    refused = client.post(
        "/compose", data={"csrf": csrf, "group": "board", "title": "Stiekem", "body": "x"}, files={"files": ("", b"")}
    )
    assert refused.status_code == 404


def test_opening_a_thread_on_the_web_marks_it_read_and_the_group_page_shows_it(context, web):
    client, _ = signed_in_with_csrf(context, "anna@example.com")
    assert 'class="badge unread"' in client.get("/g/team").text
    client.get(f"/p/{web['post']}")
    assert 'class="badge unread"' not in client.get("/g/team").text
    assert 'class="badge unread"' not in client.get("/").text


def test_a_non_member_opening_a_private_thread_gets_the_404_of_a_missing_one_and_no_read_mark(context, web):
    client, _ = signed_in_with_csrf(context, "carol@example.com")
    assert client.get(f"/p/{web['secret']}").status_code == client.get("/p/999999").status_code == 404
    with context.session_scope() as session:
        assert session.scalar(select(ThreadRead)) is None
        assert session.scalar(select(Comment)) is None


def test_api_feed_snippets_are_plain_words_of_a_markdown_post_and_comment(context, web):
    with context.session_scope() as session:
        post = session.get(Post, web["post"])
        posts.create_comment(session, post, post.author, "Done: **all** of [it](https://example.org) ![](done.png)")
        posts.edit_post(session, post, post.author, "Planning", "# Who\n\n| Task | Who |\n|---|---|\n| Docs | ~~Bram~~ |")
    client = TestClient(create_app(context), headers={"Authorization": f"Bearer {web['token']}"})
    snippets = [item["snippet"] for item in client.get("/api/feed").json()["items"]]
    assert snippets == ["Done: all of it done.png", "Who Task Who Docs Bram"]
