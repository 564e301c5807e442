"""Every step from a stored message to a comment runs under `PLEIN_PARSE_TIME_LIMIT`: reply
trimming too, in the same child as parsing, so a reply too slow to trim is quarantined
instead of holding the worker (issue 15, item 7)."""

from __future__ import annotations

import time
from email.message import EmailMessage

from hub.context import context_of
from hub.models import Comment, InboundStatus
from hub.services import accounts, groups, inbound, posts
from mailgateway.parsing import parse_message

LIMIT = 2.0
"""Parsing this reply takes about a quarter of a second, parsing and trimming it several seconds."""


def reply(body: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "alice@example.com", "engineering@plein.test"
    message["Subject"], message["Message-ID"] = "Re: Planning", "<slow-reply@example.com>"
    message.set_content(body)
    return message.as_bytes()


def test_a_reply_too_slow_to_trim_is_quarantined_with_its_reason(session, monkeypatch):
    context_of(session).settings.parse_time_limit = LIMIT
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, alice)
    posts.create_post(session, group, alice, "Planning", "Wanneer?")
    raw = reply("Klopt.\n\n" + "1 x:\n" * 400_000)  # 2 MB of lines that each start like a quote header
    started = time.process_time()
    parse_message(raw)
    assert time.process_time() - started < LIMIT / 2, "parsing alone fits the limit; trimming is what overruns"

    stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    result = inbound.process_inbound(session, stored.id)

    assert (result.status, result.reason) == (InboundStatus.FAILED, f"quarantined: parsing took longer than {LIMIT:g} seconds")
    assert session.query(Comment).count() == 0


def test_a_reply_is_trimmed_in_the_parser_child_to_the_authors_own_words(session, monkeypatch):
    context_of(session).settings.parse_time_limit = 30
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, alice)
    posts.create_post(session, group, alice, "Planning", "Wanneer?")
    raw = reply("Vrijdag.\n\nOp ma 3 mrt 2025 om 10:00 schreef Bob <bob@example.com>:\n> Wanneer?\n")

    stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    assert inbound.process_inbound(session, stored.id).status == InboundStatus.POSTED
    assert session.query(Comment).one().body_text == "Vrijdag."
