"""Commands by mail, in-process: a command asks for a confirmation, and only the confirming reply acts."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from hub.models import Delivery, InboundStatus, OutgoingMail
from hub.services import accounts, groups, inbound, signing
from hub.services.errors import Invalid
from mailgateway.addresses import route


def mail_from(sender: str, subject: str = "subscribe", body: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "x@plein.test"
    message["Subject"] = subject
    message.set_content(body or subject)
    return message.as_bytes()


def receive(session, raw: bytes, recipient: str):
    stored = inbound.store_inbound(session, raw, "", [recipient])
    return inbound.process_inbound(session, stored.id)


def confirmations(session) -> list[EmailMessage]:
    rows = session.scalars(select(OutgoingMail).where(OutgoingMail.key.like("confirm:%")).order_by(OutgoingMail.id))
    return [message_from_bytes(row.message, policy=policy.default) for row in rows]


@pytest.fixture
def hub(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    bob = accounts.create_user(session, "bob@example.com", "Bob")
    engineering = groups.create_group(session, "engineering", "Engineering")
    board = groups.create_group(session, "board", "Board", private=True)
    return alice, bob, engineering, board


def test_a_command_mails_a_confirmation_and_changes_nothing_yet(session, hub):
    alice, _, engineering, _ = hub
    result = receive(session, mail_from("alice@example.com"), "engineering+subscribe@plein.test")
    assert (result.status, result.reason) == (
        InboundStatus.COMMAND, "confirmation of subscribe for engineering mailed to alice@example.com",
    )
    assert groups.find_membership(session, engineering, alice) is None
    [confirmation] = confirmations(session)
    assert confirmation["To"].addresses[0].addr_spec == "alice@example.com"
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert route(confirmation["Reply-To"].addresses[0].addr_spec, "plein.test").kind == "confirm"
    assert "reply to this mail" in confirmation.get_body(("plain",)).get_content()


@pytest.mark.parametrize("command, delivery", [
    ("subscribe", Delivery.EACH), ("digest", Delivery.DAILY), ("each", Delivery.EACH),
])
def test_replying_to_the_confirmation_carries_the_command_out(session, hub, command, delivery):
    alice, _, engineering, _ = hub
    receive(session, mail_from("Alice <alice@example.com>"), f"engineering+{command}@plein.test")
    [confirmation] = confirmations(session)
    reply = receive(session, mail_from("alice@example.com", "Re: Confirm", "ja"), confirmation["Reply-To"].addresses[0].addr_spec)
    assert reply.status == InboundStatus.COMMAND
    assert groups.find_membership(session, engineering, alice).delivery == delivery


def test_unsubscribe_stops_the_mail_and_keeps_the_member(session, hub):
    alice, _, engineering, _ = hub
    groups.add_member(session, engineering, alice, Delivery.EACH)
    receive(session, mail_from("alice@example.com"), "engineering+unsubscribe@plein.test")
    [confirmation] = confirmations(session)
    receive(session, mail_from("alice@example.com", "Re: Confirm"), confirmation["Reply-To"].addresses[0].addr_spec)
    assert groups.find_membership(session, engineering, alice).delivery == Delivery.NONE


def test_a_confirmation_answered_by_someone_else_is_refused(session, hub):
    alice, _, engineering, _ = hub
    receive(session, mail_from("alice@example.com"), "engineering+subscribe@plein.test")
    [confirmation] = confirmations(session)
    reply = receive(session, mail_from("bob@example.com", "Re: Confirm"), confirmation["Reply-To"].addresses[0].addr_spec)
    assert reply.status == InboundStatus.REFUSED
    assert "mailed to someone else" in reply.reason
    assert groups.find_membership(session, engineering, alice) is None


def test_an_unknown_sender_gets_no_mail_and_a_recorded_refusal(session, hub):
    result = receive(session, mail_from("mallory@evil.example"), "engineering+subscribe@plein.test")
    assert result.status == InboundStatus.REFUSED
    assert result.reason == "sender mallory@evil.example is not a user of this hub"
    assert confirmations(session) == []


def test_an_out_of_office_answer_to_a_confirmation_does_not_confirm(session, hub):
    alice, _, engineering, _ = hub
    receive(session, mail_from("alice@example.com"), "engineering+subscribe@plein.test")
    [confirmation] = confirmations(session)
    auto = mail_from("alice@example.com", "Out of office: Confirm")
    reply = receive(session, auto, confirmation["Reply-To"].addresses[0].addr_spec)
    assert reply.status == InboundStatus.REFUSED
    assert groups.find_membership(session, engineering, alice) is None


def test_subscribing_to_a_private_group_needs_an_invitation(session, hub):
    alice, bob, _, board = hub
    result = receive(session, mail_from("alice@example.com"), "board+subscribe@plein.test")
    assert (result.status, result.reason) == (
        InboundStatus.REFUSED, "board is a private group: a member must invite alice@example.com first",
    )
    assert confirmations(session) == []
    groups.add_member(session, board, bob, Delivery.EACH)
    assert receive(session, mail_from("bob@example.com"), "board+digest@plein.test").status == InboundStatus.COMMAND


def test_unsubscribing_from_a_group_one_is_not_in_is_refused(session, hub):
    result = receive(session, mail_from("alice@example.com"), "engineering+unsubscribe@plein.test")
    assert result.status == InboundStatus.REFUSED
    assert "not a member of engineering" in result.reason


def test_rcpt_takes_commands_only_for_existing_groups_and_live_confirmations(session, hub):
    alice, _, engineering, _ = hub
    assert inbound.accepts_recipient(session, "engineering+subscribe@plein.test")
    assert inbound.accepts_recipient(session, "engineering+each@plein.test")
    assert not inbound.accepts_recipient(session, "engineering+weekly@plein.test")
    assert not inbound.accepts_recipient(session, "nosuchgroup+subscribe@plein.test")
    token = signing.sign_expiring(session, "confirm", alice.id, engineering.id, 1, lifetime_seconds=60)
    assert inbound.accepts_recipient(session, f"confirm+{token}@plein.test")
    forged = token[:-1] + ("1" if token[-1] == "0" else "0")
    assert not inbound.accepts_recipient(session, f"confirm+{forged}@plein.test")
    expired = signing.sign_expiring(session, "confirm", alice.id, engineering.id, 1, lifetime_seconds=-1)
    assert not inbound.accepts_recipient(session, f"confirm+{expired}@plein.test")


@pytest.mark.parametrize("name", ["confirm", "bounces", "no-reply", "digest"])
def test_an_address_plein_uses_itself_cannot_be_a_group_name(session, name):
    with pytest.raises(Invalid, match="cannot be a group address"):
        groups.create_group(session, name, name)
