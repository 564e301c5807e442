"""Delivery reports at the VERP address: parsed, scored, mail stopped, and started again by the owner."""

from __future__ import annotations

from email.message import EmailMessage

from hub.models import InboundStatus, OutgoingMail, OutgoingStatus
from hub.services import accounts, bounces, groups, inbound, notifications, posts, signin
from mailgateway.addresses import route
from tests.support.web import signed_in_with_csrf


def delivery_report(recipient: str, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464)."""
    return f"""From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: bounces@plein.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Wed, 25 Nov 2026 07:00:01 +0100

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected

--BOUNDARY
Content-Type: text/rfc822-headers

From: Plein <no-reply@plein.test>
Subject: Hallo

--BOUNDARY--
""".replace("\n", "\r\n").encode()


def bounce(session, outgoing: OutgoingMail, raw: bytes) -> InboundStatus:
    stored = inbound.store_inbound(session, raw, "", [outgoing.envelope_from])
    return inbound.process_inbound(session, stored.id)


def company(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
    bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, bob, "each")
    return alice, bob, group


def post_mail_to_bob(session, alice, group, title) -> OutgoingMail:
    post = posts.create_post(session, group, alice, title, "Tekst")
    notifications.notify_post(session, post.id)
    [outgoing] = session.query(OutgoingMail).filter(OutgoingMail.key.like(f"post:{post.id}:to:%")).all()
    return outgoing


def test_the_verp_address_routes_to_bounces_with_its_token():
    assert route("bounces+12-abc@plein.test", "plein.test").kind == "bounces"
    assert route("bounces+12-abc@plein.test", "plein.test").value == "12-abc"
    assert route("bounces@plein.test", "plein.test").value == ""


def test_a_delivery_status_notification_is_parsed_for_failed_recipients():
    [failure] = bounces.parse_report(delivery_report("bob@example.com"))
    assert (failure.recipient, failure.status, failure.hard) == ("bob@example.com", "5.1.1", True)
    assert bounces.parse_report(delivery_report("bob@example.com", action="delayed", status="4.4.1")) == []
    out_of_office = EmailMessage()
    out_of_office.set_content("I am away until Monday.")
    assert bounces.parse_report(out_of_office.as_bytes()) == []


def test_hard_bounces_stop_mail_at_the_threshold_but_never_a_sign_in_link(session):
    alice, bob, group = company(session)
    for number in range(3):
        outgoing = post_mail_to_bob(session, alice, group, f"Bericht {number}")
        assert outgoing.status == OutgoingStatus.QUEUED
        processed = bounce(session, outgoing, delivery_report("bob@example.com"))
        assert processed.status == InboundStatus.COMMAND
        assert "5.1.1" in processed.reason
    assert bounces.is_disabled(session, "bob@example.com")

    held = post_mail_to_bob(session, alice, group, "Na de bounces")
    assert held.status == OutgoingStatus.FAILED and "bounced" in held.last_error
    signin.request_sign_in(session, "bob@example.com")
    [link] = session.query(OutgoingMail).filter(OutgoingMail.key.like("sign-in:%")).all()
    assert link.status == OutgoingStatus.QUEUED

    bounces.reenable(session, bob)
    assert post_mail_to_bob(session, alice, group, "Weer aan").status == OutgoingStatus.QUEUED


def test_a_report_counts_once_and_soft_bounces_count_half(session):
    alice, bob, group = company(session)
    outgoing = post_mail_to_bob(session, alice, group, "Bericht")
    for _ in range(2):
        bounce(session, outgoing, delivery_report("bob@example.com", status="4.2.2"))
    health = bounces._health(session, "bob@example.com")
    assert health.score == 0.5 and health.disabled_at is None


def test_a_forged_bounce_token_counts_nothing(session):
    alice, bob, group = company(session)
    outgoing = post_mail_to_bob(session, alice, group, "Bericht")
    stored = inbound.store_inbound(session, delivery_report("bob@example.com"), "", ["bounces+1-0000@plein.test"])
    processed = inbound.process_inbound(session, stored.id)
    assert "not counted" in processed.reason
    assert not bounces.is_disabled(session, outgoing.recipient)


def test_the_web_shows_a_notice_and_mail_starts_again_when_the_owner_confirms(context, data_dir):
    with context.session_scope() as session:
        alice, bob, group = company(session)
        for number in range(3):
            bounce(session, post_mail_to_bob(session, alice, group, f"Bericht {number}"), delivery_report("bob@example.com"))
    client, csrf = signed_in_with_csrf(context, "bob@example.com")
    page = client.get("/")
    assert "Mail to bob@example.com is stopped" in page.text
    assert client.post("/preferences/address", data={"csrf": csrf}).status_code == 200
    assert "is stopped" not in client.get("/").text
    with context.session_scope() as session:
        assert not bounces.is_disabled(session, "bob@example.com")
