"""Posts and comments written on the web follow the group's posting policy, as mail does."""

from __future__ import annotations

import re
import threading
from email import message_from_bytes, policy

import pytest

from hub.db import upgrade_database
from hub.models import Attachment, Comment, HeldFile, HeldMessage, InboundMessage, InboundStatus, OutgoingMail, Post
from hub.services import accounts, attachments, groups, moderation, posts, submissions
from hub.services.submissions import Upload
from tests.hub.test_moderation import receive
from tests.support.hub import hub_context
from tests.support.web import csrf_of, signed_in

DOMAIN = "plein.test"


@pytest.fixture
def engineering(context, data_dir):
    return make_engineering(context)


def make_engineering(context) -> int:
    """Alice (member), Mona (moderator), Carol (no member) and a public Engineering group; Mona's post's id."""
    with context.session_scope() as session:
        people = {n: accounts.create_user(session, f"{n}@example.com", n.title()) for n in ("alice", "mona", "carol")}
        group = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, group, people["alice"])
        groups.add_member(session, group, people["mona"])
        moderation.set_moderator(session, group, people["mona"])
        post = posts.create_post(session, group, people["mona"], "Welkom", "Stel je voor.")
        return post.id


@pytest.fixture(params=["sqlite", "postgresql"])
def anywhere(request, data_dir):
    """The hub with `engineering`, on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        built = hub_context(data_dir)
    else:
        built = hub_context(data_dir, database_url=request.getfixturevalue("postgres").fresh_database("submissions"))
        upgrade_database(built.settings)
    make_engineering(built)
    yield built
    built.close()


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
    assert '<a href="mailto:engineering@plein.test">engineering@plein.test</a>' in page.text
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
        assert [(f.filename, f.content_type, f.size) for f in held.files] == [("menu.txt", "text/plain", 11)]
        assert held.inbound_id is None and session.query(InboundMessage).count() == 0, "no mail was written"
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
        assert (post.inbound_id, post.message_id, session.query(HeldFile).count()) == (None, None, 0)


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
        assert held.inbound_id is None and session.query(InboundMessage).count() == 0
        assert session.query(Comment).count() == 1

    [(_, to_mona)] = mails_with_key(context, "moderation:")
    approve = to_mona["Reply-To"]
    with context.session_scope() as session:
        answer = f"From: mona@example.com\r\nTo: {approve}\r\nSubject: Re\r\n\r\nPrima\r\n".encode()
        assert receive(session, answer, approve).status == InboundStatus.COMMAND
    with context.session_scope() as session:
        comment = session.query(Comment).filter_by(author_id=accounts.get_user(session, "alice@example.com").id).one()
        assert (comment.post_id, comment.parent_id, comment.body_text) == (engineering, parent_id, "Ik, op dinsdag.")
        assert (comment.inbound_id, comment.original_text) == (None, None), "a comment written on the web"
    [(to, receipt)] = mails_with_key(context, "receipt:comment:")
    assert to == "alice@example.com" and "Ik, op dinsdag." in receipt.get_body(preferencelist=("plain",)).get_content()


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


def upload(folder, name: str, data: bytes, content_type: str = "text/plain") -> Upload:
    """A file as `hub.web.uploads` leaves it: on disk under the data directory."""
    path = folder / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return Upload(name, content_type, path, len(data))


SIGNED = "Zie het rooster.\n\n> Wie doet de koffie?\nIk niet.\n\n-- \nAlice\nTeam Kantine"
"""Text that reply trimming would cut (a quote, a signature), as someone types it in the web form."""


def test_a_held_web_post_is_published_once_as_written_with_its_files(context, engineering, data_dir):
    moderated(context)
    with context.session_scope() as session:
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        files = [upload(data_dir, "rooster.csv", b"ma;di\n1;2\n", "text/csv"), upload(data_dir, "leeg.bin", b"", "")]
        held = submissions.submit_post(session, alice, group, "Rooster", SIGNED, files)
        held_id, kept = held.id, [(f.filename, f.content_type, f.size, f.sha256) for f in held.files]
    assert [name for name, *_ in kept] == ["rooster.csv", "leeg.bin"]
    assert all(attachments.blob_path(context.settings.attachments_dir, sha256).exists() for *_, sha256 in kept), "the files are in the store"
    assert not (data_dir / "uploads" / "rooster.csv").exists(), "moved, not copied"

    with context.session_scope() as session:
        mona = accounts.get_user(session, "mona@example.com")
        assert moderation.approve(session, session.get(HeldMessage, held_id), mona).startswith("approved by mona")
    with context.session_scope() as session:
        again = moderation.approve(session, session.get(HeldMessage, held_id), accounts.get_user(session, "mona@example.com"))
        assert "decided already" in again
        post = session.query(Post).filter_by(title="Rooster").one()
        assert post.body_text == SIGNED, "nothing trimmed"
        assert [(a.filename, a.content_type, a.size, a.sha256) for a in post.attachments] == [
            ("rooster.csv", "text/csv", 10, kept[0][3]), ("leeg.bin", "application/octet-stream", 0, kept[1][3]),
        ]
        assert session.query(HeldFile).count() == 0 and session.query(InboundMessage).count() == 0
    [(to, receipt)] = mails_with_key(context, "receipt:post:")
    assert to == "alice@example.com" and "rooster.csv" in receipt.get_body(preferencelist=("plain",)).get_content()


def test_a_held_web_comment_is_published_once_as_written(context, engineering):
    moderated(context)
    with context.session_scope() as session:
        post = session.get(Post, engineering)
        held = submissions.submit_comment(session, accounts.get_user(session, "alice@example.com"), post, SIGNED)
        assert isinstance(held, HeldMessage) and held.text == SIGNED
        mona = accounts.get_user(session, "mona@example.com")
        moderation.approve(session, held, mona)
        moderation.approve(session, held, mona)
        [comment] = post.comments
        assert (comment.body_text, comment.author.email, comment.inbound_id) == (SIGNED, "alice@example.com", None)


def test_rejecting_a_held_web_post_leaves_no_post_no_file_and_no_mail_record(context, engineering, data_dir):
    moderated(context)
    with context.session_scope() as session:
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        files = [upload(data_dir, "reclame.pdf", b"%PDF-1.4 koop nu", "application/pdf")]
        held = submissions.submit_post(session, alice, group, "Koop nu", "Korting!", files)
        held_id, sha256 = held.id, held.files[0].sha256
    with context.session_scope() as session:
        mona = accounts.get_user(session, "mona@example.com")
        outcome = moderation.reject(session, session.get(HeldMessage, held_id), mona)
        assert outcome == "rejected by mona@example.com, a moderator of engineering"
        assert "decided already" in moderation.approve(session, session.get(HeldMessage, held_id), mona)
    with context.session_scope() as session:
        assert attachments.sweep(session, [sha256]) == [sha256], "its file goes once the rejection committed"
        assert session.query(Post).filter_by(title="Koop nu").count() == 0
        assert session.query(HeldFile).count() == 0 and session.query(Attachment).count() == 0
        assert session.query(InboundMessage).count() == 0
        assert session.get(HeldMessage, held_id).status == "rejected", "the decision is on record"
    assert not attachments.blob_path(context.settings.attachments_dir, sha256).exists()
    assert mails_with_key(context, "receipt:") == []


def test_a_file_both_held_and_attached_stays_while_either_names_it(context, engineering, data_dir):
    moderated(context)
    with context.session_scope() as session:
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        held = submissions.submit_post(session, alice, group, "Menu", "Zie bijlage", [upload(data_dir, "menu.txt", b"soep")])
        sha256 = held.files[0].sha256
        attached = posts.create_post(session, group, accounts.get_user(session, "mona@example.com"), "Menu ook", "x")
        attachments.attach(session, attached, "menu.txt", "text/plain", b"soep")
    with context.session_scope() as session:
        mona = accounts.get_user(session, "mona@example.com")
        posts.delete_post(session, session.query(Post).filter_by(title="Menu ook").one(), mona)
    with context.session_scope() as session:
        assert attachments.sweep(session, [sha256]) == [], "the held post still names it"
    assert attachments.blob_path(context.settings.attachments_dir, sha256).exists()


def test_the_queue_shows_a_held_web_post_with_its_files_and_no_mail_to_open(context, engineering, data_dir):
    moderated(context)
    with context.session_scope() as session:
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        held_id = submissions.submit_post(session, alice, group, "Menu", "Zie <b>bijlage</b>",
                                          [upload(data_dir, "menu.txt", b"soep" * 512)]).id
    mona = signed_in(context, "mona@example.com")
    queue = mona.get("/g/engineering/moderation")
    card = queue.text.split(f'id="held-{held_id}"', 1)[1]
    assert "Zie &lt;b&gt;bijlage&lt;/b&gt;" in card and "menu.txt" in card and "text/plain · 2.0 kB" in card
    assert "Original message" not in card
    original = mona.get(f"/g/engineering/moderation/{held_id}/original")
    assert original.status_code == 404 and "was written on the web" in original.text


def in_a_transaction_of_its_own(context, work) -> tuple[threading.Thread, list]:
    """Start `work(session)` in another thread and transaction; the thread and, once it ends, its result."""
    result: list = []

    def run() -> None:
        with context.session_scope() as session:
            result.append(work(session))

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_two_moderators_approving_a_held_web_post_at_once_post_it_once(anywhere, data_dir):
    moderated(anywhere)
    with anywhere.session_scope() as session:
        accounts.set_admin(session, accounts.get_user(session, "carol@example.com"))  # a second moderator
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        held_id = submissions.submit_post(session, alice, group, "Menu", "Soep", [upload(data_dir, "menu.txt", b"x")]).id

    with anywhere.session_scope() as session:
        moderation.approve(session, session.get(HeldMessage, held_id), accounts.get_user(session, "mona@example.com"))
        carol, outcome = in_a_transaction_of_its_own(anywhere, lambda other: moderation.approve(
            other, other.get(HeldMessage, held_id), accounts.get_user(other, "carol@example.com"),
        ))
        carol.join(timeout=1)
        assert carol.is_alive(), "the second decision waits for the first"
    carol.join(timeout=30)

    assert "decided already: approved by mona@example.com" in outcome[0]
    with anywhere.session_scope() as session:
        assert session.query(Post).filter_by(title="Menu").count() == 1
        assert session.query(Attachment).count() == 1


def test_the_sweep_waits_for_a_web_post_being_held_with_the_same_file_and_keeps_it(anywhere, data_dir):
    moderated(anywhere)
    with anywhere.session_scope() as session:
        mona = accounts.get_user(session, "mona@example.com")
        gone = posts.create_post(session, groups.get_group(session, "engineering"), mona, "Oud menu", "x")
        sha256 = attachments.attach(session, gone, "menu.txt", "text/plain", b"soep").sha256
        posts.delete_post(session, gone, mona)

    with anywhere.session_scope() as session:
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        held = submissions.submit_post(session, alice, group, "Menu", "x", [upload(data_dir, "menu.txt", b"soep")])
        assert held.files[0].sha256 == sha256, "the file found in the store still"
        sweeper, swept = in_a_transaction_of_its_own(anywhere, lambda other: attachments.sweep(other, [sha256]))
        sweeper.join(timeout=1)
        assert sweeper.is_alive(), "the sweep waits for the held post's transaction"
    sweeper.join(timeout=30)

    assert swept == [[]] and attachments.blob_path(anywhere.settings.attachments_dir, sha256).exists()
