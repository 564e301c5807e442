"""What the envelope and header show is checked before a message's body is parsed (issue 15, item 8).

A crafted message of 20,000 MIME parts holds a parser for longer than the parse time limit.
From anyone who is not a user, from a machine, or to a group that is gone, it must cost the
worker next to nothing: it is refused from its header alone, with the reason it always had.
Mail goes in over real SMTP and through the worker's service, as in production.
"""

from __future__ import annotations

import smtplib
import time

import pytest

from hub.gateway import HubInboundSink
from hub.models import InboundMessage, InboundStatus, Post
from hub.services import accounts, groups, inbound
from tests.mailgateway.test_smtp import running

GROUP = "engineering@plein.test"
PARSE_TIME_LIMIT = 5.0
# Well under the parse time limit: a refusal this fast never waited for the body's parse.
AT_ONCE = 2.0


def crafted(sender: str, *headers: str) -> bytes:
    """A message whose body takes the parser far longer than `PARSE_TIME_LIMIT`."""
    head = "".join(f"{header}\r\n" for header in (
        f"From: {sender}", f"To: {GROUP}", "Subject: Planning", *headers,
        "Content-Type: multipart/mixed; boundary=b",
    ))
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(20_000))
    return head.encode() + b"\r\n" + parts + b"--b--\r\n"


@pytest.fixture
def hub(context):
    """Alice in Engineering; a message may be parsed for `PARSE_TIME_LIMIT` seconds."""
    context.settings.parse_time_limit = PARSE_TIME_LIMIT
    with context.session_scope() as session:
        groups.add_member(
            session, groups.create_group(session, "engineering", "Engineering"),
            accounts.create_user(session, "alice@example.com", "Alice"),
        )


def send_and_process(context, raw: bytes, envelope_from: str = "someone@example.com") -> tuple[InboundMessage, float]:
    """Over SMTP into the hub, then what the worker does with it, and how long that took."""
    with running(HubInboundSink(context)) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail(envelope_from, [GROUP], raw)
    with context.session_scope() as session:
        stored = session.query(InboundMessage).order_by(InboundMessage.id.desc()).first()
        started = time.monotonic()
        result = inbound.process_inbound(session, stored.id)
        took = time.monotonic() - started
        session.expunge(result)
    return result, took


def test_a_crafted_message_from_an_address_that_is_no_user_is_refused_before_its_body_is_parsed(context, hub):
    result, took = send_and_process(context, crafted("mallory@example.com"))

    assert (result.status, result.reason) == (
        InboundStatus.REFUSED, "sender mallory@example.com is not a user of this hub",
    ), "a parse of the body would have been quarantined after the time limit"
    assert took < AT_ONCE


@pytest.mark.parametrize("headers, envelope_from, reason", [
    (["Auto-Submitted: auto-replied"], "alice@example.com", "automatic mail is not posted: Auto-Submitted: auto-replied"),
    (["Precedence: bulk"], "alice@example.com", "automatic mail is not posted: Precedence: bulk"),
    (["List-Id: Engineering <engineering.plein.test>"], "alice@example.com",
     "mail carrying this hub's own List-Id engineering.plein.test is not posted (a mail loop)"),
    ([], "MAILER-DAEMON@mx.example.com", "automatic mail is not posted: sent by MAILER-DAEMON@mx.example.com"),
])
def test_crafted_machine_mail_from_a_user_is_refused_before_its_body_is_parsed(context, hub, headers, envelope_from, reason):
    result, took = send_and_process(context, crafted("alice@example.com", *headers), envelope_from)

    assert (result.status, result.reason) == (InboundStatus.REFUSED, reason)
    assert took < AT_ONCE


def test_a_crafted_message_to_a_group_renamed_since_it_was_accepted_is_refused_before_its_body_is_parsed(context, hub):
    with running(HubInboundSink(context)) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail("alice@example.com", [GROUP], crafted("alice@example.com"))
    with context.session_scope() as session:
        groups.get_group(session, "engineering").slug = "platform"
    with context.session_scope() as session:
        stored = session.query(InboundMessage).one()
        started = time.monotonic()
        result = inbound.process_inbound(session, stored.id)
        assert (result.status, result.reason) == (InboundStatus.REFUSED, "no group engineering")
        assert time.monotonic() - started < AT_ONCE


def test_a_crafted_message_from_a_user_is_still_parsed_and_quarantined_at_the_time_limit(context, hub):
    result, took = send_and_process(context, crafted("alice@example.com"), "alice@example.com")

    assert (result.status, result.reason) == (
        InboundStatus.FAILED, f"quarantined: parsing took longer than {PARSE_TIME_LIMIT:g} seconds",
    )
    assert took >= PARSE_TIME_LIMIT


def test_a_header_longer_than_any_mail_client_writes_is_refused_without_parsing(context, hub):
    padding = [f"X-Padding-{number}: {'x' * 70}" for number in range(1_000)]
    result, took = send_and_process(context, crafted("alice@example.com", *padding), "alice@example.com")

    assert (result.status, result.reason) == (
        InboundStatus.REFUSED, "its header is longer than 64 kB, which no mail client writes",
    )
    assert took < AT_ONCE


def test_mail_from_a_user_with_a_header_block_of_ordinary_size_is_still_posted(context, hub):
    raw = (
        b"From: Alice <alice@example.com>\r\nTo: engineering@plein.test\r\nSubject: Planning\r\n"
        + b"".join(f"Received: from relay{number}.example.com\r\n".encode() for number in range(300))
        + b"\r\nDe planning voor Q3.\r\n"
    )
    result, _ = send_and_process(context, raw, "alice@example.com")

    assert result.status == InboundStatus.POSTED, result.reason
    with context.session_scope() as session:
        assert [post.title for post in session.query(Post)] == ["Planning"]
