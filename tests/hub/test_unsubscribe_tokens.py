"""An unsubscribe link acts on the person and group it was mailed for, or on nobody (issue 15, item 2).

The attack: Alice keeps the one-click link from a mail of a private group, leaves the group,
and Bob joins it later. When the link named only a membership row, and SQLite gave Bob's row
the id of Alice's deleted one, the link showed Bob's address and the private group's name and
stopped his mail without sign-in.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from fastapi.testclient import TestClient

from hub.models import Delivery, Membership, OutgoingMail
from hub.services import accounts, groups, inbound, mail_keys, notifications, posts, signing
from hub.web.app import create_app


def board_with_alice(context) -> None:
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        bob = accounts.create_user(session, "bob@example.com", "Bob")
        mia = accounts.create_user(session, "mia@example.com", "Mia")
        board = groups.create_group(session, "board", "Board", private=True)
        groups.add_member(session, board, mia)
        groups.add_member(session, board, alice)
        assert bob.id


def links_in_alices_mail(context) -> tuple[str, str]:
    """The https link and the mailto address of the List-Unsubscribe of a Board post mailed to Alice."""
    with context.session_scope() as session:
        board = groups.get_group(session, "board")
        post = posts.create_post(session, board, accounts.get_user(session, "mia@example.com"), "Begroting", "Cijfers.")
        notifications.notify_post(session, post.id)
        alice = accounts.get_user(session, "alice@example.com")
        row = session.query(OutgoingMail).filter(OutgoingMail.key == mail_keys.post_mail(post, alice)).one()
        mail = message_from_bytes(row.message, policy=policy.default)
    https, mailto = re.findall(r"<([^>]+)>", mail["List-Unsubscribe"])
    return https, mailto.removeprefix("mailto:")


def bobs_delivery(context) -> Delivery:
    with context.session_scope() as session:
        board = groups.get_group(session, "board")
        return groups.find_membership(session, board, accounts.get_user(session, "bob@example.com")).delivery


def test_a_link_kept_after_leaving_shows_and_stops_nothing_of_whoever_joined_next(context, data_dir):
    board_with_alice(context)
    https, mailto = links_in_alices_mail(context)
    with context.session_scope() as session:
        board = groups.get_group(session, "board")
        groups.remove_member(session, board, accounts.get_user(session, "alice@example.com"))
    with context.session_scope() as session:
        board = groups.get_group(session, "board")
        groups.add_member(session, board, accounts.get_user(session, "bob@example.com"))
    client = TestClient(create_app(context))
    path = https.split("://", 1)[1].split("/", 1)[1]

    asked = client.get(f"/{path}")
    done = client.post(f"/{path}", data={"List-Unsubscribe": "One-Click"})

    for answer in (asked, done):
        assert answer.status_code == 404
        assert "bob@example.com" not in answer.text and "Board" not in answer.text
    assert bobs_delivery(context) == Delivery.EACH
    with context.session_scope() as session:
        stored = inbound.store_inbound(session, b"From: alice@example.com\r\nSubject: stop\r\n\r\n", "", [mailto])
        assert inbound.process_inbound(session, stored.id).status.value == "refused"
    assert bobs_delivery(context) == Delivery.EACH


def test_the_link_still_stops_the_mail_of_the_person_it_was_mailed_to(context, data_dir):
    board_with_alice(context)
    https, _ = links_in_alices_mail(context)
    path = https.split("://", 1)[1].split("/", 1)[1]
    assert TestClient(create_app(context)).post(f"/{path}").status_code == 200
    with context.session_scope() as session:
        board = groups.get_group(session, "board")
        alice = accounts.get_user(session, "alice@example.com")
        assert groups.find_membership(session, board, alice).delivery == Delivery.NONE


def test_a_link_of_the_old_form_that_named_only_a_membership_is_refused_with_a_way_forward(context, data_dir):
    board_with_alice(context)
    with context.session_scope() as session:
        membership = session.query(Membership).order_by(Membership.id.desc()).first()
        old = signing.sign(session, "unsubscribe", membership.id)
    client = TestClient(create_app(context))

    for answer in (client.get(f"/unsubscribe/{old}"), client.post(f"/unsubscribe/{old}")):
        assert answer.status_code == 404
        assert "older mail" in answer.text and "mail settings" in answer.text
        assert "alice@example.com" not in answer.text and "Board" not in answer.text
    with context.session_scope() as session:
        assert all(m.delivery == Delivery.EACH for m in session.query(Membership))
        assert not inbound.accepts_recipient(session, f"unsubscribe+{old}@plein.test")
