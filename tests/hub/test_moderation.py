"""Who may post: posting policies, unverified senders, and the moderation queue by mail, on the web and the CLI."""

from __future__ import annotations

import logging
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import dkim
import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.models import (
    Attachment,
    Comment,
    Group,
    HeldMessage,
    InboundMessage,
    InboundStatus,
    Membership,
    OutgoingMail,
    Post,
    User,
)
from hub.runner import log_sender_authentication
from hub.services import accounts, groups, inbound, moderation, signing
from hub.settings import Settings
from tests.hub.test_receipts import SENDERS_MESSAGE_IDS, written_by_hand
from tests.support.dnsmasq import Dnsmasq, new_dkim_key
from tests.support.web import csrf_of, signed_in

DOMAIN = "plein.test"


def mail(sender: str, subject: str, body: str, to: str = f"engineering@{DOMAIN}", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def receive(session, raw: bytes, recipient: str = f"engineering@{DOMAIN}") -> InboundMessage:
    stored = inbound.store_inbound(session, raw, "sender@example.com", [recipient])
    return inbound.process_inbound(session, stored.id)


@pytest.fixture
def company(session):
    """Alice (member), Mona (moderator), Carol (no member) and an Engineering group."""
    people = {name: accounts.create_user(session, f"{name}@example.com", name.title())
              for name in ("alice", "mona", "carol")}
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, people["alice"])
    groups.add_member(session, group, people["mona"])
    moderation.set_moderator(session, group, people["mona"])
    return people, group


def moderation_mails(session, to: str) -> list[EmailMessage]:
    return [
        message_from_bytes(row.message, policy=policy.default)
        for row in session.query(OutgoingMail).filter(OutgoingMail.key.like("moderation:%"), OutgoingMail.recipient == to)
    ]


def only_outcome(session, inbound_message: InboundMessage) -> str:
    """Posted, held or refused: exactly one, for a message with one destination."""
    made = (
        session.query(Post).filter_by(inbound_id=inbound_message.id).count()
        + session.query(Comment).filter_by(inbound_id=inbound_message.id).count()
    )
    held = session.query(HeldMessage).filter_by(inbound_id=inbound_message.id, status="held").count()
    refused = inbound_message.status == InboundStatus.REFUSED
    assert made + held + refused == 1, (made, held, inbound_message.status, inbound_message.reason)
    return "posted" if made else "held" if held else "refused"


# Posting policies

@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_a_members_group_takes_its_members_and_refuses_everyone_else(session, company, private):
    people, group = company
    group.is_private = private
    assert only_outcome(session, receive(session, mail("alice@example.com", "Plan", "x"))) == "posted"
    refused = receive(session, mail("carol@example.com", "Plan", "y"))
    assert only_outcome(session, refused) == "refused"
    assert refused.reason == "carol@example.com is not a member of engineering, and only its members post to it"


def test_a_hub_admin_posts_to_a_members_group_without_joining(session, company):
    people, group = company
    accounts.set_admin(session, people["carol"])
    assert only_outcome(session, receive(session, mail("carol@example.com", "Aankondiging", "z"))) == "posted"


def test_a_group_open_to_anyone_takes_mail_from_any_user_even_when_private(session, company):
    people, group = company
    group.is_private = True
    moderation.set_policy(session, group, "anyone")
    result = receive(session, mail("carol@example.com", "Vraag aan de helpdesk", "Mijn laptop"))
    assert only_outcome(session, result) == "posted"
    assert session.query(Post).one().author.email == "carol@example.com"


def test_mail_from_someone_who_is_no_user_is_refused_whatever_the_policy(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    result = receive(session, mail("stranger@example.org", "Koop nu", "spam"))
    assert only_outcome(session, result) == "refused"
    assert session.query(HeldMessage).count() == 0


def test_a_moderated_group_holds_a_post_and_mails_each_moderator(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    accounts.set_admin(session, people["carol"])
    result = receive(session, mail("Alice <alice@example.com>", "Nieuwe kantine", "Vanaf maandag open."))
    assert result.status == InboundStatus.HELD
    assert result.reason == "held for moderation of engineering (Engineering is moderated); 2 moderators mailed"
    assert only_outcome(session, result) == "held"
    [to_mona] = moderation_mails(session, "mona@example.com")
    assert len(moderation_mails(session, "carol@example.com")) == 1  # an admin moderates every group
    assert to_mona["Subject"] == "[Engineering] Held: Nieuwe kantine"
    assert to_mona["Reply-To"].addresses[0].addr_spec.startswith("approve+")
    text = to_mona.get_body(preferencelist=("plain",)).get_content()
    assert "Vanaf maandag open." in text and "Alice <alice@example.com>" in text
    assert re.search(rf"reject\+[0-9a-f-]+@{DOMAIN}", text)


def held_notices(session, to: str) -> list[EmailMessage]:
    return [
        message_from_bytes(row.message, policy=policy.default)
        for row in session.query(OutgoingMail).filter(OutgoingMail.key.like("held:%"), OutgoingMail.recipient == to)
    ]


def test_the_sender_of_held_mail_is_told_it_waits_in_a_reply_to_their_mail(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    sent = mail("Alice <alice@example.com>", "Nieuwe kantine", "Vanaf maandag open.")
    receive(session, sent)
    [notice] = held_notices(session, "alice@example.com")
    assert notice["Subject"] == "[Engineering] Waiting for a moderator: Nieuwe kantine"
    assert notice["Auto-Submitted"] == "auto-replied"  # RFC 3834: never answered by another robot
    assert notice["In-Reply-To"] == message_from_bytes(sent, policy=policy.default)["Message-ID"]
    text = notice.get_body(preferencelist=("plain",)).get_content()
    assert "Your message to Engineering waits for a moderator: Engineering is moderated." in text
    assert "Vanaf maandag open." in text and "you get a receipt" in text


@pytest.mark.parametrize("message_id", SENDERS_MESSAGE_IDS.values(), ids=SENDERS_MESSAGE_IDS.keys())
def test_the_held_notice_and_the_receipt_on_approval_thread_under_the_senders_own_mail(session, company, message_id):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    receive(session, written_by_hand("Storing lift", message_id.format(n=1)))
    own = re.search(r"<[^>]+>", message_id.format(n=1)).group(0)
    [notice] = held_notices(session, "alice@example.com")
    assert (notice["In-Reply-To"], notice["References"]) == (own, own)

    moderation.approve(session, session.query(HeldMessage).one(), people["mona"])
    [receipt] = [
        message_from_bytes(row.message, policy=policy.default)
        for row in session.query(OutgoingMail).filter(OutgoingMail.key.like("receipt:%"))
    ]
    assert (receipt["In-Reply-To"], receipt["References"]) == (own, own)


def test_a_dutch_sender_is_told_in_dutch(session, company):
    people, group = company
    people["alice"].language = "nl"
    moderation.set_policy(session, group, "moderated")
    receive(session, mail("alice@example.com", "Kantine", "Open."))
    [notice] = held_notices(session, "alice@example.com")
    assert notice["Subject"] == "[Engineering] Wacht op een moderator: Kantine"
    assert "Je bericht aan Engineering wacht op een moderator" in notice.get_body(preferencelist=("plain",)).get_content()


def test_a_moderators_own_post_is_not_held(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    assert only_outcome(session, receive(session, mail("mona@example.com", "Regels", "Wees aardig."))) == "posted"


def test_processing_a_held_message_twice_holds_and_mails_once(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    result = receive(session, mail("alice@example.com", "Eens", "x"))
    result.status = InboundStatus.RECEIVED
    inbound.process_inbound(session, result.id)
    assert session.query(HeldMessage).count() == 1
    assert len(moderation_mails(session, "mona@example.com")) == 1
    assert len(held_notices(session, "alice@example.com")) == 1


# Approving and rejecting

def test_approving_posts_the_message_as_its_sender_with_its_attachments(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "alice@example.com", f"engineering@{DOMAIN}", "Meetrapport"
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Zie bijlage.")
    message.add_attachment(b"meting 1: -14 dBm\n", maintype="text", subtype="plain", filename="meting.txt")
    result = receive(session, message.as_bytes())
    [held] = moderation.held_messages(session, people["mona"], group)

    outcome = moderation.approve(session, held, people["mona"])

    post = session.query(Post).one()
    assert (post.author.email, post.title, post.body_text.strip()) == ("alice@example.com", "Meetrapport", "Zie bijlage.")
    assert [a.filename for a in session.query(Attachment)] == ["meting.txt"]
    assert outcome == f"approved by mona@example.com: posted to engineering as post {post.id}"
    assert result.status == InboundStatus.POSTED
    assert only_outcome(session, result) == "posted"
    assert moderation.held_messages(session, people["mona"], group) == []


def test_deciding_twice_changes_nothing(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    receive(session, mail("alice@example.com", "Eens", "x"))
    held = session.query(HeldMessage).one()
    moderation.approve(session, held, people["mona"])
    assert "decided already" in moderation.approve(session, held, people["mona"])
    assert "decided already" in moderation.reject(session, held, people["mona"])
    assert session.query(Post).count() == 1


def test_rejecting_records_a_refusal_and_posts_nothing(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    result = receive(session, mail("alice@example.com", "Reclame", "x"))
    moderation.reject(session, session.query(HeldMessage).one(), people["mona"])
    assert result.status == InboundStatus.REFUSED
    assert "rejected by mona@example.com" in result.reason
    assert only_outcome(session, result) == "refused"


def test_someone_who_does_not_moderate_can_neither_see_nor_decide(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    receive(session, mail("alice@example.com", "Eens", "x"))
    held = session.query(HeldMessage).one()
    with pytest.raises(moderation.NotFound):
        moderation.held_messages(session, people["alice"], group)
    with pytest.raises(moderation.Forbidden):
        moderation.approve(session, held, people["alice"])
    assert session.query(Post).count() == 0


def test_a_held_reply_becomes_a_comment_in_its_thread_when_approved(session, company):
    people, group = company
    post = Post(group=group, author=people["mona"], title="Kantine", body_text="?")
    session.add(post)
    session.flush()
    moderation.set_policy(session, group, "moderated")
    address = f"reply+{signing.sign(session, 'reply', post.id, 0, people['alice'].id)}@{DOMAIN}"
    receive(session, mail("alice@example.com", "Re: Kantine", "Graag soep.\n\nOn Mon, Mona wrote:\n> ?"), address)
    held = session.query(HeldMessage).one()
    assert (held.post_id, held.text) == (post.id, "Graag soep.")
    moderation.approve(session, held, people["mona"])
    assert [(c.author.email, c.body_text) for c in post.comments] == [("alice@example.com", "Graag soep.")]


# Deciding by mail

def approve_address_for(session, moderator: str) -> str:
    [mailed] = moderation_mails(session, moderator)
    return mailed["Reply-To"].addresses[0].addr_spec


def test_a_reply_to_the_moderation_mail_approves(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    receive(session, mail("alice@example.com", "Nieuwe kantine", "Open."))
    address = approve_address_for(session, "mona@example.com")
    assert inbound.accepts_recipient(session, address)
    answer = receive(session, mail("mona@example.com", "Re: [Engineering] Held: Nieuwe kantine", "ok", to=address), address)
    assert answer.status == InboundStatus.COMMAND
    assert session.query(Post).one().author.email == "alice@example.com"


def test_mail_to_the_reject_address_rejects(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    held_mail = receive(session, mail("alice@example.com", "Reclame", "x"))
    held = session.query(HeldMessage).one()
    address = f"reject+{signing.sign(session, 'reject', held.id, people['mona'].id)}@{DOMAIN}"
    assert inbound.accepts_recipient(session, address)
    receive(session, mail("mona@example.com", "Reject", "", to=address), address)
    assert held.status == "rejected" and held_mail.status == InboundStatus.REFUSED
    assert session.query(Post).count() == 0


def test_a_moderation_token_used_by_someone_else_does_nothing_but_a_refusal(session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    receive(session, mail("alice@example.com", "Mijn eigen post", "x"))
    address = approve_address_for(session, "mona@example.com")
    answer = receive(session, mail("alice@example.com", "Re: held", "ok", to=address), address)
    assert answer.status == InboundStatus.REFUSED
    assert "the moderation mail was sent to someone else" in answer.reason
    assert session.query(HeldMessage).one().status == "held"
    assert session.query(Post).count() == 0


def test_a_forged_moderation_address_is_refused_at_rcpt(session, company):
    assert not inbound.accepts_recipient(session, f"approve+1-2-0123456789abcdef01234567@{DOMAIN}")


# Senders whose From cannot be verified

@pytest.fixture
def relay_auth(context):
    context.settings.inbound_auth = "relay"
    context.settings.trusted_authserv_ids = "mx.corp.example, mx2.corp.example"


def test_unverified_mail_is_held_not_posted_as_its_sender(relay_auth, session, company):
    result = receive(session, mail("alice@example.com", "Betaal deze factuur", "Snel!"))
    assert only_outcome(session, result) == "held"
    assert "the From could not be verified: no Authentication-Results from a trusted relay" in result.reason
    assert held_notices(session, "alice@example.com") == []  # the From may be forged: no mail to it


def test_a_forged_authentication_header_does_not_make_a_post(relay_auth, session, company):
    forged = mail("alice@example.com", "Betaal", "Snel!", Authentication_Results="evil.example; dmarc=pass")
    assert only_outcome(session, receive(session, forged)) == "held"


def test_mail_vouched_for_by_a_trusted_relay_is_posted(relay_auth, session, company):
    good = mail("alice@example.com", "Planning", "Q3",
                Authentication_Results="mx2.corp.example; dkim=pass header.d=example.com; dmarc=pass")
    assert only_outcome(session, receive(session, good)) == "posted"


def test_a_group_may_refuse_unverified_mail_instead(relay_auth, session, company):
    people, group = company
    moderation.set_policy(session, group, untrusted_mail="refuse")
    result = receive(session, mail("alice@example.com", "Betaal", "Snel!"))
    assert only_outcome(session, result) == "refused"
    assert "could not be verified" in result.reason and "engineering refuses such mail" in result.reason


def test_an_unverified_reply_by_token_is_held_too(relay_auth, session, company):
    people, group = company
    post = Post(group=group, author=people["mona"], title="Kantine", body_text="?")
    session.add(post)
    session.flush()
    address = f"reply+{signing.sign(session, 'reply', post.id, 0, people['alice'].id)}@{DOMAIN}"
    assert only_outcome(session, receive(session, mail("alice@example.com", "Re: Kantine", "Ja", to=address), address)) == "held"


def test_an_unverified_moderator_answer_decides_nothing(relay_auth, session, company):
    people, group = company
    moderation.set_policy(session, group, "moderated")
    receive(session, mail("carol@example.com", "Hoi", "x",
                          Authentication_Results="mx.corp.example; dmarc=pass header.from=example.com"))
    address = approve_address_for(session, "mona@example.com")
    answer = receive(session, mail("mona@example.com", "Re: held", "ok", to=address), address)
    assert answer.status == InboundStatus.REFUSED and "needs a verified From" in answer.reason
    assert session.query(Post).count() == 0


# The web and the CLI

def test_a_moderator_approves_on_the_queue_page_linked_from_the_group(context, data_dir):
    with context.session_scope() as session:
        people = {n: accounts.create_user(session, f"{n}@example.com", n.title()) for n in ("alice", "mona")}
        group = groups.create_group(session, "engineering", "Engineering")
        for person in people.values():
            groups.add_member(session, group, person)
        moderation.set_moderator(session, group, people["mona"])
        moderation.set_policy(session, group, "moderated")
        receive(session, mail("alice@example.com", "Nieuwe kantine", "Vanaf <b>maandag</b> open."))
    mona = signed_in(context, "mona@example.com")
    assert "Moderation queue" in mona.get("/g/engineering").text
    page = mona.get("/g/engineering/moderation")
    assert page.status_code == 200
    assert "Nieuwe kantine" in page.text and "alice@example.com" in page.text
    assert "Engineering is moderated" in page.text and "Vanaf &lt;b&gt;maandag&lt;/b&gt; open." in page.text
    held_id = int(re.search(r'id="held-(\d+)"', page.text).group(1))
    original = mona.get(f"/g/engineering/moderation/{held_id}/original")
    assert original.headers["content-type"].startswith("text/plain") and "Subject: Nieuwe kantine" in original.text
    assert mona.post(f"/g/engineering/moderation/{held_id}/approve", data={}).status_code == 403  # no CSRF token
    done = mona.post(f"/g/engineering/moderation/{held_id}/approve", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "Nothing is waiting." in done.text
    with context.session_scope() as session:
        assert session.query(Post).one().author.email == "alice@example.com"


def test_the_queue_does_not_exist_for_someone_who_does_not_moderate(context, data_dir):
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)
    alice = signed_in(context, "alice@example.com")
    assert alice.get("/g/engineering/moderation").status_code == 404
    assert "Moderation queue" not in alice.get("/g/engineering").text


def test_the_cli_sets_a_policy_and_a_moderator(context, data_dir):
    runner = CliRunner()
    assert runner.invoke(main, ["user", "add", "mona@example.com", "--name", "Mona"]).exit_code == 0
    created = runner.invoke(main, ["group", "create", "news", "--name", "News", "--policy", "moderated"])
    assert created.exit_code == 0, created.output
    not_member = runner.invoke(main, ["group", "moderator", "news", "mona@example.com"])
    assert not_member.exit_code == 1 and "add them to it first" in not_member.output
    runner.invoke(main, ["group", "add-member", "news", "mona@example.com"])
    made = runner.invoke(main, ["group", "moderator", "news", "mona@example.com"])
    assert made.output.strip() == "mona@example.com moderates news"
    changed = runner.invoke(main, ["group", "policy", "news", "--untrusted-mail", "refuse"])
    assert changed.output.strip() == "news: posting moderated, unverified mail refuse"
    with context.session_scope() as session:
        group = session.query(Group).filter_by(slug="news").one()
        assert session.query(Membership).filter_by(group_id=group.id).one().is_moderator
        assert session.query(User).count() == 1


def test_dkim_mode_posts_signed_mail_and_holds_the_rest_using_the_configured_resolver(context, data_dir, monkeypatch):
    private, public = new_dkim_key()
    with Dnsmasq({"sel._domainkey.example.com": f"v=DKIM1; k=rsa; p={public}"}) as dns_server:
        context.settings.inbound_auth, context.settings.dns_resolver = "dkim", dns_server.address
        with context.session_scope() as session:
            alice = accounts.create_user(session, "alice@example.com", "Alice")
            groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)
            raw = mail("alice@example.com", "Getekend", "Echt van mij.")
            signed = dkim.sign(raw, b"sel", b"example.com", private, include_headers=[b"from", b"to", b"subject", b"message-id"]) + raw
            assert only_outcome(session, receive(session, signed)) == "posted"
            unsigned = receive(session, mail("alice@example.com", "Niet getekend", "Van wie?"))
            assert only_outcome(session, unsigned) == "held"
            assert "no DKIM signature" in unsigned.reason


@pytest.mark.parametrize("mode, level, words", [
    ("none", logging.WARNING, "PLEIN_INBOUND_AUTH=none: the From of inbound mail is not verified"),
    ("relay", logging.INFO, "the From of inbound mail is verified: PLEIN_INBOUND_AUTH=relay"),
])
def test_the_mail_roles_say_at_start_up_whether_from_is_verified(tmp_path, caplog, mode, level, words):
    with caplog.at_level(logging.INFO, logger="plein"):
        log_sender_authentication(Settings(data_dir=tmp_path, inbound_auth=mode))
    assert [(r.levelno, words in r.getMessage()) for r in caplog.records] == [(level, True)]
