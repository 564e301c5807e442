"""Receipts to senders: the text as posted, links to view, edit and undo it for 15 minutes, and a way out."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from hub.models import Comment, InboundStatus, OutgoingMail, Post, utcnow
from hub.services import accounts, groups, inbound, mail_keys, message_ids, posts, preferences, receipts, signing
from hub.services.errors import Forbidden
from hub.web.app import create_app
from tests.support.web import csrf_of


def mail(subject: str, body: str, sender: str = "Alice Aalders <alice@example.com>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "engineering@plein.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((subject, body)))}@example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def company(session, language: str = "en"):
    alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
    alice.language = language
    bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, alice, "daily")
    groups.add_member(session, group, bob, "each")
    return alice, bob, group


def receive(session, raw: bytes):
    stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    return inbound.process_inbound(session, stored.id)


def receipts_to(session, address: str) -> list[EmailMessage]:
    rows = session.query(OutgoingMail).filter(
        OutgoingMail.recipient == address, OutgoingMail.key.like("receipt:%")
    ).order_by(OutgoingMail.id)
    return [message_from_bytes(row.message, policy=policy.default) for row in rows]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_a_post_by_mail_gets_a_receipt_with_the_text_as_posted_and_links_to_view_edit_and_undo(context, session):
    alice, _, _ = company(session)
    receive(session, mail("Storing lift", "De lift staat stil.\nBel de monteur."))
    post = session.query(Post).one()

    [receipt] = receipts_to(session, "alice@example.com")
    assert receipt["Subject"] == "Posted to Engineering: Storing lift"
    assert receipt["Auto-Submitted"] == "auto-generated"
    assert not [name for name in receipt.keys() if name.lower().startswith("list-")]
    assert receipt["In-Reply-To"] == f"<{post.message_id}>"
    text = text_of(receipt)
    assert "Posted to Engineering as:\n\nStoring lift\n\nDe lift staat stil.\nBel de monteur.\n" in text
    token = receipts.edit_token("post", post)
    assert f"View it: {context.url('/')}p/{post.id}?via=mail\n" in text
    assert f"Edit it: {context.url('/')}receipts/post/{token}\n" in text
    assert f"Undo it: {context.url('/')}receipts/post/{token}/undo\n" in text
    assert "work for 15 minutes after posting" in text
    assert f"/unsubscribe/receipts/{receipts.stop_token(alice)}" in text
    html = html_of(receipt)
    assert "De lift staat stil." in html and f"/receipts/post/{token}/undo" in html and "Stop these receipts" in html


def test_a_comment_by_mail_gets_a_dutch_receipt_with_the_reply_as_trimmed(context, session):
    alice, bob, group = company(session, language="nl")
    post = posts.create_post(session, group, bob, "Storing lift", "De lift staat stil.")
    reply = "Ik bel de monteur.\n\nOp maandag schreef Bob Bos <bob@example.com>:\n> De lift staat stil.\n"
    receive(session, mail("Re: Storing lift", reply, In_Reply_To=message_ids.message_id(session, "post", post.id)))
    comment = session.query(Comment).one()

    [receipt] = receipts_to(session, "alice@example.com")
    assert receipt["Subject"] == "Geplaatst in Engineering: Re: Storing lift"
    text = text_of(receipt)
    assert 'Geplaatst in Engineering, bij "Storing lift", als:\n\nIk bel de monteur.\n\n' in text
    assert "schreef" not in text, "the receipt shows the comment as posted: quotes cut"
    token = receipts.edit_token("comment", comment)
    assert f"Bewerken: {context.url('/')}receipts/comment/{token}\n" in text
    assert f"Ongedaan maken: {context.url('/')}receipts/comment/{token}/undo\n" in text
    assert f"Bekijken: {context.url('/')}p/{post.id}?via=mail#comment-{comment.id}" in text
    assert "15 minuten na plaatsing" in text
    assert "Deze ontvangstbevestigingen stoppen" in html_of(receipt)


SENDERS_MESSAGE_IDS = {
    "as mail clients write it": " <CAKx1=post+{n}@mail.example.com>",
    "folded onto a line of its own": "\r\n <CAKx2.{n}@mail.example.com>",
    "with a comment a relay added": " <CAKx3.{n}@mail.example.com> (added by mx.example.com)",
}


def written_by_hand(subject: str, message_id: str, in_reply_to: str = "") -> bytes:
    """Mail as a client sends it, its Message-ID header exactly as given."""
    answers = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"From: Alice Aalders <alice@example.com>\r\nTo: engineering@plein.test\r\nSubject: {subject}\r\n"
        f"Message-ID:{message_id}\r\n{answers}Content-Type: text/plain\r\n\r\nDe lift staat stil.\r\n"
    ).encode()


@pytest.mark.parametrize("message_id", SENDERS_MESSAGE_IDS.values(), ids=SENDERS_MESSAGE_IDS.keys())
def test_the_receipts_of_a_post_and_a_comment_by_mail_thread_under_the_senders_own_mails(session, message_id):
    company(session)
    post_id, comment_id = message_id.format(n=1), message_id.format(n=2)
    receive(session, written_by_hand("Storing lift", post_id))
    post = session.query(Post).one()
    receive(session, written_by_hand("Re: Storing lift", comment_id, message_ids.message_id(session, "post", post.id)))
    assert session.query(Comment).one().post_id == post.id

    for receipt, sent in zip(receipts_to(session, "alice@example.com"), (post_id, comment_id), strict=True):
        own = re.search(r"<[^>]+>", sent).group(0)
        assert (receipt["In-Reply-To"], receipt["References"]) == (own, own)


def test_a_receipt_is_queued_with_the_post_and_once_only(session):
    company(session)
    receive(session, mail("Eens", "Tekst"))
    post = session.query(Post).one()
    assert receipts.send_receipt(session, "post", post.id) is False, "queued when the mail was posted"
    assert [row.key for row in session.query(OutgoingMail).filter(OutgoingMail.key.like("receipt:%"))] == [
        mail_keys.receipt("post", post)
    ]


def test_no_receipt_for_someone_who_switched_them_off_nor_for_posts_made_on_the_web(session):
    alice, _, group = company(session)
    preferences.update_settings(session, alice, preferences.MailSettings(
        **{**vars(preferences.settings_of(alice)), "receipts": False}
    ))
    receive(session, mail("Eens", "Tekst"))
    assert receipts_to(session, "alice@example.com") == []
    preferences.update_settings(session, alice, preferences.MailSettings(
        **{**vars(preferences.settings_of(alice)), "receipts": True}
    ))
    posts.create_post(session, group, alice, "Op het web", "Tekst")
    assert receipts_to(session, "alice@example.com") == [], "only mail gets a receipt"


def test_the_stop_link_switches_receipts_off_in_one_click_without_signing_in(context, data_dir):
    with context.session_scope() as session:
        alice, _, _ = company(session)
        token = receipts.stop_token(alice)
    client = TestClient(create_app(context))
    asked = client.get(f"/unsubscribe/receipts/{token}")
    assert asked.status_code == 200 and "Stop receipts?" in asked.text
    assert client.post(f"/unsubscribe/receipts/{token}").status_code == 200
    with context.session_scope() as session:
        assert accounts.get_user(session, "alice@example.com").receipts is False
    assert client.get("/unsubscribe/receipts/1-forged").status_code == 404


def test_a_receipt_sent_back_to_the_group_is_not_posted(session):
    company(session)
    receive(session, mail("Eens", "Tekst"))
    [row] = session.query(OutgoingMail).filter(OutgoingMail.key.like("receipt:%"))
    looped = message_from_bytes(row.message, policy=policy.default)
    looped.replace_header("To", "engineering@plein.test")
    looped.replace_header("From", "alice@example.com")
    assert receive(session, looped.as_bytes()).status == InboundStatus.REFUSED
    assert session.query(Post).count() == 1


def posted_by_mail(session, kind: str, minutes_ago: float = 0) -> tuple[str, int, int]:
    """A post or comment by alice (as if by mail `minutes_ago`); its kind, id and receipt token."""
    alice, bob, group = company(session)
    post = posts.create_post(session, group, alice if kind == "post" else bob, "Storing lift", "De lift staat stil.")
    item = post if kind == "post" else posts.create_comment(session, post, alice, "Ik bel de monteur.")
    item.created_at = utcnow() - timedelta(minutes=minutes_ago)
    session.flush()
    return receipts.edit_token(kind, item), item.id, post.id


def test_the_edit_link_changes_a_post_without_signing_in(context, data_dir):
    with context.session_scope() as session:
        token, post_id, _ = posted_by_mail(session, "post", minutes_ago=14)
    client = TestClient(create_app(context))
    page = client.get(f"/receipts/post/{token}")
    assert page.status_code == 200 and 'value="Storing lift"' in page.text and "De lift staat stil." in page.text

    saved = client.post(f"/receipts/post/{token}", data={
        "csrf": csrf_of(page.text), "title": "Storing lift B", "body": "De lift in B staat stil.",
    })

    assert saved.status_code == 200 and "Saved." in saved.text
    with context.session_scope() as session:
        post = session.get(Post, post_id)
        assert (post.title, post.body_text) == ("Storing lift B", "De lift in B staat stil.")
    empty = client.post(f"/receipts/post/{token}", data={"csrf": csrf_of(page.text), "title": "x", "body": " "})
    assert empty.status_code == 400 and "needs a title and some text" in empty.text
    assert client.post(f"/receipts/post/{token}", data={"csrf": "forged", "title": "x", "body": "y"}).status_code == 403


def test_the_undo_link_deletes_a_comment_and_asks_first(context, data_dir):
    with context.session_scope() as session:
        token, comment_id, post_id = posted_by_mail(session, "comment", minutes_ago=1)
    client = TestClient(create_app(context))
    asked = client.get(f"/receipts/comment/{token}/undo")
    assert asked.status_code == 200 and "Undo your comment?" in asked.text
    with context.session_scope() as session:
        assert session.get(Comment, comment_id) is not None, "the GET only asks: link checkers follow links"

    undone = client.post(f"/receipts/comment/{token}/undo", data={"csrf": csrf_of(asked.text)})

    assert undone.status_code == 200 and "Undone" in undone.text
    with context.session_scope() as session:
        assert session.get(Comment, comment_id).removed_at is not None, "it stays in the thread, removed by its author"
        assert session.get(Post, post_id) is not None
    assert client.get(f"/receipts/comment/{token}").status_code == 404


def test_a_comment_is_edited_by_its_link(context, data_dir):
    with context.session_scope() as session:
        token, comment_id, _ = posted_by_mail(session, "comment")
    client = TestClient(create_app(context))
    page = client.get(f"/receipts/comment/{token}")
    assert 'name="title"' not in page.text
    client.post(f"/receipts/comment/{token}", data={"csrf": csrf_of(page.text), "body": "Monteur komt om 3 uur."})
    with context.session_scope() as session:
        assert session.get(Comment, comment_id).body_text == "Monteur komt om 3 uur."


def test_after_15_minutes_the_links_are_refused_and_the_page_offers_to_view_it(context, data_dir):
    with context.session_scope() as session:
        token, post_id, _ = posted_by_mail(session, "post", minutes_ago=16)
    client = TestClient(create_app(context))
    page = client.get(f"/receipts/post/{token}")
    assert page.status_code == 410 and "This link has expired" in page.text and f'href="/p/{post_id}"' in page.text
    csrf = csrf_of(client.get("/sign-in").text)
    edit = client.post(f"/receipts/post/{token}", data={"csrf": csrf, "title": "Nieuw", "body": "Nieuw"})
    undo = client.post(f"/receipts/post/{token}/undo", data={"csrf": csrf})
    assert edit.status_code == undo.status_code == 410
    with context.session_scope() as session:
        assert session.get(Post, post_id).title == "Storing lift"
        with pytest.raises(Forbidden, match="expired"):
            receipts.undo_by_link(session, "post", token)


def test_a_token_for_one_post_opens_no_other_post_nor_a_comment_with_the_same_id(context, data_dir):
    with context.session_scope() as session:
        token, post_id, _ = posted_by_mail(session, "post")
        other = posts.create_post(session, session.get(Post, post_id).group, accounts.get_user(
            session, "alice@example.com"), "Ander bericht", "Tekst")
        comment_id = posts.create_comment(session, other, other.author, "Reactie").id
        _, author_id, closes, signature = token.split("-")
        other_id = other.id
    client = TestClient(create_app(context))
    forged = f"{other_id}-{author_id}-{closes}-{signature}"
    assert client.get(f"/receipts/post/{forged}").status_code == 404
    assert comment_id == post_id, "a comment with the post's id"
    assert client.get(f"/receipts/comment/{token}").status_code == 404
    assert client.get(f"/receipts/page/{token}").status_code == 404
    with context.session_scope() as session:
        assert session.get(Post, other_id).title == "Ander bericht"


def test_receipts_are_switched_off_and_on_in_the_api_and_on_the_preferences_page(context, data_dir):
    with context.session_scope() as session:
        alice, _, _ = company(session)
        token = accounts.create_api_token(session, alice)
        sign_in = signing.sign_expiring(session, "sign-in", alice.id, lifetime_seconds=600)
    client = TestClient(create_app(context))
    auth = {"Authorization": f"Bearer {token}"}
    settings = client.get("/api/preferences", headers=auth).json()
    assert settings["receipts"] is True
    assert client.put("/api/preferences", json={**settings, "receipts": False}, headers=auth).json()["receipts"] is False

    client.post(f"/sign-in/{sign_in}", data={"csrf": csrf_of(client.get(f"/sign-in/{sign_in}").text)})
    page = client.get("/preferences")
    assert '<input type="checkbox" id="receipts" name="receipts">' in page.text
    client.post("/preferences", data={
        "csrf": csrf_of(page.text), "digest_hour": "7", "digest_weekday": "0", "timezone": "Europe/Amsterdam",
        "language": "en", "default_delivery": "each", "receipts": "on",
    })
    assert client.get("/api/preferences", headers=auth).json()["receipts"] is True
