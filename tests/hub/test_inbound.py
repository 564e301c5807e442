from email.message import EmailMessage

from hub.models import Comment, InboundStatus, Post
from hub.services import accounts, groups, inbound, signing


def raw_mail(sender: str, subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "engineering@plein.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((sender, subject, body)))}@example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def receive(session, raw: bytes, recipient: str = "engineering@plein.test"):
    stored = inbound.store_inbound(session, raw, "sender@example.com", [recipient])
    return inbound.process_inbound(session, stored.id)


def test_raw_message_is_kept_on_disk_with_its_record(session, data_dir):
    raw = raw_mail("alice@example.com", "Hallo", "Tekst")
    stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    assert (data_dir / stored.path).read_bytes() == raw
    assert stored.status == InboundStatus.RECEIVED


def test_processing_twice_makes_one_post(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    groups.create_group(session, "engineering", "Engineering")
    stored = inbound.store_inbound(session, raw_mail("Alice <alice@example.com>", "Eens", "x"), "", ["engineering@plein.test"])
    inbound.process_inbound(session, stored.id)
    inbound.process_inbound(session, stored.id)
    assert session.query(Post).filter_by(author_id=alice.id).count() == 1


def test_automatic_mail_is_refused_so_auto_replies_never_loop(session):
    accounts.create_user(session, "alice@example.com", "Alice")
    groups.create_group(session, "engineering", "Engineering")
    result = receive(session, raw_mail("alice@example.com", "Out of office", "Away", Auto_Submitted="auto-replied"))
    assert result.status == InboundStatus.REFUSED
    assert "automatic mail" in result.reason


def test_a_forged_reply_address_is_refused_at_rcpt_and_in_processing(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    group = groups.create_group(session, "engineering", "Engineering")
    post = Post(group=group, author=alice, title="t", body_text="b")
    session.add(post)
    session.flush()
    good = signing.sign("reply", post.id, 0, alice.id)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert inbound.accepts_recipient(session, f"reply+{good}@plein.test")
    assert inbound.accepts_recipient(session, f"reply+{good.upper()}@PLEIN.TEST")
    assert not inbound.accepts_recipient(session, f"reply+{forged}@plein.test")
    result = receive(session, raw_mail("alice@example.com", "Re: t", "antwoord"), f"reply+{forged}@plein.test")
    assert result.status == InboundStatus.REFUSED
    assert session.query(Comment).count() == 0


def test_stalled_messages_are_handed_to_the_workers_again(session):
    from datetime import timedelta

    stored = inbound.store_inbound(session, raw_mail("x@example.com", "s", "b"), "", ["engineering@plein.test"])
    assert inbound.requeue_stalled(session, older_than=timedelta(0)) == 1
    inbound.process_inbound(session, stored.id)
    assert inbound.requeue_stalled(session, older_than=timedelta(0)) == 0


def test_a_reply_naming_a_notification_plein_sent_lands_under_that_comment(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    bob = accounts.create_user(session, "bob@example.com", "Bob")
    group = groups.create_group(session, "engineering", "Engineering")
    post = Post(group=group, author=alice, title="Vraag", body_text="?")
    session.add(post)
    session.flush()
    comment = Comment(post=post, author=bob, body_text="Antwoord")
    session.add(comment)
    session.flush()

    reply = raw_mail(
        "Alice <alice@example.com>", "Re: [Engineering] Vraag", "Dank!\n\nOn Mon, Bob wrote:\n> Antwoord",
        In_Reply_To=f"<comment-{comment.id}@plein.test>", References=f"<post-{post.id}@plein.test>",
    )
    result = receive(session, reply)
    assert result.status == InboundStatus.POSTED
    answer = session.query(Comment).filter(Comment.id != comment.id).one()
    assert (answer.post_id, answer.parent_id, answer.body_text) == (post.id, comment.id, "Dank!")
