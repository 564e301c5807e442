"""Posts and comments written on the web follow the group's posting policy, as mail does."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from hub.models import Attachment, Comment, HeldMessage, InboundMessage, InboundStatus, OutgoingMail, Post
from hub.services import accounts, groups, moderation, posts
from tests.hub.test_moderation import csrf_of, receive, signed_in

DOMAIN = "plein.test"


@pytest.fixture
def engineering(context, data_dir):
    """Alice (member), Mona (moderator), Carol (no member) and a public Engineering group."""
    with context.session_scope() as session:
        people = {n: accounts.create_user(session, f"{n}@example.com", n.title()) for n in ("alice", "mona", "carol")}
        group = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, group, people["alice"])
        groups.add_member(session, group, people["mona"])
        moderation.set_moderator(session, group, people["mona"])
        post = posts.create_post(session, group, people["mona"], "Welkom", "Stel je voor.")
        return post.id


def moderated(context) -> None:
    with context.session_scope() as session:
        moderation.set_policy(session, groups.get_group(session, "engineering"), "moderated")


def mails_with_key(context, prefix: str) -> list:
    with context.session_scope() as session:
        return [
            (row.recipient, message_from_bytes(row.message, policy=policy.default))
            for row in session.query(OutgoingMail).filter(OutgoingMail.key.like(f"{prefix}%")).order_by(OutgoingMail.id)
        ]


def test_someone_who_is_not_a_member_is_asked_to_join_before_posting(context, engineering):
    carol = signed_in(context, "carol@example.com")
    page = carol.get("/g/engineering")
    assert "Only members post to Engineering. Join it to post and comment." in page.text
    assert 'action="/g/engineering/posts"' not in page.text and "Join Engineering" in page.text

    refused = carol.post("/g/engineering/posts", data={"csrf": csrf_of(page.text), "title": "Hoi", "body": "Mag ik?"})
    assert refused.status_code == 403
    assert "Only members post to Engineering. Join it to post and comment." in refused.text

    carol.post("/g/engineering/join", data={"csrf": csrf_of(page.text)})
    posted = carol.post("/g/engineering/posts", data={"csrf": csrf_of(page.text), "title": "Hoi", "body": "Nu wel."})
    assert posted.status_code == 200 and posted.url.path.startswith("/p/")
    with context.session_scope() as session:
        assert session.query(Post).filter_by(title="Hoi").one().author.email == "carol@example.com"


def test_someone_who_is_not_a_member_cannot_comment_but_reads_the_thread(context, engineering):
    carol = signed_in(context, "carol@example.com")
    page = carol.get(f"/p/{engineering}")
    assert page.status_code == 200 and "Stel je voor." in page.text
    assert "Only members of Engineering comment." in page.text and f'action="/p/{engineering}/comments"' not in page.text
    refused = carol.post(f"/p/{engineering}/comments", data={"csrf": csrf_of(page.text), "body": "Ik ook"})
    assert refused.status_code == 403 and "Only members post to Engineering." in refused.text
    with context.session_scope() as session:
        assert session.query(Comment).count() == 0


def test_a_group_open_to_anyone_takes_web_posts_from_everyone(context, engineering):
    with context.session_scope() as session:
        moderation.set_policy(session, groups.get_group(session, "engineering"), "anyone")
    carol = signed_in(context, "carol@example.com")
    page = carol.get("/g/engineering")
    posted = carol.post("/g/engineering/posts", data={"csrf": csrf_of(page.text), "title": "Vraag", "body": "Hallo"})
    assert posted.status_code == 200 and posted.url.path.startswith("/p/")


def test_a_post_without_title_or_text_is_refused_with_a_message_and_kept_in_the_form(context, engineering):
    alice = signed_in(context, "alice@example.com")
    csrf = csrf_of(alice.get("/g/engineering").text)
    untitled = alice.post("/g/engineering/posts", data={"csrf": csrf, "title": " ", "body": "Tekst zonder titel"})
    assert untitled.status_code == 400 and "Give your post a title." in untitled.text
    assert "Tekst zonder titel" in untitled.text
    empty = alice.post("/g/engineering/posts", data={"csrf": csrf, "title": "Leeg", "body": ""})
    assert empty.status_code == 400 and "Write a message or attach a file." in empty.text


def test_a_web_post_to_a_moderated_group_waits_with_its_attachment_until_a_moderator_approves(context, engineering):
    moderated(context)
    alice = signed_in(context, "alice@example.com")
    page = alice.get("/g/engineering")
    assert "Engineering is moderated: posts wait for a moderator" in page.text
    sent = alice.post(
        "/g/engineering/posts", data={"csrf": csrf_of(page.text), "title": "Nieuwe kantine", "body": "Open vanaf maandag."},
        files=[("files", ("menu.txt", b"soep\nbrood\n", "text/plain"))],
    )
    assert sent.status_code == 200
    assert "Your message waits for a moderator of Engineering: it appears here once approved." in sent.text
    with context.session_scope() as session:
        assert session.query(Post).filter_by(title="Nieuwe kantine").count() == 0
        held = session.query(HeldMessage).one()
        assert (held.sender.email, held.subject, held.text) == ("alice@example.com", "Nieuwe kantine", "Open vanaf maandag.")
        record = session.get(InboundMessage, held.inbound_id)
        assert record.status == InboundStatus.HELD and record.reason.startswith("written on the web; held for moderation")
        held_id = held.id
    assert [to for to, _ in mails_with_key(context, "moderation:")] == ["mona@example.com"]
    [(to, notice)] = mails_with_key(context, "held:")
    assert to == "alice@example.com" and notice["Subject"] == "[Engineering] Waiting for a moderator: Nieuwe kantine"

    mona = signed_in(context, "mona@example.com")
    queue = mona.get("/g/engineering/moderation")
    assert "Nieuwe kantine" in queue.text
    mona.post(f"/g/engineering/moderation/{held_id}/approve", data={"csrf": csrf_of(queue.text)})
    with context.session_scope() as session:
        post = session.query(Post).filter_by(title="Nieuwe kantine").one()
        assert (post.author.email, post.body_text) == ("alice@example.com", "Open vanaf maandag.")
        assert [(a.filename, a.size) for a in session.query(Attachment).filter_by(post_id=post.id)] == [("menu.txt", 11)]


def test_a_web_comment_in_a_moderated_group_waits_and_is_approved_by_mail_under_its_parent(context, engineering):
    with context.session_scope() as session:
        parent = posts.create_comment(session, session.get(Post, engineering), accounts.get_user(session, "mona@example.com"),
                                      "Wie doet de koffie?")
        parent_id = parent.id
    moderated(context)
    alice = signed_in(context, "alice@example.com")
    page = alice.get(f"/p/{engineering}?reply_to={parent_id}")
    sent = alice.post(f"/p/{engineering}/comments",
                      data={"csrf": csrf_of(page.text), "body": "Ik, op dinsdag.", "parent_id": str(parent_id)})
    assert sent.status_code == 200 and "waits for a moderator of Engineering" in sent.text
    with context.session_scope() as session:
        held = session.query(HeldMessage).one()
        assert (held.post_id, held.parent_id, held.text) == (engineering, parent_id, "Ik, op dinsdag.")
        assert session.query(Comment).count() == 1

    [(_, to_mona)] = mails_with_key(context, "moderation:")
    approve = to_mona["Reply-To"]
    with context.session_scope() as session:
        answer = f"From: mona@example.com\r\nTo: {approve}\r\nSubject: Re\r\n\r\nPrima\r\n".encode()
        assert receive(session, answer, approve).status == InboundStatus.COMMAND
    with context.session_scope() as session:
        comment = session.query(Comment).filter_by(author_id=accounts.get_user(session, "alice@example.com").id).one()
        assert (comment.post_id, comment.parent_id, comment.body_text) == (engineering, parent_id, "Ik, op dinsdag.")


def test_a_moderator_posts_to_a_moderated_group_at_once(context, engineering):
    moderated(context)
    mona = signed_in(context, "mona@example.com")
    posted = mona.post("/g/engineering/posts",
                       data={"csrf": csrf_of(mona.get("/g/engineering").text), "title": "Rooster", "body": "Zie bijlage"})
    assert posted.url.path.startswith("/p/")
    assert re.search(r"<h1[^>]*>Rooster", posted.text)
    with context.session_scope() as session:
        assert session.query(HeldMessage).count() == 0


def test_a_title_with_line_breaks_is_held_on_one_line(context, engineering):
    moderated(context)
    alice = signed_in(context, "alice@example.com")
    csrf = csrf_of(alice.get("/g/engineering").text)
    sent = alice.post("/g/engineering/posts", data={"csrf": csrf, "title": "Kantine\r\nBcc: x@evil.example", "body": "Open"})
    assert sent.status_code == 200 and "waits for a moderator" in sent.text
    with context.session_scope() as session:
        assert session.query(HeldMessage).one().subject == "Kantine Bcc: x@evil.example"


def test_a_held_web_comment_keeps_every_line_its_author_wrote_when_approved(context, engineering):
    moderated(context)
    text = "Eens.\n\nOp maandag schreef Mona:\n> Stel je voor.\n\nDat citaat hoort bij mijn antwoord."
    alice = signed_in(context, "alice@example.com")
    page = alice.get(f"/p/{engineering}")
    assert alice.post(f"/p/{engineering}/comments", data={"csrf": csrf_of(page.text), "body": text}).status_code == 200
    with context.session_scope() as session:
        held = session.query(HeldMessage).one()
        assert held.text == text, "the moderator reads what will be posted"
        moderation.approve(session, held, accounts.get_user(session, "mona@example.com"))
    with context.session_scope() as session:
        [comment] = session.query(Comment).filter_by(author_id=accounts.get_user(session, "alice@example.com").id)
        assert comment.body_text == text


def test_a_web_answer_to_a_comment_id_out_of_range_is_not_found_and_a_bad_one_refused(context, engineering):
    alice = signed_in(context, "alice@example.com")
    page = alice.get(f"/p/{engineering}")
    answer = {"csrf": csrf_of(page.text), "body": "Een antwoord."}

    assert alice.post(f"/p/{engineering}/comments", data=answer | {"parent_id": "9" * 30}).status_code == 404
    assert alice.post(f"/p/{engineering}/comments", data=answer | {"parent_id": "de eerste"}).status_code == 400
    with context.session_scope() as session:
        assert session.query(Comment).count() == 0
