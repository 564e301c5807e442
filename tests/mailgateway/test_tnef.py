"""Outlook's winmail.dat (application/ms-tnef), unpacked into ordinary attachments and body.

The TNEF streams are built by tests/support/tnef.py, so every byte a test expects is written here.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from mailgateway.parsing import parse_message
from tests.support.tnef import attachment, body, legacy_body, winmail_dat

NOTES = b"Agenda\r\n1. Budget\r\n2. Hiring\r\n"
REPORT = b"%PDF-1.4\n" + bytes(range(256)) + b"\x00\x00"  # every byte value, and trailing zeros kept
TWO_FILES = winmail_dat(
    attachment("notes.txt", NOTES),
    attachment("QUARTE~1.PDF", REPORT, long_name="Quarterly report Ü.pdf"),
)
TEXT = "THE BILL OF RIGHTS\r\nAmendment I: Überall gilt das Recht.\r\n"
HTML = "<html><body><h1>THE BILL OF RIGHTS</h1><p>Amendment I: Überall gilt das Recht.</p></body></html>"


def outlook_mail(tnef: bytes, text: str | None = "See the files.") -> bytes:
    message = EmailMessage()
    message["From"] = "Ann de Vries <ann@example.com>"
    message["To"] = "engineering@plein.example"
    message["Subject"] = "Files"
    if text is not None:
        message.set_content(text)
        message.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    else:
        message.set_content(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return message.as_bytes()


def test_the_files_inside_winmail_dat_become_ordinary_attachments():
    parsed = parse_message(outlook_mail(TWO_FILES))
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("notes.txt", "text/plain", NOTES),
        ("Quarterly report Ü.pdf", "application/pdf", REPORT),
    ]
    assert parsed.text.strip() == "See the files."


def test_the_body_inside_winmail_dat_is_the_body_of_a_mail_without_one():
    parsed = parse_message(outlook_mail(winmail_dat(body(TEXT, HTML)), text=None))
    assert parsed.text.startswith("THE BILL OF RIGHTS")
    assert "Überall gilt das Recht." in parsed.text
    assert parsed.html is not None and "BILL OF RIGHTS" in parsed.html and "Überall" in parsed.html
    assert parsed.attachments == []


def test_the_plain_body_older_outlook_writes_inside_winmail_dat_is_read_too():
    parsed = parse_message(outlook_mail(winmail_dat(legacy_body(TEXT)), text=None))
    assert parsed.text.startswith("THE BILL OF RIGHTS")
    assert "Überall gilt das Recht." in parsed.text
    assert parsed.html is None


def test_the_body_and_files_inside_winmail_dat_come_out_together():
    tnef = winmail_dat(body(TEXT, HTML), attachment("notes.txt", NOTES))
    parsed = parse_message(outlook_mail(tnef, text=None))
    assert parsed.text.startswith("THE BILL OF RIGHTS")
    assert [(a.filename, a.data) for a in parsed.attachments] == [("notes.txt", NOTES)]


def test_the_mails_own_text_wins_over_the_body_inside_winmail_dat():
    parsed = parse_message(outlook_mail(winmail_dat(body(TEXT, HTML))))
    assert parsed.text.strip() == "See the files."
    assert parsed.html is None


SECOND_NAME_END = TWO_FILES.index(b"QUARTE~1.PDF\x00") + len(b"QUARTE~1.PDF\x00") + 2  # and its checksum


def _damaged_byte(stream: bytes, at: int) -> bytes:
    return stream[:at] + bytes([stream[at] ^ 0xFF]) + stream[at + 1 :]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(TWO_FILES[:3], id="cut-inside-the-signature"),
        pytest.param(TWO_FILES[:10], id="cut-inside-the-first-attribute-header"),
        pytest.param(TWO_FILES[: TWO_FILES.index(NOTES) + 10], id="cut-inside-the-first-file"),
        pytest.param(TWO_FILES[: TWO_FILES.index(REPORT) + 100], id="cut-inside-the-second-file"),
        pytest.param(TWO_FILES[:-1], id="one-byte-short"),
        pytest.param(TWO_FILES[:SECOND_NAME_END], id="cut-after-the-second-file-s-name"),
        pytest.param(TWO_FILES[: SECOND_NAME_END + 8], id="cut-inside-the-header-of-the-second-file-s-data"),
        pytest.param(_damaged_byte(TWO_FILES, TWO_FILES.index(REPORT) + 50), id="a-damaged-byte"),
        pytest.param(b"not TNEF at all", id="junk"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_broken_winmail_dat_stays_an_attachment(data):
    parsed = parse_message(outlook_mail(data))
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("winmail.dat", "application/ms-tnef", data)
    ]
    assert parsed.text.strip() == "See the files."
