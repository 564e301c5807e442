"""Short updates (issue 19): a post without a title, up to 500 characters, to a group or to your own
followers; by the API, the home feed's composer and mail with an empty subject; in feeds, on profiles,
in notifications and found by `kind:status`. A status in a private group stays the members' alone."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.gateway import HubInboundSink
from hub.models import Channel, GroupKind, HeldMessage, InboundMessage, InboundStatus, OutgoingMail, Post
from hub.services import (
    accounts,
    feed,
    follows,
    groups,
    inbox,
    index_writer,
    moderation,
    person_details,
    personal,
    posts,
    searching,
)
from hub.services import inbound as inbound_mail
from hub.services.errors import Forbidden, Invalid, NotFound
from hub.web.app import create_app
from tests.mailgateway.test_smtp import running
from tests.support.web import signed_in_with_csrf


@pytest.fixture
def hub(context) -> dict:
    """Anna and Bert in the public group Team; Anna alone in the private group Board; Carol follows Anna."""
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna")
        bert = accounts.create_user(session, "bert@example.com", "Bert")
        carol = accounts.create_user(session, "carol@example.com", "Carol")
        team = groups.create_group(session, "team", "Team")
        board = groups.create_group(session, "board", "Board", private=True)
        for member in (anna, bert):
            groups.add_member(session, team, member, "none")
        groups.add_member(session, board, anna, "none")
        follows.follow(session, carol, anna)
        return {
            "tokens": {u.email.partition("@")[0]: accounts.create_api_token(session, u) for u in (anna, bert, carol)}
        }


def api(context, hub, who: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {hub['tokens'][who]}"})


def user(session, name: str):
    return accounts.get_user(session, f"{name}@example.com")


def test_a_status_without_a_group_goes_to_the_authors_own_page_with_an_empty_title(session, hub):
    status = personal.post_status(session, user(session, "anna"), "  Working on the Q3 plan  ")
    assert status.title == "" and status.body_text == "Working on the Q3 plan"
    assert status.group.kind == GroupKind.PERSONAL and status.group.owner_id == user(session, "anna").id
    assert personal.post_status(session, user(session, "anna"), "And again").group_id == status.group_id


def test_an_empty_or_too_long_status_is_refused_and_nothing_is_written(session, hub):
    anna = user(session, "anna")
    for body in ("", "   ", "x" * 501):
        with pytest.raises(Invalid):
            personal.post_status(session, anna, body)
    assert personal.post_status(session, anna, "x" * 500).body_text == "x" * 500
    assert session.scalar(select(Post.id).where(Post.body_text == "")) is None


def test_post_api_status_answers_201_with_the_post_and_a_clear_4xx_for_bad_input(context, hub):
    anna, bert = api(context, hub, "anna"), api(context, hub, "bert")
    made = anna.post("/api/status", json={"body": "Shipping today", "group": "team"})
    assert made.status_code == 201 and made.json()["title"] == "" and made.json()["body_text"] == "Shipping today"
    assert made.headers["location"].endswith(f"/p/{made.json()['id']}")
    assert anna.post("/api/status", json={"body": "To my followers"}).status_code == 201
    assert anna.post("/api/status", json={"body": ""}).status_code == 400
    too_long = anna.post("/api/status", json={"body": "y" * 501})
    assert too_long.status_code == 400 and "500" in too_long.json()["detail"]
    assert anna.post("/api/status", json={"body": "x", "group": "nowhere"}).status_code == 404
    assert bert.post("/api/status", json={"body": "x", "group": "board"}).status_code == 404
    assert anna.post("/api/status", json={}).status_code == 422


def test_a_status_to_a_group_needs_the_right_to_post_there(session, hub):
    carol = user(session, "carol")
    with pytest.raises(Forbidden):
        personal.post_status(session, carol, "Hello team", "team")
    with pytest.raises(NotFound):
        personal.post_status(session, carol, "Hello board", "board")


def test_followers_see_a_status_in_their_home_feed_with_its_body_and_no_empty_title(context, hub):
    with context.session_scope() as session:
        personal.post_status(session, user(session, "anna"), "Coffee with the new colleagues at ten")
    with context.session_scope() as session:
        [item] = feed.home_feed(session, user(session, "carol")).items
        assert item.kind == "post" and item.title == "" and item.snippet == "Coffee with the new colleagues at ten"
    client, _ = signed_in_with_csrf(context, "carol@example.com")
    page = client.get("/").text
    assert "Coffee with the new colleagues at ten" in page and "shared an update" in page
    assert '<a href="/p/' in page and "></a></h2>" not in page
    [shown] = api(context, hub, "carol").get("/api/feed").json()["items"]
    assert shown["title"] == "" and shown["snippet"] == "Coffee with the new colleagues at ten"


def test_the_feed_composer_makes_a_status_without_a_title_and_a_blog_post_or_group_post_with_one(context, hub):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    home = client.get("/").text
    assert "What are you working on?" in home and '<option value="">' in home and '<option value="team">' in home

    def share(**fields: str) -> int:
        form = {"csrf": csrf, "group": "", **fields}
        return client.post("/share", data=form, files={"files": ("", b"")}, follow_redirects=False).status_code

    assert share(body="A status") == share(body="In the team", group="team") == 303
    assert share(title="My blog", body="Long read") == share(title="Team post", body="Agenda", group="team") == 303
    assert share(body="z" * 501) == 400
    with context.session_scope() as session:
        made = {p.body_text: (p.title, p.group.slug) for p in session.scalars(select(Post))}
    anna_space = f"personal.{user_id(context, 'anna')}"
    assert made == {
        "A status": ("", anna_space),
        "In the team": ("", "team"),
        "Long read": ("My blog", anna_space),
        "Agenda": ("Team post", "team"),
    }


def user_id(context, name: str) -> int:
    with context.session_scope() as session:
        return user(session, name).id


def test_the_profile_shows_recent_statuses_and_links_the_blog(context, hub):
    with context.session_scope() as session:
        personal.post_status(session, user(session, "anna"), "Reviewing the budget")
    client, _ = signed_in_with_csrf(context, "bert@example.com")
    page = client.get("/people/anna@example.com").text
    assert "Short updates" in page and "Reviewing the budget" in page and "/people/anna%40example.com/blog" in page


def test_a_status_in_a_private_group_shows_nowhere_to_a_non_member(context, hub):
    with context.session_scope() as session:
        anna = user(session, "anna")
        follows.follow(session, user(session, "bert"), anna)
        secret = personal.post_status(session, anna, "Confidential merger talks", "board").id
    index_writer.flush(context)
    with context.session_scope() as session:
        bert, carol = user(session, "bert"), user(session, "carol")
        for outsider in (bert, carol):
            assert all(item.post_id != secret for item in feed.home_feed(session, outsider).items)
            details = person_details.person_details(session, outsider, user(session, "anna"))
            assert details.statuses == [] and all(a.post_id != secret for a in details.activity)
            assert searching.search(session, outsider, "merger").total == 0
            assert searching.search(session, outsider, "merger", kind="status").facets["kind"] == []
            assert inbox.unread_count(session, outsider) == 0
        assert searching.search(session, user(session, "anna"), "merger", kind="status").total == 1
    page = signed_in_with_csrf(context, "bert@example.com")[0].get("/people/anna@example.com").text
    assert "merger" not in page and "Board" not in page


def test_kind_status_finds_statuses_and_re_indexing_or_deleting_one_replaces_or_removes_it(context, hub):
    with context.session_scope() as session:
        anna = user(session, "anna")
        status = personal.post_status(session, anna, "Deploying the lighthouse service", "team")
        posts.create_post(session, groups.get_group(session, "team"), anna, "Lighthouse plan", "The lighthouse")
        status_id = status.id
    index_writer.flush(context)
    with context.session_scope() as session:
        found = searching.search(session, user(session, "bert"), "lighthouse", kind="status")
        assert [(f.hit.kind, f.hit.id) for f in found.results] == [("status", status_id)]
        kinds = {f.label for f in searching.search(session, user(session, "bert"), "lighthouse").facets["kind"]}
        assert {"post", "status"} <= kinds
        posts.edit_post(
            session, session.get(Post, status_id), user(session, "anna"), "", "Deploying the harbour service"
        )
    index_writer.flush(context)
    with context.session_scope() as session:
        assert searching.search(session, user(session, "bert"), "lighthouse", kind="status").total == 0
        assert searching.search(session, user(session, "bert"), "harbour", kind="status").total == 1
        posts.delete_post(session, session.get(Post, status_id), user(session, "anna"))
    index_writer.flush(context)
    with context.session_scope() as session:
        assert searching.search(session, user(session, "bert"), "harbour").total == 0


def test_followers_who_chose_mail_for_short_updates_get_one_and_the_others_none_by_default(context, hub):
    with context.session_scope() as session:
        assert inbox.channels_of(session, user(session, "carol"))["status"] == Channel.WEB
        status = personal.post_status(session, user(session, "anna"), "Out of office tomorrow")
        inbox.notify_post(session, status.id)
        assert session.scalar(select(OutgoingMail.id)) is None
        inbox.set_channels(session, user(session, "carol"), {"status": "mail"})
        second = personal.post_status(session, user(session, "anna"), "Back on Monday")
        assert inbox.notify_post(session, second.id) == 1
        [mail] = session.scalars(select(OutgoingMail)).all()
        assert mail.recipient == "carol@example.com" and b"Back on Monday" in mail.message


@pytest.fixture
def smtp_port(context, hub) -> Iterator[int]:
    with running(HubInboundSink(context)) as port:
        yield port


def mail(context, port: int, to: str, subject: str | None, text: str):
    message = EmailMessage()
    message["From"], message["To"] = "anna@example.com", to
    if subject is not None:
        message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(text)
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail("anna@example.com", [to], message.as_bytes(policy=policy.SMTP))
    with context.session_scope() as session:
        stored = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        result = inbound_mail.process_inbound(session, stored.id)
        return result.status, result.reason


@pytest.mark.parametrize("subject", [None, "", "   ", "Re:", "Fwd: [Team]", "[Team]"])
def test_a_short_mail_with_an_empty_subject_to_a_group_becomes_a_status_there(context, smtp_port, subject):
    status, _ = mail(context, smtp_port, "team@plein.test", subject, "Printer on floor 2 is fixed")
    assert status == InboundStatus.POSTED
    with context.session_scope() as session:
        post = session.scalar(select(Post))
        assert (post.title, post.group.slug, post.body_text) == ("", "team", "Printer on floor 2 is fixed")


def test_a_long_mail_without_a_subject_becomes_a_post_titled_by_its_first_line(context, smtp_port):
    text = "Notes from the offsite\n\n" + "We agreed on many things. " * 30
    assert mail(context, smtp_port, "team@plein.test", "", text)[0] == InboundStatus.POSTED
    with context.session_scope() as session:
        assert session.scalar(select(Post.title)) == "Notes from the offsite"


def test_a_mail_with_a_subject_stays_an_ordinary_post(context, smtp_port):
    assert mail(context, smtp_port, "team@plein.test", "Lunch", "Pizza at noon")[0] == InboundStatus.POSTED
    with context.session_scope() as session:
        assert session.scalar(select(Post.title)) == "Lunch"


def test_mail_to_a_personal_space_is_refused_at_rcpt_and_recorded_when_it_got_in(context, smtp_port):
    with context.session_scope() as session:
        slug = personal.personal_space(session, user(session, "anna")).slug
    with smtplib.SMTP("127.0.0.1", smtp_port) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp.sendmail("anna@example.com", [f"{slug}@plein.test"], b"Subject: hi\r\n\r\nhello\r\n")
    [(code, reason)] = refused.value.recipients.values()
    assert code >= 500 and b"personal page" in reason
    with context.session_scope() as session:  # mail that came in another way (IMAP) is refused with its reason
        stored = inbound_mail.record_inbound(session, "x.eml", b"", "anna@example.com", [f"{slug}@plein.test"])
        stored_id = stored.id
    raw = (
        f"From: anna@example.com\r\nTo: {slug}@plein.test\r\nSubject: hi\r\n"
        "Message-ID: <p1@example.com>\r\n\r\nhello\r\n"
    ).encode()
    (context.settings.data_dir / "x.eml").write_bytes(raw)
    with context.session_scope() as session:
        result = inbound_mail.process_inbound(session, stored_id)
        assert result.status == InboundStatus.REFUSED and "personal page" in result.reason
        assert session.scalar(select(Post.id)) is None


def moderate_team(context) -> None:
    """Team becomes moderated, with Bert its moderator."""
    with context.session_scope() as session:
        team = groups.get_group(session, "team")
        moderation.set_policy(session, team, "moderated")
        moderation.set_moderator(session, team, user(session, "bert"))


def approve_all(context) -> None:
    with context.session_scope() as session:
        for held in session.scalars(select(HeldMessage).where(HeldMessage.status == "held")):
            moderation.approve(session, held, user(session, "bert"))


def test_a_status_to_a_moderated_group_by_the_api_or_the_composer_waits_and_becomes_a_status(context, hub):
    moderate_team(context)
    held = api(context, hub, "anna").post("/api/status", json={"body": "Fire drill at eleven", "group": "team"})
    assert held.status_code == 202 and held.json()["status"] == "held" and held.json()["group"] == "team"
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    shared = client.post("/share", data={"csrf": csrf, "group": "team", "body": "Cake in the kitchen"},
                         files={"files": ("", b"")}, follow_redirects=False)
    assert shared.status_code == 303 and shared.headers["location"] == "/g/team"
    with context.session_scope() as session:
        assert session.scalar(select(Post.id)) is None
        assert {h.text for h in session.scalars(select(HeldMessage))} == {"Fire drill at eleven", "Cake in the kitchen"}
    approve_all(context)
    with context.session_scope() as session:
        made = {p.body_text: (p.title, p.group.slug, p.author.email) for p in session.scalars(select(Post))}
        assert made == {
            "Fire drill at eleven": ("", "team", "anna@example.com"),
            "Cake in the kitchen": ("", "team", "anna@example.com"),
        }
        found = feed.home_feed(session, user(session, "carol")).items
        assert {item.snippet for item in found} == {"Fire drill at eleven", "Cake in the kitchen"}


def test_a_moderators_own_status_to_a_moderated_group_is_posted_at_once(context, hub):
    moderate_team(context)
    made = api(context, hub, "bert").post("/api/status", json={"body": "Drill postponed", "group": "team"})
    assert made.status_code == 201 and made.json()["title"] == ""


def test_a_held_status_tells_a_non_member_nothing_of_a_private_group(context, hub):
    with context.session_scope() as session:
        moderation.set_policy(session, groups.get_group(session, "board"), "moderated")
    refused = api(context, hub, "bert").post("/api/status", json={"body": "Let me in", "group": "board"})
    nowhere = api(context, hub, "bert").post("/api/status", json={"body": "Let me in", "group": "nowhere"})
    assert refused.status_code == nowhere.status_code == 404 and refused.json() == {
        **nowhere.json(), "detail": nowhere.json()["detail"].replace("nowhere", "board")
    }
    with context.session_scope() as session:
        assert session.scalar(select(HeldMessage.id)) is None


def test_a_short_mail_without_a_subject_to_a_moderated_group_waits_and_becomes_a_status(context, smtp_port):
    moderate_team(context)
    status, reason = mail(context, smtp_port, "team@plein.test", "", "Printer on floor 2 is fixed")
    assert status == InboundStatus.HELD, reason
    with context.session_scope() as session:
        assert session.scalar(select(Post.id)) is None
    approve_all(context)
    with context.session_scope() as session:
        post = session.scalar(select(Post))
        assert (post.title, post.group.slug, post.body_text) == ("", "team", "Printer on floor 2 is fixed")
