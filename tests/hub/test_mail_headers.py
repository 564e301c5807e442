"""The headers of mail Plein writes: no name or subject starts a header of its own, Message-IDs are
unique to their installation and thread answers, and Date names its zone."""

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from hub.db import upgrade_database
from hub.models import Comment, Installation, OutgoingMail
from hub.services import accounts, digests, groups, inbound, message_ids, notifications, posts, signin
from hub.services.mail_keys import comment_mail
from tests.support.hub import hub_context


def test_cr_and_lf_in_names_and_subjects_never_make_a_new_header(session):
    eve = accounts.create_user(session, "eve@example.com", "Eve\r\nBcc: victim@example.com")
    reader = accounts.create_user(session, "reader@example.com", "Rick\nX-Injected: yes")
    digest_reader = accounts.create_user(session, "digest@example.com", "Dora")
    dutch_reader = accounts.create_user(session, "nl@example.com", "Nora\r\nX-Injected: yes")
    dutch_reader.language = "nl"
    group = groups.create_group(session, "engineering", "Eng\r\nX-Group: injected")
    groups.add_member(session, group, reader, "each")
    groups.add_member(session, group, digest_reader, "daily")
    groups.add_member(session, group, dutch_reader, "weekly")
    post = posts.create_post(session, group, eve, "Hallo", "Tekst")
    post.title = "Subject\r\nX-Title: injected"
    comment = posts.create_comment(session, post, eve, "Antwoord")
    own_post = posts.create_post(session, group, dutch_reader, "Mine\nX-Title: injected", "Tekst")
    answer = posts.create_comment(session, own_post, eve, "Reply to Nora")
    notifications.notify_post(session, post.id)
    notifications.notify_comment(session, comment.id)
    notifications.notify_comment(session, answer.id)
    digests.send_digests(session, "daily")
    digests.send_digests(session, "weekly")
    signin.request_sign_in(session, "reader@example.com")

    written = session.query(OutgoingMail).all()
    assert {row.key.split(":")[0] for row in written} == {"post", "comment", "digest", "sign-in"}
    assert session.query(OutgoingMail).filter_by(key=comment_mail(answer, dutch_reader)).one()
    assert {row.key.split(":")[2] for row in written if row.key.startswith("digest:")} == {"daily", "weekly"}
    for row in written:
        message = message_from_bytes(row.message, policy=policy.default)
        for injected in ("Bcc", "X-Injected", "X-Group", "X-Title"):
            assert message[injected] is None, f"{row.key} grew a {injected} header"


def test_non_ascii_names_and_subjects_are_encoded_and_read_back_intact(session):
    author = accounts.create_user(session, "chloe@example.com", "Chloé Müller")
    reader = accounts.create_user(session, "reader@example.com", "Zoë Ünal")
    group = groups.create_group(session, "ingenieurs", "Ingénieurs & Co")
    groups.add_member(session, group, reader, "each")
    post = posts.create_post(session, group, author, "Café-storing: één pomp stuk — €120", "Tekst")
    notifications.notify_post(session, post.id)

    [row] = session.query(OutgoingMail).filter_by(recipient="reader@example.com").all()
    head = row.message.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers must be 7-bit, with RFC 2047 encoded words"
    message = message_from_bytes(row.message, policy=policy.default)
    assert message["Subject"] == "[Ingénieurs & Co] Café-storing: één pomp stuk — €120"
    assert message["From"].addresses[0].display_name == "Chloé Müller via Ingénieurs & Co"
    assert message["To"].addresses[0].display_name == "Zoë Ünal"


# Message-IDs: unique to this installation, the same in every one of its processes.

def post_mail_id(session) -> str:
    """The Message-ID of the mail about a new post 1, as Bob, a reader, gets it."""
    author = accounts.create_user(session, "alice@example.com", "Alice")
    reader = accounts.create_user(session, "bob@example.com", "Bob")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, reader, "each")
    post = posts.create_post(session, group, author, "Storing", "Tekst")
    assert post.id == 1
    notifications.notify_post(session, post.id)
    [row] = session.query(OutgoingMail).filter_by(recipient="bob@example.com").all()
    return message_from_bytes(row.message, policy=policy.default)["Message-ID"]


def test_two_installations_send_post_1_under_different_message_ids(tmp_path):
    ids = []
    for name in ("first", "second"):
        installation = hub_context(tmp_path / name)
        upgrade_database(installation.settings)
        with installation.session_scope() as session:
            ids.append(post_mail_id(session))
        installation.close()
    assert ids[0] != ids[1]
    assert all(re.fullmatch(r"<post-1\.[0-9a-z]{10}@plein\.test>", mail_id) for mail_id in ids), ids


def test_an_installations_message_ids_are_read_from_its_database_the_same_in_every_process(
    context, session, tmp_path
):
    made_here = post_mail_id(session)
    assert made_here == message_ids.message_id(session, "post", 1)
    [part] = session.scalars(select(Installation.mail_id_part)).all()
    assert made_here == f"<post-1.{part}@plein.test>"

    # Another process, on another machine's data directory, sharing only the database.
    elsewhere = {
        **os.environ, "PLEIN_DATA_DIR": str(tmp_path / "elsewhere"), "PLEIN_DATABASE_URL": context.settings.database_url,
    }
    script = (
        "from hub.context import build_context\nfrom hub.services import message_ids\n"
        "with build_context().session_scope() as session:\n    print(message_ids.message_id(session, 'post', 1))\n"
    )
    other_process = subprocess.run([sys.executable, "-c", script], env=elsewhere, capture_output=True, text=True)
    assert other_process.stdout.strip() == made_here, other_process.stderr
    with hub_context(context.settings.data_dir).session_scope() as again:
        assert message_ids.message_id(again, "post", 1) == made_here


def reply_to(session, subject: str, in_reply_to: str):
    raw = (
        "From: Bob <bob@example.com>\r\nTo: engineering@plein.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{abs(hash(in_reply_to))}@example.com>\r\n"
        f"In-Reply-To: {in_reply_to}\r\n\r\nDank!\r\n"
    ).encode()
    stored = inbound.store_inbound(session, raw, "bob@example.com", ["engineering@plein.test"])
    return inbound.process_inbound(session, stored.id)


def test_a_reply_to_our_message_id_becomes_a_comment_on_its_post(session):
    post_mail_id(session)
    result = reply_to(session, "Antwoord", message_ids.message_id(session, "post", 1))
    assert result.reason == "comment 1 on post 1"


def test_a_reply_to_another_installations_post_1_does_not_land_on_ours(session):
    post_mail_id(session)
    foreign = "<post-1.zzzzzzzzzz@plein.test>"
    assert foreign != message_ids.message_id(session, "post", 1)
    result = reply_to(session, "Antwoord", foreign)
    assert result.reason == "posted to engineering as post 2"
    assert session.query(Comment).count() == 0


def test_a_reply_to_mail_sent_before_message_ids_had_a_part_still_lands_on_its_post(session):
    post_mail_id(session)
    result = reply_to(session, "Antwoord", "<post-1@plein.test>")
    assert result.reason == "comment 1 on post 1"


def test_our_message_ids_read_back_to_what_they_name_and_others_to_nothing(session):
    made, parsed = message_ids.message_id, message_ids.parse_message_id
    assert parsed(session, made(session, "comment", 34)) == ("comment", 34)
    assert parsed(session, made(session, "post", 12).strip("<>")) == ("post", 12), "as ParsedMessage keeps ids"
    assert parsed(session, "comment-34@plein.test") == ("comment", 34), "sent before ids had a part"
    for others in ("post-12.zzzzzzzzzz@plein.test", "post-12@example.com", "abc@plein.test",
                   made(session, "digest", "5-daily-2026-11-25")):
        assert parsed(session, others) is None, others


# Date: "+0000" says the time is UTC; "-0000" would say its zone is unknown (RFC 5322, 3.3).

def test_date_says_utc_as_plus_0000_in_mail_out(session):
    post_mail_id(session)
    [mail_out] = session.query(OutgoingMail).filter_by(recipient="bob@example.com").all()
    date = message_from_bytes(mail_out.message, policy=policy.compat32)["Date"]
    assert date.endswith(" +0000"), date
    when = parsedate_to_datetime(date)
    assert when.utcoffset() == timedelta(0) and abs(when - datetime.now(UTC)) < timedelta(minutes=1)
