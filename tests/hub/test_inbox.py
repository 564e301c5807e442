"""Notifications: answers, mentions, reactions and new posts in what one follows; read marks, channels, mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from fastapi.testclient import TestClient

from hub.models import Comment, Notification, OutgoingMail
from hub.services import (
    accounts,
    follows,
    groups,
    inbound,
    inbox,
    message_ids,
    notifications,
    posts,
    reactions,
)
from hub.services.errors import Invalid
from hub.web.app import create_app
from tests.support.web import signed_in_with_csrf


@pytest.fixture
def team(session):
    """Team (public) and Board (private); Anna and Bram in both, Carol only in Team, Dirk in neither."""
    people = {
        name: accounts.create_user(session, f"{name}@example.com", full)
        for name, full in (
            ("anna", "Anna de Vries"),
            ("bram", "Bram Bos"),
            ("carol", "Carol Claes"),
            ("dirk", "Dirk Dam"),
        )
    }
    team = groups.create_group(session, "team", "Team")
    board = groups.create_group(session, "board", "Board", private=True)
    for name in ("anna", "bram", "carol"):
        groups.add_member(session, team, people[name], "none")
    for name in ("anna", "bram"):
        groups.add_member(session, board, people[name], "none")
    session.flush()
    return {**people, "team": team, "board": board}


def of(session, person, kind=None) -> list[Notification]:
    query = session.query(Notification).filter_by(user_id=person.id)
    if kind:
        query = query.filter_by(kind=kind)
    return query.order_by(Notification.id).all()


def mails_to(session, person):
    rows = session.query(OutgoingMail).filter_by(recipient=person.email).order_by(OutgoingMail.id).all()
    return [message_from_bytes(row.message, policy=policy.default) for row in rows]


# The events


def test_a_comment_on_your_post_and_an_answer_to_your_comment_notify_you_as_replies(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Wie doet wat?")
    first = posts.create_comment(session, post, team["bram"], "Ik doe de kabels.")
    posts.create_comment(session, post, team["carol"], "En ik de lampen.", parent=first)

    assert [n.actor_id for n in of(session, team["anna"], "reply")] == [team["bram"].id, team["carol"].id]
    assert [n.comment_id for n in of(session, team["bram"], "reply")] != [], "carol answered bram's comment"
    assert of(session, team["carol"]) == [], "nobody answered carol"


def test_your_own_comment_on_your_own_post_notifies_nobody(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["anna"], "Aanvulling")
    assert of(session, team["anna"]) == []


def test_a_mention_notifies_once_on_create_and_again_only_for_someone_new_on_edit(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    comment = posts.create_comment(session, post, team["anna"], "Wat vind jij, @bram?")
    assert len(of(session, team["bram"], "mention")) == 1

    posts.edit_comment(session, comment, team["anna"], 'Wat vind jij, @bram? En @"Carol Claes"?')

    assert len(of(session, team["bram"], "mention")) == 1, "bram was mentioned before"
    assert len(of(session, team["carol"], "mention")) == 1


def test_a_mention_in_a_post_is_made_by_the_post_job(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Vraag voor @carol", "Tekst")
    inbox.notify_post(session, post.id)
    inbox.notify_post(session, post.id)
    assert [n.kind for n in of(session, team["carol"])] == ["mention"], "a mention, not a new post as well, once"


def test_a_mention_in_a_private_group_of_a_non_member_notifies_nobody(session, team):
    post = posts.create_post(session, team["board"], team["anna"], "Geheim", "Tekst")
    posts.create_comment(session, post, team["anna"], "Zie ook @carol en @dirk")
    inbox.notify_post(session, post.id)
    assert of(session, team["carol"]) == of(session, team["dirk"]) == []
    assert [n.kind for n in of(session, team["bram"])] == ["post"], "bram, a member, hears of the post only"


def test_a_reaction_notifies_the_author_and_taking_it_back_takes_the_notification_along(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    reactions.react(session, team["bram"], post, "like")
    reactions.react(session, team["anna"], post, "like")
    assert [(n.actor_id, n.reaction) for n in of(session, team["anna"])] == [(team["bram"].id, "like")]

    reactions.unreact(session, team["bram"], post, "like")
    assert of(session, team["anna"]) == []


def test_a_new_post_notifies_who_follows_its_group_author_or_tag_minus_the_muted(session, team):
    follows.follow(session, team["dirk"], team["anna"])
    follows.follow(session, team["dirk"], "verlichting")
    follows.mute(session, team["carol"], team["team"])
    post = posts.create_post(session, team["team"], team["anna"], "Lampen", "Nieuwe #verlichting")

    assert inbox.notify_post(session, post.id) == 2
    assert inbox.notify_post(session, post.id) == 0, "a job run twice makes nothing twice"
    assert [n.kind for n in of(session, team["bram"])] == ["post"], "bram follows team by joining"
    assert len(of(session, team["dirk"])) == 1, "dirk follows anna and the tag: one notification"
    assert of(session, team["carol"]) == [], "carol muted team"
    assert of(session, team["anna"]) == [], "not of your own post"


def test_leaving_a_private_group_stops_its_notifications_and_hides_the_old_ones(session, team):
    follows.follow(session, team["bram"], team["anna"])
    old = posts.create_post(session, team["board"], team["anna"], "Eerste", "Tekst")
    inbox.notify_post(session, old.id)
    assert inbox.unread_count(session, team["bram"]) == 1

    groups.remove_member(session, team["board"], team["bram"])
    new = posts.create_post(session, team["board"], team["anna"], "Tweede", "Tekst")
    inbox.notify_post(session, new.id)

    assert len(of(session, team["bram"])) == 1, "following anna does not reach into a group bram left"
    assert inbox.unread_count(session, team["bram"]) == 0
    assert inbox.list_notifications(session, team["bram"]).entries == []


def test_a_comment_removed_by_its_author_takes_its_notifications_along(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    comment = posts.create_comment(session, post, team["bram"], "Zie @carol")
    reactions.react(session, team["anna"], comment, "like")
    posts.delete_comment(session, comment, team["bram"])
    assert of(session, team["anna"]) == of(session, team["bram"]) == of(session, team["carol"]) == []


# Reading them


def test_reactions_to_one_item_are_one_entry_that_names_one_person_and_counts_the_others(context, session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    for name in ("carol", "bram"):
        reactions.react(session, team[name], post, "like")
    reactions.react(session, team["bram"], post, "thanks")

    found = inbox.list_notifications(session, team["anna"])

    assert found.unread == 2
    like = next(entry for entry in found.entries if entry.reaction == "like")
    assert (like.who.name, like.others, len(like.ids)) == ("Bram Bos", 1, 2)
    for language, words in (("en", "Bram Bos and 1 other liked"), ("nl", "Bram Bos en 1 ander")):
        t = context.catalogue.translator(language)
        assert inbox.describe(t, "reaction", "Bram Bos", "Planning", reaction="like", others=1).startswith(words)


def test_pages_follow_each_other_by_cursor_with_nothing_skipped_or_shown_twice(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Een")
    reactions.react(session, team["carol"], post, "like")
    reactions.react(session, team["bram"], post, "like")
    posts.create_comment(session, post, team["carol"], "Twee")
    posts.create_comment(session, post, team["bram"], "Drie")

    first = inbox.list_notifications(session, team["anna"], limit=2)
    second = inbox.list_notifications(session, team["anna"], limit=2, cursor=first.next_cursor)

    assert [e.comment.body_text for e in first.entries] == ["Drie", "Twee"]
    assert [(e.kind, e.others) for e in second.entries] == [("reaction", 1), ("reply", 0)]
    assert second.next_cursor is None
    shown = [i for page in (first, second) for e in page.entries for i in e.ids]
    assert sorted(shown) == [n.id for n in of(session, team["anna"])]
    assert first.unread == second.unread == 4


def test_a_reader_who_left_a_private_group_pages_through_none_of_its_notifications(context, session, team):
    secret = posts.create_post(session, team["board"], team["anna"], "Reorganisatie", "Geheim")
    open_post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    inbox.notify_post(session, secret.id)
    inbox.notify_post(session, open_post.id)
    groups.remove_member(session, team["board"], team["bram"])

    page = inbox.list_notifications(session, team["bram"], limit=1)

    assert [e.post.title for e in page.entries] == ["Planning"]
    assert page.next_cursor is None, "no further page hints at what is hidden"
    listed = _api(context, session, team["bram"]).get("/api/notifications").json()
    assert (listed["unread"], [i["title"] for i in listed["items"]], listed["next_cursor"]) == (1, ["Planning"], None)


def test_marking_read_marks_all_or_only_the_given_ids_of_the_reader(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Een")
    posts.create_comment(session, post, team["carol"], "Twee")
    first, second = of(session, team["anna"])

    assert inbox.mark_read(session, team["bram"], [first.id]) == 0, "not bram's"
    assert inbox.mark_read(session, team["anna"], [first.id]) == 1
    assert inbox.unread_count(session, team["anna"]) == 1
    assert inbox.mark_read(session, team["anna"]) == 1
    assert inbox.unread_count(session, team["anna"]) == 0


# Channels and mail


def test_the_defaults_are_mail_for_mentions_and_replies_and_the_web_for_the_rest(session, team):
    assert inbox.channels_of(session, team["anna"]) == {
        "mention": "mail",
        "reply": "mail",
        "reaction": "web",
        "post": "web",
        "status": "web",
    }


def test_a_channel_is_one_of_three_for_a_known_kind_and_the_reply_channel_is_the_reply_mail_setting(session, team):
    with pytest.raises(Invalid):
        inbox.set_channels(session, team["anna"], {"mention": "pigeon"})
    with pytest.raises(Invalid):
        inbox.set_channels(session, team["anna"], {"birthday": "mail"})
    inbox.set_channels(session, team["anna"], {"reply": "daily", "reaction": "mail"})
    assert team["anna"].notify_replies is False
    assert inbox.channels_of(session, team["anna"]) | {} == {
        "mention": "mail",
        "reply": "daily",
        "reaction": "mail",
        "post": "web",
        "status": "web",
    }


def test_a_mention_by_mail_at_once_threads_like_the_comment_mail_and_answering_it_comments(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    comment = posts.create_comment(session, post, team["bram"], "Wat vind jij, @carol?")

    [mail] = mails_to(session, team["carol"])

    assert mail["Message-ID"] == message_ids.message_id(session, "comment", comment.id)
    assert mail["In-Reply-To"] == message_ids.message_id(session, "post", post.id)
    assert mail["List-Id"].startswith("Team <team.")
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to == notifications.reply_address(post, comment, team["carol"])
    assert "Bram Bos mentioned you" in mail.get_body(preferencelist=("plain",)).get_content()


def test_the_comment_mail_to_thread_followers_never_goes_out_beside_a_notification_mail(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["carol"], "Eerste")
    comment = posts.create_comment(session, post, team["bram"], "Klopt dat, @carol en @anna?")

    notifications.notify_comment(session, comment.id)
    notifications.notify_comment(session, comment.id)

    assert len(mails_to(session, team["carol"])) == 1
    assert len(mails_to(session, team["anna"])) == 1


def test_a_reply_on_the_web_only_channel_sends_no_mail(session, team):
    inbox.set_channels(session, team["anna"], {"reply": "web"})
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    comment = posts.create_comment(session, post, team["bram"], "Ik!")
    notifications.notify_comment(session, comment.id)
    assert mails_to(session, team["anna"]) == []
    assert len(of(session, team["anna"], "reply")) == 1


def test_a_reaction_by_mail_at_once_answers_the_item_it_is_about(session, team):
    inbox.set_channels(session, team["anna"], {"reaction": "mail"})
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    reactions.react(session, team["bram"], post, "celebrate")
    [mail] = mails_to(session, team["anna"])
    assert mail["In-Reply-To"] == message_ids.message_id(session, "post", post.id)
    assert mail["Message-ID"] != message_ids.message_id(session, "post", post.id)


def test_the_daily_mail_comes_at_the_digest_hour_once_with_what_waited(session, team):
    inbox.set_channels(session, team["anna"], {"mention": "daily"})
    team["anna"].digest_hour, team["anna"].timezone = 8, "UTC"
    post = posts.create_post(session, team["team"], team["bram"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Zie @anna")

    assert inbox.queue_daily_mails(session, datetime(2026, 5, 4, 7, tzinfo=UTC)).queued == []
    assert len(inbox.queue_daily_mails(session, datetime(2026, 5, 4, 8, tzinfo=UTC)).queued) == 1
    assert inbox.queue_daily_mails(session, datetime(2026, 5, 4, 9, tzinfo=UTC)).queued == []

    [mail] = mails_to(session, team["anna"])
    assert mail["Subject"] == "Plein: 1 notification for you"
    assert "Bram Bos mentioned you" in mail.get_body(preferencelist=("plain",)).get_content()


def test_answering_a_mention_mail_becomes_a_comment(session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    comment = posts.create_comment(session, post, team["bram"], "Wat vind jij, @carol?")
    [mail] = mails_to(session, team["carol"])
    answer = (
        f"From: Carol Claes <carol@example.com>\r\nTo: {mail['Reply-To']}\r\nSubject: Re: {mail['Subject']}\r\n"
        f"Message-ID: <answer-1@example.com>\r\nIn-Reply-To: {mail['Message-ID']}\r\n\r\nPrima idee.\r\n"
    ).encode()
    stored = inbound.store_inbound(session, answer, "carol@example.com", [mail["Reply-To"].addresses[0].addr_spec])
    inbound.process_inbound(session, stored.id)

    [answered] = session.query(Comment).filter_by(author_id=team["carol"].id).all()
    assert (answered.post_id, answered.parent_id, answered.body_text) == (post.id, comment.id, "Prima idee.")


# Over HTTP


def _api(context, session, person) -> TestClient:
    token = accounts.create_api_token(session, person)
    session.commit()
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})


def test_the_api_lists_newest_first_and_marks_read(context, session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Een")
    reactions.react(session, team["carol"], post, "like")
    client = _api(context, session, team["anna"])

    listed = client.get("/api/notifications").json()

    assert listed["unread"] == 2
    assert [item["kind"] for item in listed["items"]] == ["reaction", "reply"]
    first = listed["items"][0]
    assert first["who"] == {"name": "Carol Claes", "email": "carol@example.com"}
    assert first["what"] == "Carol Claes liked what you wrote in \u201cPlanning\u201d"
    assert first["link"].endswith(f"/p/{post.id}") and first["read"] is False
    assert client.post("/api/notifications/read", json={"ids": [first["id"]]}).json()["unread"] == 1
    assert client.post("/api/notifications/read").json() == {"marked": 1, "unread": 0}


def test_the_api_pages_by_next_cursor_and_refuses_a_cursor_it_did_not_give(context, session, team):
    post = posts.create_post(session, team["team"], team["bram"], "Planning", "Tekst")
    for number in range(inbox.PAGE_SIZE + 1):
        session.add(
            Notification(
                user_id=team["anna"].id, key=f"test:{number}", kind="post", actor_id=team["bram"].id,
                group_id=team["team"].id, post_id=post.id, channel="web",
            )
        )
    client = _api(context, session, team["anna"])

    first = client.get("/api/notifications").json()
    second = client.get("/api/notifications", params={"cursor": first["next_cursor"]}).json()

    assert (len(first["items"]), len(second["items"]), second["next_cursor"]) == (inbox.PAGE_SIZE, 1, None)
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    for bad in ("later", "12-", "-1-2", "99999999999999999999-1", "9999999999999999999-1"):
        refused = client.get("/api/notifications", params={"cursor": bad})
        assert refused.status_code == 400, bad
        assert "cursor" in refused.json()["detail"]


def test_a_non_member_gets_no_notification_or_count_of_a_private_post(context, session, team):
    follows.follow(session, team["carol"], team["anna"])
    secret = posts.create_post(session, team["board"], team["anna"], "Reorganisatie @carol", "Geheim")
    reactions.react(session, team["bram"], secret, "like")
    inbox.notify_post(session, secret.id)
    client = _api(context, session, team["carol"])
    assert client.get("/api/notifications").json() == {"unread": 0, "items": [], "next_cursor": None}
    assert session.query(Notification).filter_by(user_id=team["carol"].id).count() == 0


def test_the_api_preferences_show_and_change_the_channels(context, session, team):
    client = _api(context, session, team["anna"])
    settings = client.get("/api/preferences").json()
    assert settings["notifications"]["reaction"] == "web"
    settings["notifications"] = {"reaction": "daily"}
    changed = client.put("/api/preferences", json=settings).json()
    assert changed["notifications"] == {"mention": "mail", "reply": "mail", "reaction": "daily", "post": "web",
                                           "status": "web"}
    settings["notifications"] = {"reaction": "owl"}
    assert client.put("/api/preferences", json=settings).status_code == 400


def _browser(context, session, person) -> tuple[TestClient, str]:
    session.commit()  # the sign-in reads in a session of its own
    return signed_in_with_csrf(context, person.email)


def test_the_header_counts_unread_in_a_labelled_link_and_the_page_marks_all_read(context, session, team):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Een")
    client, csrf = _browser(context, session, team["anna"])

    page = client.get("/notifications").text
    assert 'aria-label="Notifications, 1 unread"' in page
    assert "Bram Bos answered you in" in page

    client.post("/notifications/read", data={"csrf": csrf})
    assert 'aria-label="Notifications, 0 unread"' in client.get("/g/team").text


def test_opening_a_thread_reads_its_notifications_and_no_others(context, session, team):
    read = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    other = posts.create_post(session, team["team"], team["anna"], "Lampen", "Tekst")
    posts.create_comment(session, read, team["bram"], "Een")
    reactions.react(session, team["carol"], read, "like")
    posts.create_comment(session, other, team["bram"], "Twee")
    client, _ = _browser(context, session, team["anna"])

    page = client.get(f"/p/{read.id}").text

    assert 'aria-label="Notifications, 1 unread"' in page, "the header counts what is left"
    session.expire_all()
    assert [n.post_id for n in of(session, team["anna"]) if n.read_at is None] == [other.id]


def test_opening_a_thread_one_may_not_see_reads_nothing(context, session, team):
    secret = posts.create_post(session, team["board"], team["anna"], "Geheim", "Tekst")
    posts.create_comment(session, secret, team["bram"], "Een")
    groups.remove_member(session, team["board"], team["anna"])
    client, _ = _browser(context, session, team["anna"])

    assert client.get(f"/p/{secret.id}").status_code == 404
    session.expire_all()
    assert [n.read_at for n in of(session, team["anna"])] == [None]


def test_the_page_links_to_older_notifications_by_cursor(context, session, team, monkeypatch):
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Een")
    posts.create_comment(session, post, team["carol"], "Twee")
    client, _ = _browser(context, session, team["anna"])
    newest = inbox.list_notifications(session, team["anna"], limit=1)
    monkeypatch.setattr(inbox, "PAGE_SIZE", 1)

    first = client.get("/notifications").text
    older = client.get(f"/notifications?cursor={newest.next_cursor}").text

    assert f'href="/notifications?cursor={newest.next_cursor}"' in first and "Bram Bos" not in first
    assert "Bram Bos answered you" in older and "Carol Claes" not in older and 'href="/notifications"' in older
    assert client.get("/notifications?cursor=later").status_code == 400


def test_the_preferences_page_has_a_notifications_section_that_saves(context, session, team):
    client, csrf = _browser(context, session, team["anna"])
    assert 'id="channel-reaction"' in client.get("/preferences").text
    client.post("/preferences/notifications", data={"csrf": csrf, "channel-post": "daily"})
    session.expire_all()
    assert inbox.channels_of(session, team["anna"])["post"] == "daily"


def test_the_daily_mail_shows_a_markdown_post_as_plain_words(session, team):
    inbox.set_channels(session, team["anna"], {"mention": "daily"})
    team["anna"].digest_hour, team["anna"].timezone = 8, "UTC"
    body = "**Please** check:\n\n| Item | Cost |\n|---|---|\n| Desk | 300 |\n\n![](quote.jpg)"
    post = posts.create_post(session, team["team"], team["bram"], "Budget", body)
    posts.create_comment(session, post, team["bram"], "Zie @anna")
    assert len(inbox.queue_daily_mails(session, datetime(2026, 5, 4, 8, tzinfo=UTC)).queued) == 1
    [mail] = mails_to(session, team["anna"])
    for kind in ("plain", "html"):
        part = mail.get_body(preferencelist=(kind,)).get_content()
        assert "Please check: Item Cost Desk 300 quote.jpg" in part
        assert not any(mark in part for mark in ("**", "|---", "![", "]("))
