"""Threading never attaches mail to a thread its sender may not see, and no mail names one (issue 15, item 1).

A private group whose policy is `anyone` (a helpdesk) or `moderated` takes mail from people who
are not its members. Such a sender may still name one of its posts: by the Message-ID of a mail
about it (guessed, or with the form used before Message-IDs carried an installation's part), by
the Message-ID of the mail that made it, by its title after `Re:`, or with a reply address kept
from the time they were a member. Each of these starts a new thread (or is held as a new post),
and the receipt, the held notice and the moderation mail name no private title.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from hub.models import Comment, HeldMessage, InboundStatus, OutgoingMail, Post
from hub.services import accounts, groups, inbound, message_ids, moderation, notifications, posts

DOMAIN = "plein.test"
SECRET = "Reorganisatie: drie functies vervallen"


def mail(sender: str, subject: str, body: str, to: str = f"helpdesk@{DOMAIN}", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def receive(session, raw: bytes, recipient: str = f"helpdesk@{DOMAIN}"):
    """As the SMTP hook and the worker do: store durably, then process."""
    stored = inbound.store_inbound(session, raw, "sender@example.com", [recipient])
    return inbound.process_inbound(session, stored.id)


def mails(session, key_prefix: str, to: str) -> list[EmailMessage]:
    rows = session.query(OutgoingMail).filter(OutgoingMail.key.like(f"{key_prefix}%"), OutgoingMail.recipient == to)
    return [message_from_bytes(row.message, policy=policy.default) for row in rows.order_by(OutgoingMail.id)]


def everything_in(message: EmailMessage) -> str:
    """Subject and every text part, decoded: all a recipient reads."""
    parts = [part.get_content() for part in message.walk() if part.get_content_maintype() == "text"]
    return "\n".join([str(message["Subject"]), *parts])


@pytest.fixture
def helpdesk(session):
    """A private Helpdesk open to anyone; Mia is its member and moderator and wrote a private post;
    Carol is a user of the hub but no member."""
    mia = accounts.create_user(session, "mia@example.com", "Mia")
    carol = accounts.create_user(session, "carol@example.com", "Carol")
    group = groups.create_group(session, "helpdesk", "Helpdesk", private=True)
    groups.add_member(session, group, mia)
    moderation.set_moderator(session, group, mia)
    moderation.set_policy(session, group, "anyone")
    receive(session, mail("mia@example.com", SECRET, "Alleen voor de helpdesk."))
    secret = session.query(Post).one()
    assert secret.title == SECRET
    return group, secret, mia, carol


def ways_to_name(session, post: Post) -> dict[str, dict[str, str]]:
    """The headers by which a mail may claim to answer `post`."""
    ours = message_ids.message_id(session, "post", post.id)
    return {
        "our-message-id": {"In_Reply_To": ours, "References": ours},
        "our-message-id-without-part": {"In_Reply_To": f"<post-{post.id}@{DOMAIN}>"},
        "the-message-id-of-the-mail-that-made-it": {"References": f"<{post.message_id}>"},
    }


WAYS = ["our-message-id", "our-message-id-without-part", "the-message-id-of-the-mail-that-made-it"]


@pytest.mark.parametrize("way", WAYS)
def test_a_non_member_answering_a_private_post_starts_a_new_thread_and_its_receipt_names_no_private_title(
    session, helpdesk, way
):
    group, secret, _, _ = helpdesk
    result = receive(session, mail("carol@example.com", "Mijn laptop", "Start niet op.", **ways_to_name(session, secret)[way]))

    assert result.status == InboundStatus.POSTED, result.reason
    assert session.query(Comment).count() == 0
    new = session.query(Post).filter(Post.author.has(email="carol@example.com")).one()
    assert (new.group_id, new.title) == (group.id, "Mijn laptop")
    [receipt] = mails(session, "receipt:", "carol@example.com")
    assert SECRET not in everything_in(receipt)


def test_a_non_member_answering_a_private_post_by_its_title_starts_a_new_thread(session, helpdesk):
    result = receive(session, mail("carol@example.com", f"Re: {SECRET}", "Klopt dit?"))

    assert result.status == InboundStatus.POSTED, result.reason
    assert session.query(Comment).count() == 0
    assert session.query(Post).count() == 2


@pytest.mark.parametrize("way", WAYS)
def test_a_non_member_answering_a_private_post_of_a_moderated_group_is_held_as_a_new_post_naming_no_title(
    session, helpdesk, way
):
    group, secret, mia, _ = helpdesk
    moderation.set_policy(session, group, "moderated")
    result = receive(session, mail("carol@example.com", "Vraag", "Wat gebeurt er?", **ways_to_name(session, secret)[way]))

    assert result.status == InboundStatus.HELD, result.reason
    held = session.query(HeldMessage).one()
    assert held.post_id is None and held.parent_id is None
    [notice] = mails(session, "held:", "carol@example.com")
    assert SECRET not in everything_in(notice)

    moderation.approve(session, held, mia)
    assert session.query(Comment).count() == 0
    assert session.query(Post).filter(Post.author.has(email="carol@example.com")).one().title == "Vraag"
    [receipt] = mails(session, "receipt:", "carol@example.com")
    assert SECRET not in everything_in(receipt)


def test_a_member_still_answers_the_private_thread_by_its_message_id(session, helpdesk):
    group, secret, _, _ = helpdesk
    sam = accounts.create_user(session, "sam@example.com", "Sam")
    groups.add_member(session, group, sam)
    result = receive(session, mail("sam@example.com", "Re: x", "Ik help.", **ways_to_name(session, secret)["our-message-id"]))

    assert result.status == InboundStatus.POSTED, result.reason
    assert [c.body_text for c in secret.comments] == ["Ik help."]
    [receipt] = mails(session, "receipt:", "sam@example.com")
    assert SECRET in everything_in(receipt)


def test_a_reply_address_kept_after_leaving_the_group_no_longer_answers_its_thread(session, helpdesk):
    group, secret, _, _ = helpdesk
    sam = accounts.create_user(session, "sam@example.com", "Sam")
    groups.add_member(session, group, sam)
    address = notifications.reply_address(secret, None, sam)
    groups.remove_member(session, group, sam)

    result = receive(session, mail("sam@example.com", f"Re: {SECRET}", "Nog een vraag.", to=address), address)

    assert result.status == InboundStatus.POSTED, result.reason
    assert session.query(Comment).count() == 0
    assert session.query(Post).filter(Post.author_id == sam.id).one().group_id == group.id


def test_approving_a_held_answer_after_its_sender_left_the_group_starts_a_new_thread(session, helpdesk):
    group, secret, mia, _ = helpdesk
    moderation.set_policy(session, group, "moderated")
    sam = accounts.create_user(session, "sam@example.com", "Sam")
    groups.add_member(session, group, sam)
    receive(session, mail("sam@example.com", "Re: x", "Ik help.", **ways_to_name(session, secret)["our-message-id"]))
    held = session.query(HeldMessage).one()
    assert held.post_id == secret.id
    groups.remove_member(session, group, sam)

    moderation.approve(session, held, mia)

    assert session.query(Comment).count() == 0
    [receipt] = mails(session, "receipt:", "sam@example.com")
    assert SECRET not in everything_in(receipt)


def test_the_moderation_mail_names_the_thread_only_to_moderators_who_may_see_it(session, helpdesk):
    group, secret, _, _ = helpdesk
    moderation.set_policy(session, group, "moderated")
    ada = accounts.create_user(session, "ada@example.com", "Ada")
    accounts.set_admin(session, ada)  # an admin moderates every group, private ones too, as no member
    sam = accounts.create_user(session, "sam@example.com", "Sam")
    groups.add_member(session, group, sam)
    receive(session, mail("sam@example.com", "Re: x", "Ik help.", **ways_to_name(session, secret)["our-message-id"]))

    [to_mia] = mails(session, "moderation:", "mia@example.com")
    [to_ada] = mails(session, "moderation:", "ada@example.com")
    assert SECRET in everything_in(to_mia)
    assert SECRET not in everything_in(to_ada)


def test_a_comment_by_a_non_member_is_never_mailed_to_them_as_a_follower(session, helpdesk):
    """The helpdesk's answers to Carol's own post go to members only: Carol may not read the group."""
    group, _, mia, carol = helpdesk
    receive(session, mail("carol@example.com", "Mijn laptop", "Start niet op."))
    own = session.query(Post).filter(Post.author_id == carol.id).one()
    comment = posts.create_comment(session, own, mia, "Kom even langs.")
    notifications.notify_comment(session, comment.id)
    assert mails(session, f"comment:{comment.id}:", "carol@example.com") == []
