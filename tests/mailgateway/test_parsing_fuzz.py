"""`parse_message` never raises, on generated malformed MIME and on real mail mangled byte by byte."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from mailgateway.message import ParsedMessage
from mailgateway.parsing import envelope_of, parse_message
from tests.support.mime_fuzz import any_malformed_message, corpus_messages, mutated_corpus_message

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(message: ParsedMessage) -> None:
    """Every text is real Unicode (no escaped raw bytes a database would refuse), the subject one line."""
    texts = [
        message.subject, message.from_address, message.from_name, message.text, message.html or "",
        message.message_id or "", message.list_id, message.auto_reason, *message.recipients,
        *message.in_reply_to, *message.references,
        *(part.filename for part in message.attachments), *(part.content_id or "" for part in message.attachments),
    ]
    assert all(isinstance(text, str) and text.encode("utf-8") is not None for text in texts)
    assert isinstance(message.subject, str) and "\n" not in message.subject
    assert all(isinstance(part.data, bytes) and part.filename for part in message.attachments)
    assert all("@" in address for address in message.recipients)


@FUZZ
@given(any_malformed_message)
def test_generated_malformed_mime_parses_without_an_exception(raw: bytes):
    assert_well_formed(parse_message(raw))
    envelope_of(raw)


@pytest.mark.skipif(not corpus_messages(), reason="mail corpus (../shared/corpus) not found")
@FUZZ
@given(mutated_corpus_message())
def test_mangled_corpus_mail_parses_without_an_exception(raw: bytes):
    assert_well_formed(parse_message(raw))
    envelope_of(raw)
