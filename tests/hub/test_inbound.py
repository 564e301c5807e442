from datetime import timedelta
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from imapclient import IMAPClient

from hub import jobs
from hub.cli import main
from hub.context import context_of
from hub.gateway import HubMailboxSink
from hub.models import Comment, InboundMessage, InboundStatus, Post, utcnow
from hub.services import accounts, groups, inbound, message_ids, signing
from hub.services.raw_mail import read_raw
from mailgateway.imap import MailboxUrl, MailboxWatcher
from mailgateway.parsing import parse_message
from tests.support.dovecot import Dovecot


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
    groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)
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


@pytest.mark.parametrize("headers, reason", [
    ({"Precedence": "bulk"}, "automatic mail is not posted: Precedence: bulk"),
    ({"X_Autoreply": "yes"}, "automatic mail is not posted: X-Autoreply header"),
    ({"Subject": "Automatisch antwoord: Planning"}, "out-of-office subject"),
    ({"List_Id": "Engineering <engineering.plein.test>"}, "this hub's own List-Id engineering.plein.test"),
])
def test_loops_and_machine_mail_are_refused_with_their_reason(session, headers, reason):
    accounts.create_user(session, "alice@example.com", "Alice")
    groups.create_group(session, "engineering", "Engineering")
    subject = headers.pop("Subject", "Planning")
    result = receive(session, raw_mail("alice@example.com", subject, "Tekst", **headers))
    assert result.status == InboundStatus.REFUSED
    assert reason in result.reason
    assert session.query(Post).count() == 0


def test_mail_with_a_mailer_daemon_envelope_sender_is_refused(session):
    accounts.create_user(session, "alice@example.com", "Alice")
    groups.create_group(session, "engineering", "Engineering")
    stored = inbound.store_inbound(
        session, raw_mail("alice@example.com", "Planning", "x"), "MAILER-DAEMON@mx.example.com", ["engineering@plein.test"]
    )
    result = inbound.process_inbound(session, stored.id)
    assert (result.status, result.reason) == (
        InboundStatus.REFUSED, "automatic mail is not posted: sent by MAILER-DAEMON@mx.example.com",
    )


def test_a_forged_reply_address_is_refused_at_rcpt_and_in_processing(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    group = groups.create_group(session, "engineering", "Engineering")
    post = Post(group=group, author=alice, title="t", body_text="b")
    session.add(post)
    session.flush()
    good = signing.sign(session, "reply", post.id, 0, alice.id)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert inbound.accepts_recipient(session, f"reply+{good}@plein.test")
    assert inbound.accepts_recipient(session, f"reply+{good.upper()}@PLEIN.TEST")
    assert not inbound.accepts_recipient(session, f"reply+{forged}@plein.test")
    result = receive(session, raw_mail("alice@example.com", "Re: t", "antwoord"), f"reply+{forged}@plein.test")
    assert result.status == InboundStatus.REFUSED
    assert session.query(Comment).count() == 0


def test_a_reply_address_used_by_someone_else_is_not_posted_as_anyone(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    accounts.create_user(session, "mallory@example.com", "Mallory")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, accounts.get_user(session, "mallory@example.com"), "each")
    post = Post(group=group, author=alice, title="t", body_text="b")
    session.add(post)
    session.flush()
    alices_address = f"reply+{signing.sign(session, 'reply', post.id, 0, alice.id)}@plein.test"
    result = receive(session, raw_mail("mallory@example.com", "Re: t", "Ik ben Alice"), alices_address)
    assert result.status == InboundStatus.REFUSED
    assert "made for someone else" in result.reason
    assert session.query(Comment).count() == 0


def thread_with_post(session, title: str = "Vraag over Q3", *, days_old: int = 0) -> Post:
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    bob = accounts.create_user(session, "bob@example.com", "Bob")
    group = groups.create_group(session, "engineering", "Engineering")
    for user in (alice, bob):
        groups.add_member(session, group, user, "each")
    post = Post(group=group, author=alice, title=title, body_text="?", created_at=utcnow() - timedelta(days=days_old))
    session.add(post)
    session.flush()
    return post


@pytest.mark.parametrize("subject", [
    "Re: [Engineering] Vraag over Q3", "RE: Vraag over Q3", "AW: vraag  over q3", "Antw: Re: Vraag over Q3",
    "Fwd: Vraag over Q3", "FW: [Engineering] Vraag over Q3", "Doorst: Vraag over Q3",
])
def test_a_reply_without_thread_headers_is_threaded_by_its_subject(session, subject):
    post = thread_with_post(session)
    result = receive(session, raw_mail("bob@example.com", subject, "Mijn antwoord"))
    assert result.status == InboundStatus.POSTED
    assert [c.body_text for c in session.query(Comment).filter_by(post_id=post.id)] == ["Mijn antwoord"]


def test_a_new_mail_titled_like_a_recent_post_stays_a_new_post(session):
    thread_with_post(session)
    receive(session, raw_mail("bob@example.com", "Vraag over Q3", "Nog een vraag"))
    assert session.query(Post).count() == 2
    assert session.query(Comment).count() == 0


def test_subject_threading_looks_back_thirty_days_only(session):
    thread_with_post(session, days_old=31)
    receive(session, raw_mail("bob@example.com", "Re: Vraag over Q3", "Te laat"))
    assert session.query(Post).count() == 2
    assert session.query(Comment).count() == 0


def test_subject_threading_stays_within_the_addressed_group(session):
    thread_with_post(session)
    sales = groups.create_group(session, "sales", "Sales")
    groups.add_member(session, sales, accounts.get_user(session, "bob@example.com"), "each")
    receive(session, raw_mail("bob@example.com", "Re: Vraag over Q3", "Andere groep"), "sales@plein.test")
    assert session.query(Post).filter_by(group_id=sales.id).one().title == "Re: Vraag over Q3"
    assert session.query(Comment).count() == 0


def with_setting(session, name: str, value: object) -> None:
    setattr(context_of(session).settings, name, value)


def test_a_message_too_slow_to_parse_is_quarantined_with_its_reason(session, monkeypatch):
    with_setting(session, "parse_time_limit", 0.5)
    accounts.create_user(session, "a@example.com", "A")  # mail from anyone else is refused before parsing
    groups.create_group(session, "engineering", "Engineering")
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(10_000))
    pathological = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    stored = inbound.store_inbound(session, pathological, "a@example.com", ["engineering@plein.test"])
    result = inbound.process_inbound(session, stored.id)
    assert (result.status, result.reason) == (InboundStatus.FAILED, "quarantined: parsing took longer than 0.5 seconds")


def test_a_message_with_more_attachments_than_allowed_is_refused_with_its_reason(session, monkeypatch):
    with_setting(session, "max_attachments", 2)
    accounts.create_user(session, "alice@example.com", "Alice")
    groups.create_group(session, "engineering", "Engineering")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "alice@example.com", "engineering@plein.test", "Bijlagen"
    message.set_content("Drie bestanden")
    for number in range(3):
        message.add_attachment(b"data", maintype="application", subtype="octet-stream", filename=f"{number}.bin")
    result = receive(session, message.as_bytes())
    assert (result.status, result.reason) == (InboundStatus.REFUSED, "3 attachments; at most 2 are taken per message")
    assert session.query(Post).count() == 0


def test_quarantined_mail_is_listed_and_retried_from_the_cli(session):
    engineering = groups.create_group(session, "engineering", "Engineering")
    stored = inbound.store_inbound(session, raw_mail("newcomer@example.com", "Hallo", "Ik ben nieuw"), "", ["engineering@plein.test"])
    inbound.mark_failed(session, stored.id, "processing failed: database restarted")
    session.commit()
    cli = CliRunner()

    listed = cli.invoke(main, ["inbound", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"{stored.id}\t" in listed.output and "processing failed: database restarted" in listed.output

    retried = cli.invoke(main, ["inbound", "retry", str(stored.id)])
    assert retried.exit_code == 0, retried.output
    session.expire_all()
    assert inbound.process_inbound(session, stored.id).status == InboundStatus.REFUSED  # not a user yet
    session.commit()
    assert f"{stored.id}\t" in cli.invoke(main, ["inbound", "list", "--status", "refused"]).output

    groups.add_member(session, engineering, accounts.create_user(session, "newcomer@example.com", "Nieuw"))
    session.commit()
    assert cli.invoke(main, ["inbound", "retry", str(stored.id)]).exit_code == 0
    session.expire_all()
    assert inbound.process_inbound(session, stored.id).status == InboundStatus.POSTED
    session.commit()
    again = cli.invoke(main, ["inbound", "retry", str(stored.id)])
    assert again.exit_code == 1 and "posted already" in again.output
    assert "no inbound message 999" in cli.invoke(main, ["inbound", "retry", "999"]).output


def test_stalled_messages_are_handed_to_the_workers_again(session):
    stored = inbound.store_inbound(session, raw_mail("x@example.com", "s", "b"), "", ["engineering@plein.test"])
    assert inbound.requeue_stalled(session, older_than=timedelta(0)) == 1
    inbound.process_inbound(session, stored.id)
    assert inbound.requeue_stalled(session, older_than=timedelta(0)) == 0


def test_the_sweep_hands_out_nothing_while_the_workers_have_a_backlog(context, session):
    inbound.store_inbound(session, raw_mail("x@example.com", "s", "b"), "", ["engineering@plein.test"])
    context.jobs.send_task("plein.inbound.process", args=(999,))
    assert jobs.queue_depths(context.jobs)[jobs.INBOUND_QUEUE] == 1
    assert inbound.requeue_stalled(session, older_than=timedelta(0)) == 0


def test_a_reply_naming_a_notification_plein_sent_lands_under_that_comment(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    bob = accounts.create_user(session, "bob@example.com", "Bob")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, alice)
    post = Post(group=group, author=alice, title="Vraag", body_text="?")
    session.add(post)
    session.flush()
    comment = Comment(post=post, author=bob, body_text="Antwoord")
    session.add(comment)
    session.flush()

    reply = raw_mail(
        "Alice <alice@example.com>", "Re: [Engineering] Vraag", "Dank!\n\nOn Mon, Bob wrote:\n> Antwoord",
        In_Reply_To=message_ids.message_id(session, "comment", comment.id),
        References=message_ids.message_id(session, "post", post.id),
    )
    result = receive(session, reply)
    assert result.status == InboundStatus.POSTED
    answer = session.query(Comment).filter(Comment.id != comment.id).one()
    assert (answer.post_id, answer.parent_id, answer.body_text) == (post.id, comment.id, "Dank!")


# Mail taken from a real Dovecot mailbox by the IMAP watcher.


def imap(dovecot: Dovecot) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
    client.login("plein", "secret")
    return client


def deliver_to_mailbox(dovecot: Dovecot, *mails: bytes, folder: str = "INBOX") -> None:
    with imap(dovecot) as client:
        for mail in mails:
            client.append(folder, mail)


def stored_count(session) -> int:
    session.expire_all()
    return session.query(InboundMessage).count()


def numbered(count: int, **headers: str) -> list[bytes]:
    return [raw_mail("alice@example.com", f"Mail {n}", f"Tekst {n}", **headers) for n in range(count)]


class CrashingSink(HubMailboxSink):
    """Stores for real, then dies right after the `crash_after`-th message, before it is marked."""

    def __init__(self, context, crash_after: int) -> None:
        super().__init__(context)
        self.left = crash_after

    def store(self, *args) -> None:
        super().store(*args)
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt("killed mid-batch")


def test_imap_messages_are_stored_and_marked_seen_only_after_storing(context, session, dovecot):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)
    session.commit()
    deliver_to_mailbox(dovecot, *numbered(3))
    watcher = MailboxWatcher(MailboxUrl.parse(dovecot.url()), HubMailboxSink(context))
    with watcher.connect() as client:
        assert watcher.take_new(client) == 3
        assert watcher.take_new(client) == 0
    with imap(dovecot) as client:
        client.select_folder("INBOX")
        assert client.search(["UNSEEN"]) == []
    stored = session.query(InboundMessage).order_by(InboundMessage.id).all()
    assert [m.recipients for m in stored] == ["engineering@plein.test"] * 3
    for message in stored:
        assert inbound.process_inbound(session, message.id).status == InboundStatus.POSTED
    assert session.query(Post).count() == 3


def test_restart_mid_batch_takes_no_message_twice_and_skips_none(context, session, dovecot):
    deliver_to_mailbox(dovecot, *numbered(5))
    url = MailboxUrl.parse(dovecot.url())
    crashing = MailboxWatcher(url, CrashingSink(context, crash_after=2), batch_size=3)
    with pytest.raises(KeyboardInterrupt):
        with crashing.connect() as client:
            crashing.take_new(client)
    assert stored_count(session) == 2
    with imap(dovecot) as client:
        client.select_folder("INBOX")
        assert len(client.search(["UNSEEN"])) == 4  # the second was stored, but the crash came before \Seen

    restarted = MailboxWatcher(url, HubMailboxSink(context), batch_size=3)
    with restarted.connect() as client:
        assert restarted.take_new(client) == 3
    assert stored_count(session) == 5
    subjects = sorted(parse_message(read_raw(m)).subject for m in session.query(InboundMessage))
    assert subjects == [f"Mail {n}" for n in range(5)]
    with imap(dovecot) as client:
        client.select_folder("INBOX")
        assert client.search(["UNSEEN"]) == []


def test_a_new_uidvalidity_rereads_the_folder_without_duplicates(context, session, dovecot):
    with imap(dovecot) as client:
        client.create_folder("Plein")
    without_id = b"From: bob@example.com\r\nTo: engineering@plein.test\r\nSubject: no id\r\n\r\nZonder Message-ID\r\n"
    first = [*numbered(2), without_id]
    deliver_to_mailbox(dovecot, *first, folder="Plein")
    watcher = MailboxWatcher(MailboxUrl.parse(dovecot.url(folder="Plein")), HubMailboxSink(context))
    with watcher.connect() as client:
        before = client.folder_status("Plein", ["UIDVALIDITY"])[b"UIDVALIDITY"]
        assert watcher.take_new(client) == 3
        client.select_folder("INBOX")
        client.delete_folder("Plein")
        client.create_folder("Plein")
        for mail in [*first, raw_mail("carol@example.com", "Nieuw", "Na de verhuizing")]:
            client.append("Plein", mail)
        assert client.folder_status("Plein", ["UIDVALIDITY"])[b"UIDVALIDITY"] != before
        assert watcher.take_new(client) == 4  # all read again and marked, but only the new one stored
    assert stored_count(session) == 4
    with imap(dovecot) as client:
        client.select_folder("Plein")
        assert client.search(["UNSEEN"]) == []


def test_stored_messages_can_be_moved_to_a_done_folder(context, session, dovecot):
    deliver_to_mailbox(dovecot, *numbered(2))
    watcher = MailboxWatcher(MailboxUrl.parse(dovecot.url()), HubMailboxSink(context), done_folder="Done")
    with watcher.connect() as client:
        assert watcher.take_new(client) == 2
        assert client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == 0
        assert client.folder_status("Done", ["MESSAGES"])[b"MESSAGES"] == 2
    assert stored_count(session) == 2


def test_recipients_of_mailbox_mail_come_from_delivered_to_and_the_address_headers(context, session, dovecot):
    alice = accounts.create_user(session, "alice@example.com", "Alice")
    groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)
    session.commit()
    bcc = b"Return-Path: <alice@example.com>\r\nDelivered-To: engineering@plein.test\r\nFrom: alice@example.com\r\n" \
          b"To: someone@example.org\r\nSubject: Bcc aan de groep\r\nMessage-ID: <bcc@example.com>\r\n\r\nHoi\r\n"
    deliver_to_mailbox(dovecot, bcc)
    watcher = MailboxWatcher(MailboxUrl.parse(dovecot.url()), HubMailboxSink(context))
    with watcher.connect() as client:
        watcher.take_new(client)
    message = session.query(InboundMessage).one()
    assert (message.envelope_from, message.recipients) == ("alice@example.com", "engineering@plein.test\nsomeone@example.org")
    assert inbound.process_inbound(session, message.id).status == InboundStatus.POSTED
