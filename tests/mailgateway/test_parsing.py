import base64
import random
from datetime import datetime, timedelta, timezone
from textwrap import dedent

import pytest

from mailgateway.parsing import parse_message


def mail(text: str, encoding: str = "utf-8") -> bytes:
    return dedent(text).lstrip("\n").encode(encoding)


PLAIN = mail("""
    From: "Ann de Vries" <Ann@Example.COM>
    To: Team <Team@plein.example>, bob@example.com
    Cc: Carol <carol@example.com>, team@plein.example
    Delivered-To: team+abc@plein.example
    X-Original-To: team@plein.example
    Subject: Lunch
     on Friday?
    Date: Mon, 03 Mar 2025 10:00:00 +0100
    Message-ID: <abc.123@example.com>
    In-Reply-To: <parent@plein.example>
    References: <root@plein.example>
     <parent@plein.example>

    Shall we?
    """)


def test_plain_mail_gives_ids_without_angle_brackets():
    message = parse_message(PLAIN)
    assert message.message_id == "abc.123@example.com"
    assert message.in_reply_to == ["parent@plein.example"]
    assert message.references == ["root@plein.example", "parent@plein.example"]


def test_sender_is_lower_cased_and_named():
    message = parse_message(PLAIN)
    assert (message.from_address, message.from_name) == ("ann@example.com", "Ann de Vries")


def test_recipients_come_from_delivered_to_original_to_to_and_cc_once_each():
    assert parse_message(PLAIN).recipients == [
        "team+abc@plein.example", "team@plein.example", "bob@example.com", "carol@example.com",
    ]


def test_folded_subject_is_collapsed_to_one_line():
    assert parse_message(PLAIN).subject == "Lunch on Friday?"


def test_date_is_parsed_with_its_offset():
    assert parse_message(PLAIN).date == datetime(2025, 3, 3, 10, tzinfo=timezone(timedelta(hours=1)))


def test_plain_body_is_the_text_and_there_is_no_html():
    message = parse_message(PLAIN)
    assert (message.text.strip(), message.html) == ("Shall we?", None)


def test_broken_date_gives_none():
    assert parse_message(mail("From: a@example.com\nDate: yesterday-ish\n\nhi\n")).date is None


def test_rfc2047_subject_and_display_name_are_decoded():
    message = parse_message(mail("""
        From: =?utf-8?B?w4lsb2TDqWUgSmFuc3Nlbg==?= <elodie@example.com>
        Subject: =?iso-8859-1?Q?Caf=E9_morgen?= =?utf-8?Q?_=E2=98=95?=

        hi
        """))
    assert message.subject == "Café morgen ☕"
    assert message.from_name == "Élodée Janssen"


def test_display_name_that_is_an_address_does_not_hide_the_real_sender():
    message = parse_message(mail("From: ceo@plein.example <mallory@evil.example>\n\nPay now.\n"))
    assert message.from_address == "mallory@evil.example"


def test_windows_1252_body_is_decoded():
    raw = mail("""
        From: a@example.com
        Content-Type: text/plain; charset=windows-1252
        Content-Transfer-Encoding: 8bit

        \u201cPrijs\u201d: \u20ac 5 \u2013 caf\u00e9
        """, encoding="windows-1252")
    assert parse_message(raw).text.strip() == "\u201cPrijs\u201d: \u20ac 5 \u2013 caf\u00e9"


def test_latin1_label_is_read_as_windows_1252():
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=iso-8859-1\n\n\x93quoted\x94 na\xefve\n"
    assert parse_message(raw).text.strip() == "\u201cquoted\u201d na\u00efve"


@pytest.mark.parametrize("charset", ["us-ascii", "x-unknown-charset", "utf-7-broken"])
def test_mislabelled_utf8_body_is_still_read_as_utf8(charset):
    raw = f"From: a@example.com\nContent-Type: text/plain; charset={charset}\n\n".encode() + "Groetjes, Zoë".encode()
    assert parse_message(raw).text == "Groetjes, Zoë"


def test_invalid_utf8_falls_back_to_windows_1252():
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\ncaf\xe9 \x81\n"
    assert parse_message(raw).text.startswith("café ")


def test_alternative_mail_prefers_plain_text_and_keeps_sanitized_html():
    message = parse_message(mail("""
        From: a@example.com
        Content-Type: multipart/alternative; boundary=b

        --b
        Content-Type: text/plain; charset=utf-8

        Plain words
        --b
        Content-Type: text/html; charset=utf-8

        <p onclick="steal()">Rich <b>words</b></p><script>alert(1)</script>
        --b--
        """))
    assert message.text.strip() == "Plain words"
    assert message.html == "<p>Rich <b>words</b></p>"


def test_html_only_mail_gets_its_text_from_the_html():
    message = parse_message(mail("""
        From: a@example.com
        Content-Type: text/html; charset=utf-8

        <html><head><style>p{color:red}</style></head><body><p>Hallo <i>allemaal</i></p>
        <img src="https://tracker.example/pixel.gif"></body></html>
        """))
    assert message.text == "Hallo _allemaal_"
    assert "tracker" not in message.html and "style" not in message.html


def test_attachment_keeps_filename_type_and_bytes():
    payload = bytes(range(256))
    message = parse_message(mail(f"""
        From: a@example.com
        Content-Type: multipart/mixed; boundary=b

        --b
        Content-Type: text/plain

        See attached.
        --b
        Content-Type: application/pdf; name="=?utf-8?Q?offerte_=C3=A9=C3=A9n.pdf?="
        Content-Disposition: attachment; filename="=?utf-8?Q?offerte_=C3=A9=C3=A9n.pdf?="
        Content-Transfer-Encoding: base64

        {base64.b64encode(payload).decode()}
        --b--
        """))
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type) == ("offerte één.pdf", "application/pdf")
    assert attachment.data == payload
    assert not attachment.inline and message.text.strip() == "See attached."


def test_attached_message_becomes_an_eml_named_after_its_subject():
    message = parse_message(mail("""
        From: a@example.com
        Content-Type: multipart/mixed; boundary=b

        --b
        Content-Type: text/plain

        Forwarding this.
        --b
        Content-Type: message/rfc822

        From: b@example.com
        Subject: Original question

        What about Friday?
        --b--
        """))
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type) == ("Original question.eml", "message/rfc822")
    assert attachment.data.startswith(b"From: b@example.com") and b"What about Friday?" in attachment.data
    assert message.text.strip() == "Forwarding this."


def test_inline_cid_image_is_an_inline_attachment_with_its_content_id():
    message = parse_message(mail("""
        From: a@example.com
        Content-Type: multipart/related; boundary=b

        --b
        Content-Type: text/html

        <p>Look: <img src="cid:logo@plein"></p>
        --b
        Content-Type: image/png
        Content-ID: <logo@plein>
        Content-Disposition: inline
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=
        --b--
        """))
    [image] = message.attachments
    assert (image.content_id, image.inline, image.content_type) == ("logo@plein", True, "image/png")
    assert image.data == b"\x89PNG\r\n\x1a\n"
    assert 'src="cid:logo@plein"' in message.html


@pytest.mark.parametrize("header, automatic", [
    ("Auto-Submitted: auto-replied", True),
    ("Auto-Submitted: no", False),
    ("Precedence: bulk", True),
    ("Precedence: list", True),
    ("X-Auto-Response-Suppress: All", False),
])
def test_auto_submitted_follows_rfc_3834_and_precedence(header, automatic):
    assert parse_message(mail(f"From: a@example.com\n{header}\n\nOut of office\n")).auto_submitted is automatic


@pytest.mark.parametrize("headers, reason", [
    ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
    ("Precedence: junk", "Precedence: junk"),
    ("X-Autoreply: yes", "X-Autoreply header"),
    ("X-Autorespond: Away", "X-Autorespond header"),
    ("Subject: Automatic reply: Planning", "out-of-office subject 'Automatic reply: Planning'"),
    ("Subject: Automatisch antwoord: Planning", "out-of-office subject 'Automatisch antwoord: Planning'"),
    ("Subject: Out of Office: Planning", "out-of-office subject 'Out of Office: Planning'"),
    ("Subject: Afwezig", "out-of-office subject 'Afwezig'"),
    ("Subject: AutoReply: Planning", "out-of-office subject 'AutoReply: Planning'"),
])
def test_machine_sent_mail_says_why_it_looks_automatic(headers, reason):
    message = parse_message(mail(f"From: a@example.com\n{headers}\n\nAway\n"))
    assert (message.auto_submitted, message.auto_reason) == (True, reason)


@pytest.mark.parametrize("subject", ["Afwezig vrijdag, wie neemt over?", "Out of office policy", "Re: Planning"])
def test_a_person_writing_about_absence_is_not_an_auto_reply(subject):
    message = parse_message(mail(f"From: a@example.com\nSubject: {subject}\n\nText\n"))
    assert (message.auto_submitted, message.auto_reason) == (False, "")


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.com"])
def test_mail_from_mailer_daemon_or_postmaster_is_automatic(sender):
    assert parse_message(mail(f"From: {sender}\nSubject: Hi\n\nText\n")).auto_reason == f"sent by {sender.lower()}"


def test_list_id_is_kept_without_its_name_and_brackets():
    message = parse_message(mail("From: a@example.com\nList-Id: Engineering <Engineering.plein.example>\n\nx\n"))
    assert message.list_id == "engineering.plein.example"


def test_delivery_status_notification_is_automatic_and_its_report_is_not_the_text():
    message = parse_message(mail("""
        From: MAILER-DAEMON@example.com
        Content-Type: multipart/report; report-type=delivery-status; boundary=b

        --b
        Content-Type: text/plain

        Your mail could not be delivered.
        --b
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.com

        Final-Recipient: rfc822; gone@example.com
        Status: 5.1.1
        --b--
        """))
    assert message.auto_submitted
    assert message.text.strip() == "Your mail could not be delivered."


def test_blank_lines_before_the_headers_are_ignored():
    assert parse_message(b"\n\r\nFrom: a@example.com\nSubject: Hi\n\nbody\n").subject == "Hi"


def test_multipart_whose_boundary_never_comes_is_read_as_text():
    raw = mail("From: a@example.com\nContent-Type: multipart/alternative; boundary=nope\n\nJust text.\n")
    assert parse_message(raw).text.strip() == "Just text."


def test_header_that_breaks_the_modern_parser_is_read_the_compat32_way():
    # Python's default email policy raises IndexError on this Content-Type parameter.
    message = parse_message(b"From: Ann <ann@example.com>\nSubject: hi\nContent-Type: text/plain; charset*\n\nbody\n")
    assert (message.from_address, message.subject, message.text.strip()) == ("ann@example.com", "hi", "body")


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\xff\xfe",
    b"From: \xff\xfe <@@>\nSubject: =?bogus?Q?x?=\nContent-Type: multipart/mixed\n\n--\n",
    b"Content-Type: text/plain; charset=\"\x80\"\nContent-Transfer-Encoding: base64\n\n!!!not base64\n",
    bytes(random.Random(7).randrange(256) for _ in range(4000)),
])
def test_garbage_never_raises(raw):
    message = parse_message(raw)
    assert isinstance(message.text, str) and isinstance(message.subject, str)
