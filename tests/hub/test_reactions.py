"""Reactions on posts and comments (issue 17): given and taken back on the web, over the API and by mail,
shown with counts and who gave them, and never to anyone who may not see the item."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from hub.models import Comment, InboundStatus, Post, Reaction
from hub.services import (
    accounts,
    groups,
    inbound,
    index_writer,
    message_ids,
    notifications,
    posts,
    reactions,
)
from hub.services.errors import Invalid
from hub.web.app import create_app
from tests.support.web import signed_in_with_csrf

DOMAIN = "plein.test"


@pytest.fixture
def hub(context):
    """Team (public) with a post and a comment; Board (private) with a post. Anna and Bram are in both, Carol in
    neither. Returns their ids and API tokens."""
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
        carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
        team = groups.create_group(session, "team", "Team")
        board = groups.create_group(session, "board", "Board", private=True)
        for group in (team, board):
            groups.add_member(session, group, anna)
            groups.add_member(session, group, bram)
        post = posts.create_post(session, team, anna, "Planning", "Wie doet wat?")
        comment = posts.create_comment(session, post, bram, "Ik doe de kabels.")
        secret = posts.create_post(session, board, anna, "Reorganisatie", "Alleen voor het bestuur.")
        session.flush()
        return {
            "post": post.id, "comment": comment.id, "secret": secret.id,
            "tokens": {u.email.partition("@")[0]: accounts.create_api_token(session, u) for u in (anna, bram, carol)},
        }


def api(context, hub, who: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {hub['tokens'][who]}"})


def user(session, name: str):
    return accounts.get_user(session, f"{name}@example.com")


# The service


def test_giving_a_reaction_twice_keeps_one_and_taking_it_back_twice_is_no_error(session, hub):
    anna, post = user(session, "anna"), session.get(Post, hub["post"])
    assert reactions.react(session, anna, post, "like") is True
    assert reactions.react(session, anna, post, "like") is False
    assert reactions.react(session, anna, post, "thanks") is True
    assert session.query(Reaction).count() == 2
    assert reactions.unreact(session, anna, post, "like") is True
    assert reactions.unreact(session, anna, post, "like") is False
    assert [r.reaction for r in session.query(Reaction)] == ["thanks"]


def test_a_reaction_to_a_comment_is_not_one_to_its_post(session, hub):
    anna, post, comment = user(session, "anna"), session.get(Post, hub["post"]), session.get(Comment, hub["comment"])
    reactions.react(session, anna, comment, "like")
    reactions.react(session, anna, post, "like")
    thread = reactions.of_thread(session, anna, post)
    assert thread.post.counts["like"] == 1 and thread.of(comment).counts["like"] == 1
    reactions.unreact(session, anna, comment, "like")
    thread = reactions.of_thread(session, anna, post)
    assert thread.post.counts["like"] == 1 and thread.of(comment).counts["like"] == 0


def test_a_reaction_not_in_the_list_is_refused_with_the_list(session, hub):
    with pytest.raises(Invalid, match="like, thanks, agree, insightful, celebrate"):
        reactions.react(session, user(session, "anna"), session.get(Post, hub["post"]), "love")


def test_a_threads_reactions_are_read_in_one_query_with_counts_mine_and_who(session, hub):
    anna, bram, carol = user(session, "anna"), user(session, "bram"), user(session, "carol")
    post = session.get(Post, hub["post"])
    extra = [posts.create_comment(session, post, carol, f"Punt {n}") for n in range(5)]
    reactions.react(session, bram, post, "like")
    reactions.react(session, anna, post, "like")
    reactions.react(session, carol, post, "celebrate")
    for comment in extra:
        reactions.react(session, anna, comment, "insightful")
    session.flush()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        thread = reactions.of_thread(session, anna, post)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len(statements) == 1
    assert thread.post.counts == {"like": 2, "thanks": 0, "agree": 0, "insightful": 0, "celebrate": 1}
    assert thread.post.mine == {"like"} and thread.post.total == 3
    assert [p.name for p in thread.post.people["like"]] == ["Bram Bos", "Anna de Vries"]
    assert all(thread.of(c).counts["insightful"] == 1 and thread.of(c).mine == {"insightful"} for c in extra)
    assert reactions.of_thread(session, bram, post).of(extra[0]).mine == frozenset()


def test_deleting_a_comment_or_post_takes_its_reactions_along(session, hub):
    anna, bram = user(session, "anna"), user(session, "bram")
    post, comment = session.get(Post, hub["post"]), session.get(Comment, hub["comment"])
    reactions.react(session, anna, comment, "thanks")
    reactions.react(session, bram, post, "like")
    posts.delete_comment(session, comment, bram)
    assert [r.reaction for r in session.query(Reaction)] == ["like"]
    with pytest.raises(Invalid, match="removed by its author"):
        reactions.react(session, anna, comment, "like")
    posts.delete_post(session, post, anna)
    assert session.query(Reaction).count() == 0


def test_counts_for_search_hits_leave_out_what_the_reader_may_not_see(session, hub):
    anna, carol = user(session, "anna"), user(session, "carol")
    post, secret = session.get(Post, hub["post"]), session.get(Post, hub["secret"])
    reactions.react(session, anna, post, "like")
    reactions.react(session, anna, secret, "like")
    hits = [("post", post.id), ("post", secret.id), ("comment", hub["comment"]), ("person", anna.id)]
    assert reactions.counts_of(session, anna, hits) == {
        ("post", post.id): {"like": 1, "thanks": 0, "agree": 0, "insightful": 0, "celebrate": 0},
        ("post", secret.id): {"like": 1, "thanks": 0, "agree": 0, "insightful": 0, "celebrate": 0},
    }
    assert reactions.counts_of(session, carol, hits) == {
        ("post", post.id): {"like": 1, "thanks": 0, "agree": 0, "insightful": 0, "celebrate": 0},
    }


@pytest.mark.parametrize("text", [
    "+1", " +1 ", "+1!", "👍", "👍🏽", "👍🏿", "👍\ufe0f", "like", "Like!", "LIKE.", "eens", "Eens!", "duim omhoog",
    "Duim Omhoog", "duim  omhoog.", "(+1)",
])
def test_a_reply_that_says_only_a_like_is_a_like(text):
    assert reactions.is_like(text)


@pytest.mark.parametrize("text", [
    "+1 but what about X", "+2", "1", "", "likes", "I like it", "eens, maar", "niet eens", "👍 top", "+1\n\nEn ook:",
    "duim", "👎",
])
def test_a_reply_that_says_more_than_a_like_is_not_one(text):
    assert not reactions.is_like(text)


# The API


def test_put_gives_a_reaction_201_then_200_and_delete_takes_it_back_every_time(context, hub):
    client = api(context, hub, "bram")
    url = f"/api/posts/{hub['post']}/reactions/like"
    first, again = client.put(url), client.put(url)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["like"] == {
        "count": 1, "reacted": True, "people": [{"name": "Bram Bos", "email": "bram@example.com"}],
    }
    assert set(first.json()) == {"like", "thanks", "agree", "insightful", "celebrate"}
    for _ in range(2):
        gone = client.delete(url)
        assert gone.status_code == 200 and gone.json()["like"] == {"count": 0, "reacted": False, "people": []}


def test_put_on_a_comment_reacts_to_the_comment(context, hub):
    client = api(context, hub, "anna")
    answer = client.put(f"/api/comments/{hub['comment']}/reactions/insightful")
    assert answer.status_code == 201 and answer.json()["insightful"]["count"] == 1
    assert client.delete(f"/api/comments/{hub['comment']}/reactions/insightful").json()["insightful"]["count"] == 0


def test_an_unknown_reaction_is_a_400_that_names_the_choices(context, hub):
    answer = api(context, hub, "anna").put(f"/api/posts/{hub['post']}/reactions/love")
    assert answer.status_code == 400
    assert "like, thanks, agree, insightful, celebrate" in answer.text


def test_get_post_shows_each_items_reactions_with_who_and_whether_the_caller_gave_them(context, hub):
    api(context, hub, "anna").put(f"/api/posts/{hub['post']}/reactions/celebrate")
    api(context, hub, "bram").put(f"/api/comments/{hub['comment']}/reactions/thanks")
    seen = api(context, hub, "bram").get(f"/api/posts/{hub['post']}").json()
    assert seen["reactions"]["celebrate"] == {
        "count": 1, "reacted": False, "people": [{"name": "Anna de Vries", "email": "anna@example.com"}],
    }
    assert seen["comments"][0]["reactions"]["thanks"]["reacted"] is True
    assert seen["comments"][0]["reactions"]["like"] == {"count": 0, "reacted": False, "people": []}


def test_a_non_member_reacting_to_a_private_post_or_comment_gets_the_404_of_a_missing_one(context, hub):
    with context.session_scope() as session:
        secret_comment = posts.create_comment(session, session.get(Post, hub["secret"]), user(session, "bram"), "Ja.")
        session.flush()
        comment_id = secret_comment.id
    carol = api(context, hub, "carol")
    missing_post, missing_comment = 999_999, 999_998
    for kind, present, missing in (("posts", hub["secret"], missing_post), ("comments", comment_id, missing_comment)):
        for method in ("put", "delete"):
            seen = getattr(carol, method)(f"/api/{kind}/{present}/reactions/like")
            absent = getattr(carol, method)(f"/api/{kind}/{missing}/reactions/like")
            assert seen.status_code == absent.status_code == 404
            assert seen.text.replace(str(present), "ID") == absent.text.replace(str(missing), "ID")
        bad = carol.put(f"/api/{kind}/{present}/reactions/love")
        assert bad.status_code == 404  # not the 400 that would say the item is there
    with context.session_scope() as session:
        assert session.query(Reaction).count() == 0


# The web


def test_a_reaction_button_is_a_form_that_works_without_javascript_and_shows_who_gave_it(context, hub):
    client, csrf = signed_in_with_csrf(context, "bram@example.com")
    given = client.post(f"/p/{hub['post']}/reactions/like", data={"csrf": csrf, "given": "1"}, follow_redirects=False)
    assert (given.status_code, given.headers["location"]) == (303, f"/p/{hub['post']}#reactions")
    page = client.get(f"/p/{hub['post']}").text
    like = re.search(rf'action="/p/{hub["post"]}/reactions/like">(.*?)</form>', page, re.DOTALL)[1]
    assert 'aria-pressed="true"' in like and '<span class="count">1</span>' in like
    assert 'name="given" value="0"' in like
    assert '<span class="sr-only">Like</span>' in like
    assert re.search(r'<a class="person" href="/people/bram%40example.com">.*?Bram Bos</a>', page)
    assert "1 reaction" in page
    taken = client.post(f"/p/{hub['post']}/reactions/like", data={"csrf": csrf, "given": "0"}, follow_redirects=False)
    assert taken.status_code == 303
    page = client.get(f"/p/{hub['post']}").text
    assert '<button type="submit" class="reaction" aria-pressed="true"' not in page and "1 reaction" not in page


def test_a_reaction_to_a_comment_on_the_web_returns_to_that_comment(context, hub):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    answer = client.post(f"/comments/{hub['comment']}/reactions/agree", data={"csrf": csrf}, follow_redirects=False)
    assert answer.headers["location"] == f"/p/{hub['post']}#reactions-{hub['comment']}"
    page = client.get(f"/p/{hub['post']}").text
    assert re.search(rf'action="/comments/{hub["comment"]}/reactions/agree">.*?aria-pressed="true"', page, re.DOTALL)
    client.post(f"/comments/{hub['comment']}/reactions/agree", data={"csrf": csrf}, follow_redirects=False)
    with context.session_scope() as session:
        assert session.query(Reaction).count() == 1  # a form sent twice gives once


def test_a_reaction_form_without_its_csrf_token_is_refused(context, hub):
    client, _ = signed_in_with_csrf(context, "anna@example.com")
    assert client.post(f"/p/{hub['post']}/reactions/like", data={"given": "1"}).status_code == 403
    with context.session_scope() as session:
        assert session.query(Reaction).count() == 0


def test_a_non_member_reacting_on_the_web_to_a_private_post_gets_the_page_of_a_missing_one(context, hub):
    client, csrf = signed_in_with_csrf(context, "carol@example.com")
    seen = client.post(f"/p/{hub['secret']}/reactions/like", data={"csrf": csrf})
    absent = client.post("/p/999999/reactions/like", data={"csrf": csrf})
    assert seen.status_code == absent.status_code == 404
    assert f"no post {hub['secret']}" in seen.text
    assert seen.text.replace(f"no post {hub['secret']}", "no post ID") == absent.text.replace("no post 999999", "no post ID")


def test_the_reaction_words_read_in_dutch(context, hub):
    with context.session_scope() as session:
        user(session, "anna").language = "nl"
        reactions.react(session, user(session, "bram"), session.get(Post, hub["post"]), "like")
    client, _ = signed_in_with_csrf(context, "anna@example.com")
    page = client.get(f"/p/{hub['post']}").text
    assert '<span class="sr-only">Vind ik leuk</span>' in page and "1 waardering" in page
    assert 'aria-label="Waarderingen"' in page


# By mail


def reply(sender: str, body: str, to: str = f"team@{DOMAIN}", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "Re: Planning"
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def receive(session, raw: bytes, recipient: str = f"team@{DOMAIN}"):
    stored = inbound.store_inbound(session, raw, "sender@example.com", [recipient])
    return inbound.process_inbound(session, stored.id)


def answering(session, kind: str, number: int) -> dict[str, str]:
    ours = message_ids.message_id(session, kind, number)
    return {"In_Reply_To": ours, "References": ours}


OUTLOOK = (
    "+1\n\n"
    "From: Anna de Vries <anna@example.com>\nSent: Monday, 7 December 2026 09:12\nTo: Team <team@plein.test>\n"
    "Subject: Planning\n\nWie doet wat?\n"
)


@pytest.mark.parametrize("body", [
    "+1", "👍", "Like", "eens!", "Duim omhoog", "+1\n\nSent from my iPhone", OUTLOOK,
    "+1\n\nOp 7 dec. 2026 om 09:12 schreef Anna de Vries <anna@example.com>:\n> Wie doet wat?\n",
    "Eens.\n\n-- \nBram Bos\nPlein BV\n",
])
def test_a_reply_by_mail_saying_only_a_like_likes_the_post_and_makes_no_comment(session, hub, body):
    result = receive(session, reply("bram@example.com", body, **answering(session, "post", hub["post"])))
    assert result.status == InboundStatus.COMMAND
    assert result.reason.startswith(f"a like of post {hub['post']} from bram@example.com")
    assert session.query(Comment).count() == 1  # only the one made before
    [like] = session.query(Reaction).all()
    assert (like.user_id, like.post_id, like.comment_id, like.reaction) == (
        user(session, "bram").id, hub["post"], None, "like",
    )


def test_a_like_by_mail_answering_a_comment_likes_the_comment(session, hub):
    result = receive(session, reply("anna@example.com", "+1", **answering(session, "comment", hub["comment"])))
    assert result.reason.startswith(f"a like of comment {hub['comment']} on post {hub['post']}")
    assert session.scalars(select(Reaction.comment_id)).all() == [hub["comment"]]


def test_a_like_by_mail_to_a_reply_address_likes_what_that_address_answers(session, hub):
    comment, anna = session.get(Comment, hub["comment"]), user(session, "anna")
    address = notifications.reply_address(comment.post, comment, anna)
    result = receive(session, reply("anna@example.com", "👍", to=address), address)
    assert result.status == InboundStatus.COMMAND, result.reason
    assert session.scalars(select(Reaction.comment_id)).all() == [hub["comment"]]


def test_a_like_sent_twice_by_mail_is_one_like_and_says_so(session, hub):
    receive(session, reply("bram@example.com", "+1", **answering(session, "post", hub["post"])))
    again = receive(session, reply("bram@example.com", "like", **answering(session, "post", hub["post"])))
    assert again.status == InboundStatus.DUPLICATE and "liked post" in again.reason
    assert session.query(Reaction).count() == 1


@pytest.mark.parametrize("body", ["+1 but what about X", "+1\n\nEn wie doet de planning?", "Like the plan, but no."])
def test_a_reply_saying_more_than_a_like_is_a_comment(session, hub, body):
    result = receive(session, reply("bram@example.com", body, **answering(session, "post", hub["post"])))
    assert result.status == InboundStatus.POSTED
    assert session.query(Comment).count() == 2 and session.query(Reaction).count() == 0


def test_a_like_by_mail_with_a_file_is_a_comment_with_the_file(session, hub):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "bram@example.com", f"team@{DOMAIN}", "Re: Planning"
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in answering(session, "post", hub["post"]).items():
        message[name.replace("_", "-")] = value
    message.set_content("+1")
    message.add_attachment(b"kabelplan", maintype="text", subtype="plain", filename="plan.txt")
    assert receive(session, message.as_bytes()).status == InboundStatus.POSTED
    assert session.query(Reaction).count() == 0


def test_a_non_member_liking_a_private_post_by_mail_gives_no_like(session, hub):
    carol = user(session, "carol")
    board = groups.get_visible_group(session, user(session, "anna"), "board")
    result = receive(
        session, reply("carol@example.com", "+1", to=f"board@{DOMAIN}", **answering(session, "post", hub["secret"])),
        f"board@{DOMAIN}",
    )
    assert result.status == InboundStatus.REFUSED
    assert "Reorganisatie" not in result.reason and f"post {hub['secret']}" not in result.reason
    assert session.query(Reaction).count() == 0
    assert not groups.can_see(session, carol, board)


# Search


def test_search_over_the_api_and_on_the_page_shows_reaction_counts_of_posts_and_comments(context, hub):
    context.settings.index_commit_interval = 0
    with context.session_scope() as session:
        anna, bram = user(session, "anna"), user(session, "bram")
        post, comment = session.get(Post, hub["post"]), session.get(Comment, hub["comment"])
        reactions.react(session, anna, post, "like")
        reactions.react(session, bram, post, "like")
        reactions.react(session, anna, comment, "celebrate")
    index_writer.flush(context)

    found = api(context, hub, "carol").get("/api/search", params={"q": "planning", "kind": "post"}).json()["results"]
    assert found[0]["reactions"] == {"like": 2, "thanks": 0, "agree": 0, "insightful": 0, "celebrate": 0}
    assert api(context, hub, "carol").get("/api/search", params={"q": "kabels", "kind": "comment"}).json()["results"][0]["reactions"] == {
        "like": 0, "thanks": 0, "agree": 0, "insightful": 0, "celebrate": 1,
    }
    people = api(context, hub, "carol").get("/api/search", params={"q": "Bram", "kind": "person"}).json()["results"]
    assert people and all("reactions" not in r for r in people)

    client, _ = signed_in_with_csrf(context, "carol@example.com")
    page = client.get("/search", params={"q": "planning"}).text
    assert '<span class="sr-only">Like</span> 2</span>' in page


def test_search_shows_no_reactions_of_private_posts_to_a_non_member(context, hub):
    context.settings.index_commit_interval = 0
    with context.session_scope() as session:
        reactions.react(session, user(session, "anna"), session.get(Post, hub["secret"]), "like")
    index_writer.flush(context)
    assert api(context, hub, "carol").get("/api/search", params={"q": "Reorganisatie"}).json()["total"] == 0
    [hit] = api(context, hub, "bram").get("/api/search", params={"q": "Reorganisatie", "kind": "post"}).json()["results"]
    assert hit["reactions"]["like"] == 1
