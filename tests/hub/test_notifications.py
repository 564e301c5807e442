"""Mail about answers: to the post's author and earlier commenters, whatever their delivery, once."""

from email import message_from_bytes, policy

from hub import jobs
from hub.models import Comment, OutgoingMail, Post
from hub.services import (
    accounts,
    attachments,
    digests,
    follows,
    groups,
    inbound,
    message_ids,
    notifications,
    posts,
    subscriptions,
)
from tests.hub.test_receipts import mail


def mails_to(session, address):
    rows = session.query(OutgoingMail).filter_by(recipient=address).order_by(OutgoingMail.id).all()
    return [message_from_bytes(row.message, policy=policy.default) for row in rows]


def company(session):
    alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
    bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
    carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
    group = groups.create_group(session, "engineering", "Engineering")
    groups.add_member(session, group, alice, "daily")
    groups.add_member(session, group, bob, "each")
    groups.add_member(session, group, carol, "weekly")
    return alice, bob, carol, group


def test_answers_to_your_post_are_mailed_even_on_digest_delivery(session):
    alice, bob, carol, group = company(session)
    post = posts.create_post(session, group, alice, "Wie heeft de sleutels?", "Van de kraan")
    comment = posts.create_comment(session, post, bob, "Ik!")

    notifications.notify_comment(session, comment.id)

    [mail] = mails_to(session, "alice@example.com")
    assert mail["Subject"] == "Re: [Engineering] Wie heeft de sleutels?"
    assert mail["In-Reply-To"] == message_ids.message_id(session, "post", post.id)
    assert mail["Reply-To"].addresses[0].addr_spec == notifications.reply_address(post, comment, alice)
    assert "your post" in mail.get_body(preferencelist=("plain",)).get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mails_to(session, "carol@example.com") == [], "carol never joined the thread"


def test_commenters_hear_of_later_answers_and_nobody_gets_a_comment_twice(session):
    alice, bob, carol, group = company(session)
    post = posts.create_post(session, group, bob, "Storing", "Tekst")
    posts.create_comment(session, post, carol, "Ik kijk")
    last = posts.create_comment(session, post, alice, "Opgelost")

    notifications.notify_comment(session, last.id)
    notifications.notify_comment(session, last.id)

    assert len(mails_to(session, "carol@example.com")) == 1
    assert len(mails_to(session, "bob@example.com")) == 1, "bob is on each and wrote the post: one mail"
    assert mails_to(session, "alice@example.com") == [], "never your own comment"


def test_switching_reply_mails_off_stops_them(session):
    alice, bob, carol, group = company(session)
    post = posts.create_post(session, group, alice, "Storing", "Tekst")
    subscriptions.stop_reply_notifications(session, subscriptions.replies_token(alice))
    comment = posts.create_comment(session, post, bob, "Ik!")
    notifications.notify_comment(session, comment.id)
    assert mails_to(session, "alice@example.com") == []


def test_people_who_can_no_longer_see_a_private_group_hear_nothing(session):
    alice, bob, carol, _ = company(session)
    board = groups.create_group(session, "board", "Board", private=True)
    groups.add_member(session, board, bob, "daily")
    post = posts.create_post(session, board, alice, "Geheim", "Tekst")
    comment = posts.create_comment(session, post, bob, "Ok")
    notifications.notify_comment(session, comment.id)
    assert mails_to(session, "alice@example.com") == []


def test_who_muted_a_thread_gets_neither_its_answer_mail_nor_its_comment_mail_on_each(session):
    alice, bob, carol, group = company(session)
    post = posts.create_post(session, group, alice, "Storing", "Tekst")
    posts.create_comment(session, post, bob, "Ik kijk")
    follows.mute(session, alice, post)
    follows.mute(session, bob, post)
    comment = posts.create_comment(session, post, carol, "Opgelost")

    assert notifications.notify_comment(session, comment.id) == 0
    assert mails_to(session, "alice@example.com") == mails_to(session, "bob@example.com") == []


def test_a_member_who_muted_the_group_hears_nothing_from_it_by_mail_until_unmuting(session):
    alice, bob, carol, group = company(session)
    own = posts.create_post(session, group, bob, "Van bob", "Tekst")
    follows.mute(session, bob, group)
    answer = posts.create_comment(session, own, alice, "Antwoord aan bob")
    muted = posts.create_post(session, group, alice, "Gemist", "Tekst")

    notifications.notify_comment(session, answer.id)
    notifications.notify_post(session, muted.id)
    assert mails_to(session, "bob@example.com") == [], "no answer mail, no post mail on each"

    follows.unmute(session, bob, group)
    heard = posts.create_post(session, group, alice, "Gehoord", "Tekst")
    notifications.notify_post(session, heard.id)
    assert [m["Subject"] for m in mails_to(session, "bob@example.com")] == ["[Engineering] Gehoord"]


def test_a_muted_group_is_left_out_of_the_digest(session):
    alice, bob, carol, group = company(session)
    social = groups.create_group(session, "social", "Social")
    groups.add_member(session, social, carol, "weekly")
    follows.mute(session, carol, group)
    posts.create_post(session, group, bob, "Storing", "Tekst")
    posts.create_post(session, social, bob, "Borrel", "Vrijdag")

    digests.send_digests(session, "weekly")

    [digest] = mails_to(session, "carol@example.com")
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert "Borrel" in text and "Storing" not in text
    assert len(mails_to(session, "alice@example.com")) == 0, "alice is on daily; the weekly run is not hers"


def test_dutch_readers_get_post_comment_and_answer_mails_in_dutch(session):
    alice, bob, carol, group = company(session)
    bob.language = "nl"
    alice.language = "nl"
    post = posts.create_post(session, group, carol, "Storing", "De lift staat stil.")
    notifications.notify_post(session, post.id)
    [post_mail] = mails_to(session, "bob@example.com")
    assert "Carol Claes plaatste in Engineering" in post_mail.get_body(preferencelist=("plain",)).get_content()

    own = posts.create_post(session, group, alice, "Sleutels", "Waar zijn ze?")
    answer = posts.create_comment(session, own, carol, "In de kast.")
    notifications.notify_comment(session, answer.id)
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in mails_to(session, "alice@example.com")]
    assert any("reageerde op je bericht" in text for text in texts)
    assert any("Carol Claes reageerde op \"Sleutels\"" in text for text in mails_to_text(session, "bob@example.com"))


def mails_to_text(session, address):
    return [m.get_body(preferencelist=("plain",)).get_content() for m in mails_to(session, address)]


def test_a_dutch_reader_gets_a_dutch_sign_in_link(session):
    from hub.services import signin

    alice, *_ = company(session)
    alice.language = "nl"
    signin.request_sign_in(session, "alice@example.com")
    [mail] = mails_to(session, "alice@example.com")
    assert mail["Subject"] == "Je aanmeldlink voor Plein"
    assert "Meld je aan bij Plein" in mail.get_body(preferencelist=("plain",)).get_content()


def test_an_answer_notice_can_be_stopped_by_its_mailto_without_signing_in(session):
    import re

    from hub.services import inbound

    alice, bob, carol, group = company(session)
    post = posts.create_post(session, group, alice, "Wie heeft de sleutels?", "Van de kraan")
    notifications.notify_comment(session, posts.create_comment(session, post, bob, "Ik!").id)
    [notice] = mails_to(session, "alice@example.com")
    https, mailto = re.findall(r"<([^>]+)>", notice["List-Unsubscribe"])
    assert https.startswith("http") and mailto.startswith("mailto:replies-off+")

    address = mailto.removeprefix("mailto:")
    assert inbound.accepts_recipient(session, address)
    assert not inbound.accepts_recipient(session, address.replace("replies-off+", "replies-off+9"))
    stored = inbound.store_inbound(session, b"From: x@example.com\r\nSubject: unsubscribe\r\n\r\n", "", [address])
    assert inbound.process_inbound(session, stored.id).status.value == "command"
    assert alice.notify_replies is False


def pending_notifications(session) -> list[str]:
    return [name for name, _ in jobs.queued(session) if name.startswith("plein.delivery.")]


def receive(session, raw: bytes) -> None:
    stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    inbound.process_inbound(session, stored.id)


def test_mail_in_for_few_readers_is_mailed_in_the_transaction_that_posts_it(session):
    company(session)
    receive(session, mail("Storing lift", "De lift staat stil."))
    post = session.query(Post).one()
    assert [m["Subject"] for m in mails_to(session, "bob@example.com")] == ["[Engineering] Storing lift"]
    receive(session, mail("Re: Storing lift", "Ik bel de monteur.", In_Reply_To=message_ids.message_id(session, "post", post.id)))
    assert session.query(Comment).count() == 1
    assert len(mails_to(session, "bob@example.com")) == 2
    assert pending_notifications(session) == [], "no job is left to send what was sent"


def test_mail_in_for_more_readers_than_a_few_leaves_the_mail_to_its_job(session, monkeypatch):
    company(session)
    monkeypatch.setattr(notifications, "FEW_READERS", 0)
    receive(session, mail("Storing lift", "De lift staat stil."))
    post = session.query(Post).one()
    assert mails_to(session, "bob@example.com") == []
    assert pending_notifications(session) == [notifications.NOTIFY_POST]
    assert notifications.notify_post(session, post.id) == 1, "the job mails everyone"


def test_post_mail_links_each_file_instead_of_carrying_it_so_a_500_mb_video_stays_on_plein(session):
    alice, bob, carol, group = company(session)
    post = posts.create_post(session, group, carol, "Montage", "De film van vandaag.")
    film = attachments.attach(session, post, "montage.mp4", "video/mp4", b"\x00" * 1000)
    notifications.notify_post(session, post.id)

    [post_mail] = mails_to(session, "bob@example.com")

    link = f"/attachments/{film.id}/montage.mp4"
    assert [part.get_filename() for part in post_mail.iter_attachments()] == []
    assert "- montage.mp4: http" in post_mail.get_body(preferencelist=("plain",)).get_content()
    assert link in post_mail.get_body(preferencelist=("plain",)).get_content()
    assert f'{link}" style="color:#0b6bcb;">montage.mp4</a>' in post_mail.get_body(preferencelist=("html",)).get_content()
