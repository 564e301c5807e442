"""Commands by mail over real SMTP: `SLUG+subscribe@` and friends, confirmed by a reply to the hub's mail."""

from __future__ import annotations

import itertools
import smtplib

import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import inbound_status, mail, send
from tests.support.servers import text_of, wait_for

GROUP_NUMBERS = itertools.count(1)


@pytest.fixture
def group(company: Company) -> str:
    """A public group of its own per test, so subscribing here changes no other test's mail."""
    slug = f"commands-{next(GROUP_NUMBERS)}"
    company.server.cli("group", "create", slug, "--name", f"Commands {slug}")
    return slug


def delivery_of(company: Company, email: str, slug: str) -> str | None:
    rows = company.server.query(
        "SELECT m.delivery FROM memberships m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id"
        " WHERE u.email = ? AND g.slug = ?", email, slug,
    )
    return rows[0][0] if rows else None


def outcome(company: Company, message_id: str) -> list[tuple[str, str]]:
    """The status and reason the hub recorded for a message, once a worker processed it."""
    return wait_for(
        lambda: [row for row in inbound_status(company, message_id) if row[0] != "received"],
        what=f"message {message_id} to be processed",
    )


def confirmation_for(company: Company, email: str, slug: str):
    return wait_for(
        lambda: company.server.mail_to(email, lambda m: m["Reply-To"] is not None and slug in text_of(m)),
        what=f"the confirmation mail to {email}",
    )[-1]


@pytest.mark.parametrize("command, delivery", [("subscribe", "each"), ("digest", "daily")])
def test_a_command_is_carried_out_only_after_the_reply_to_its_confirmation(company: Company, group: str, command, delivery):
    send(company, mail("carol", company.address(f"{group}+{command}"), command, command))
    confirmation = confirmation_for(company, "carol@example.com", group)
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert "reply to this mail" in text_of(confirmation)
    assert delivery_of(company, "carol@example.com", group) is None

    reply = mail("carol", confirmation["Reply-To"].addresses[0].addr_spec, "Re: " + confirmation["Subject"], "ja")
    reply["In-Reply-To"] = confirmation["Message-ID"]
    send(company, reply)
    wait_for(lambda: delivery_of(company, "carol@example.com", group) == delivery, what=f"carol on {delivery}")


def test_unsubscribe_by_mail_stops_the_mail_after_confirming(company: Company, group: str):
    company.server.cli("group", "add-member", group, "dave@example.com")
    send(company, mail("dave", company.address(f"{group}+unsubscribe"), "stop", "stop"))
    confirmation = confirmation_for(company, "dave@example.com", group)
    send(company, mail("dave", confirmation["Reply-To"].addresses[0].addr_spec, "Re: confirm", "ok"))
    wait_for(lambda: delivery_of(company, "dave@example.com", group) == "none", what="dave's mail to stop")


def test_nobody_can_subscribe_someone_else(company: Company, group: str):
    forged = mail("erin", company.address(f"{group}+each"), "subscribe", "x")
    send(company, forged)
    confirmation = confirmation_for(company, "erin@example.com", group)  # goes to erin, not to the forger
    answer = mail("bob", confirmation["Reply-To"].addresses[0].addr_spec, "Re: confirm", "yes")
    send(company, answer)
    [(status, reason)] = outcome(company, answer["Message-ID"])
    assert status == "refused" and "mailed to someone else" in reason
    assert delivery_of(company, "erin@example.com", group) is None


def test_a_command_from_an_unknown_sender_is_refused_and_mails_nobody(company: Company, group: str):
    message = mail("mallory", company.address(f"{group}+subscribe"), "subscribe", "x")
    send(company, message)
    assert outcome(company, message["Message-ID"]) == [
        ("refused", "sender mallory@example.com is not a user of this hub"),
    ]
    assert company.server.mail_to("mallory@example.com") == []


def test_subscribing_to_a_private_group_without_an_invitation_is_refused(company: Company):
    message = mail("carol", company.address("board+subscribe"), "subscribe", "x")
    send(company, message)
    assert outcome(company, message["Message-ID"]) == [
        ("refused", "board is a private group: a member must invite carol@example.com first"),
    ]
    assert delivery_of(company, "carol@example.com", "board") is None


def test_rcpt_for_a_command_needs_an_existing_group_and_a_known_command(company: Company):
    with smtplib.SMTP("127.0.0.1", company.server.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("carol@example.com")
        assert smtp.rcpt(company.address("engineering+subscribe"))[0] == 250
        assert smtp.rcpt(company.address("engineering+digest"))[0] == 250
        assert smtp.rcpt(company.address("engineering+weekly"))[0] == 550
        assert smtp.rcpt(company.address("no-such-group+subscribe"))[0] == 550
        assert smtp.rcpt(company.address("confirm+1-2-3-4-deadbeef"))[0] == 550
