"""Mail Plein writes never lets a name or subject start a header of its own."""

from email import message_from_bytes, policy

from hub.models import OutgoingMail
from hub.services import accounts, digests, groups, notifications, posts, signin


def test_cr_and_lf_in_names_and_subjects_never_make_a_new_header(session):
    eve = accounts.create_user(session, "eve@example.com", "Eve\r\nBcc: victim@example.com")
    reader = accounts.create_user(session, "reader@example.com", "Rick\nX-Injected: yes")
    digest_reader = accounts.create_user(session, "digest@example.com", "Dora")
    group = groups.create_group(session, "engineering", "Eng\r\nX-Group: injected")
    groups.add_member(session, group, reader, "each")
    groups.add_member(session, group, digest_reader, "daily")
    post = posts.create_post(session, group, eve, "Hallo", "Tekst")
    post.title = "Subject\r\nX-Title: injected"
    comment = posts.create_comment(session, post, eve, "Antwoord")
    notifications.notify_post(session, post.id)
    notifications.notify_comment(session, comment.id)
    digests.send_digests(session, "daily")
    signin.request_sign_in(session, "reader@example.com")

    written = session.query(OutgoingMail).all()
    assert {row.key.split(":")[0] for row in written} == {"post", "comment", "digest", "sign-in"}
    for row in written:
        message = message_from_bytes(row.message, policy=policy.default)
        for injected in ("Bcc", "X-Injected", "X-Group", "X-Title"):
            assert message[injected] is None, f"{row.key} grew a {injected} header"
