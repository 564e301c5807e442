"""Mail Plein writes never lets a name or subject start a header of its own."""

from email import message_from_bytes, policy

from hub.models import OutgoingMail
from hub.services import accounts, digests, groups, notifications, posts, signin


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
    assert session.query(OutgoingMail).filter_by(key=f"comment:{answer.id}:to:{dutch_reader.id}").one()
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
