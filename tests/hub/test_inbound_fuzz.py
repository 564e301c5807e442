"""Malformed mail through the whole inbound service: each message ends posted, refused or quarantined, with a reason."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from hub.models import Group, InboundStatus
from hub.services import accounts, groups, inbound
from tests.support.mime_fuzz import any_malformed_message, corpus_messages, mutated_corpus_message

FUZZ = settings(
    max_examples=400, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENDINGS = {InboundStatus.POSTED, InboundStatus.DUPLICATE, InboundStatus.REFUSED, InboundStatus.FAILED}


def hub_with_a_group(session) -> None:
    if session.scalar(select(Group.id).where(Group.slug == "engineering")) is None:
        groups.create_group(session, "engineering", "Engineering")
        accounts.create_user(session, "alice@example.com", "Alice")


def assert_ends_with_a_reason(session, raw: bytes) -> None:
    hub_with_a_group(session)
    stored = inbound.store_inbound(session, raw, "sender@example.com", ["engineering@plein.test"])
    processed = inbound.process_inbound(session, stored.id)
    assert processed.status in ENDINGS
    assert processed.reason.strip()


@FUZZ
@given(raw=any_malformed_message)
def test_generated_malformed_mime_is_posted_refused_or_quarantined_with_a_reason(session, raw: bytes):
    assert_ends_with_a_reason(session, raw)


@pytest.mark.skipif(not corpus_messages(), reason="mail corpus (../shared/corpus) not found")
@FUZZ
@given(raw=mutated_corpus_message())
def test_mangled_corpus_mail_is_posted_refused_or_quarantined_with_a_reason(session, raw: bytes):
    assert_ends_with_a_reason(session, raw)
