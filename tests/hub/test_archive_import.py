"""`plein import`: old group mail in through click on a real database, threaded, deduplicated, private, undoable."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hub.cli import main
from hub.db import upgrade_database
from hub.models import ArchiveImport, Attachment, Comment, IndexPending, Notification, OutgoingMail, Post, User
from hub.services import accounts, archive_import, digests, groups, index_writer
from hub.services.searching import search
from mailgateway.archives import read_mbox
from tests.support.archives import mbox_entry, write_mbox
from tests.support.hub import hub_context
from tests.support.web import signed_in

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
WHEN = datetime(2020, 5, 4, 10, 0, tzinfo=UTC)


def plein(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def mail(message_id: str | None, subject: str, sender: str, text: str, *, at: datetime = WHEN,
         answers: list[str] = (), date: bool = True) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "team@lists.example"
    message["Subject"] = subject
    if date:
        message["Date"] = format_datetime(at)
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    if answers:
        message["In-Reply-To"] = f"<{answers[-1]}>"
        message["References"] = " ".join(f"<{a}>" for a in answers)
    message.set_content(text)
    return message


def mbox(tmp_path: Path, *messages: EmailMessage | bytes, name: str = "archive.mbox") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(m if isinstance(m, bytes) else mbox_entry(m) for m in messages))
    return path


@pytest.fixture
def team(context):
    with context.session_scope() as session:
        ann = accounts.create_user(session, "ann@example.com", "Ann Member")
        accounts.create_user(session, "olga@example.com", "Olga Outsider")
        group = groups.create_group(session, "team", "Team")
        groups.add_member(session, group, ann)
        secret = groups.create_group(session, "secret", "Secret", private=True)
        groups.add_member(session, secret, ann)
    return context


def counts(context) -> tuple[int, int]:
    with context.session_scope() as session:
        return session.scalar(select(func.count(Post.id))), session.scalar(select(func.count(Comment.id)))


def test_an_mbox_becomes_posts_and_comments_with_their_dates_authors_and_files_and_nobody_is_told(team, tmp_path):
    question = mail("q@x", "[team] Storing in Utrecht", "Ann Member <ann@example.com>", "Wie kijkt mee?")
    question.add_attachment(b"log lines", maintype="text", subtype="plain", filename="storing.log")
    answer = mail("a@x", "Re: [team] Storing in Utrecht", "Bert Buiten <bert@partner.example>",
                  "Ik kijk.\n\nOn Monday Ann wrote:\n> Wie kijkt mee?", at=WHEN + timedelta(hours=2), answers=["q@x"])
    result = plein("import", "mbox", mbox(tmp_path, question, answer), "--group", "team")
    assert result.exit_code == 0, result.output
    assert "2 imported (1 threaded into a conversation), 0 duplicates skipped, 0 refused, 1 external authors" in result.stdout
    with team.session_scope() as session:
        post = session.scalar(select(Post))
        assert (post.title, post.author.email, post.created_at, post.message_id) == (
            "[team] Storing in Utrecht", "ann@example.com", WHEN, "q@x")
        assert [a.filename for a in post.attachments] == ["storing.log"]
        [comment] = post.comments
        assert (comment.body_text, comment.created_at, comment.author.name) == ("Ik kijk.", WHEN + timedelta(hours=2), "Bert Buiten")
        bert = comment.author
        assert bert.external and bert.deactivated_at is not None and not accounts.is_active(bert)
        assert post.import_id == comment.import_id == session.scalar(select(ArchiveImport.id))
        assert session.scalar(select(func.count(OutgoingMail.id))) == 0
        assert session.scalar(select(func.count(Notification.id))) == 0
        groups.add_member(session, groups.get_group(session, "team"),
                          accounts.get_user(session, "olga@example.com"), "daily")
    with team.session_scope() as session:
        assert digests.send_digests(session, "daily") == []


def test_a_reply_before_its_parent_is_moved_under_it_and_subject_replies_within_30_days_thread(team, tmp_path):
    early_reply = mail("r@x", "Re: Planning", "ann@example.com", "Antwoord", at=WHEN, answers=["p@x"])
    parent = mail("p@x", "Planning", "ann@example.com", "Vraag", at=WHEN - timedelta(hours=1))
    by_subject = mail("s@x", "AW: [team] Planning", "ann@example.com", "Ook", at=WHEN + timedelta(days=3))
    too_late = mail("l@x", "Antw: Planning", "ann@example.com", "Veel later", at=WHEN + timedelta(days=45))
    result = plein("import", "mbox", mbox(tmp_path, early_reply, parent, by_subject, too_late), "--group", "team")
    assert result.exit_code == 0, result.output
    with team.session_scope() as session:
        posts = {p.message_id: p for p in session.scalars(select(Post))}
        assert set(posts) == {"p@x", "l@x"}
        assert sorted(c.message_id for c in posts["p@x"].comments) == ["r@x", "s@x"]
        moved = next(c for c in posts["p@x"].comments if c.message_id == "r@x")
        assert (moved.body_text, moved.created_at) == ("Antwoord", WHEN)


def test_running_the_same_import_twice_adds_nothing_also_without_message_ids(team, tmp_path):
    archive = mbox(tmp_path, mail("one@x", "Eén", "ann@example.com", "Een"),
                   mail(None, "Zonder id", "ann@example.com", "Geen Message-ID"))
    assert plein("import", "mbox", archive, "--group", "team").exit_code == 0
    again = plein("import", "mbox", archive, "--group", "team")
    assert "0 imported (0 threaded into a conversation), 2 duplicates skipped" in again.stdout
    assert counts(team) == (2, 0)


def test_dry_run_reports_what_would_happen_and_changes_nothing(team, tmp_path):
    files_only = mail("files@x", "Alleen een bijlage", "ann@example.com", "")
    files_only.add_attachment(b"%PDF-1.4 plan", maintype="application", subtype="pdf", filename="plan.pdf")
    archive = mbox(tmp_path, mail("one@x", "Eén", "ann@example.com", "Een"),
                   mail("two@x", "Re: Eén", "new@partner.example", "Twee", answers=["one@x"]), files_only)
    store = team.settings.attachments_dir
    before = sorted(store.rglob("*")) if store.exists() else []
    result = plein("import", "mbox", archive, "--group", "team", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would import 3 imported (1 threaded into a conversation)" in result.stdout
    assert counts(team) == (0, 0)
    assert [path for path in (sorted(store.rglob("*")) if store.exists() else []) if path.is_file()] == [
        path for path in before if path.is_file()]
    with team.session_scope() as session:
        assert session.scalar(select(func.count(ArchiveImport.id))) == 0
        assert accounts.find_user(session, "new@partner.example") is None
    assert ": 3 imported (1 threaded" in plein("import", "mbox", archive, "--group", "team").stdout


def test_imports_are_listed_and_one_is_undone_as_a_whole(team, tmp_path):
    first = mbox(tmp_path, mail("one@x", "Eén", "ann@example.com", "Een"), name="first.mbox")
    second = mbox(tmp_path, mail("two@x", "Re: Eén", "gast@old.example", "Twee", answers=["one@x"]),
                  mail("three@x", "Drie", "ann@example.com", "Drie"), name="second.mbox")
    assert plein("import", "mbox", first, "--group", "team").exit_code == 0
    assert plein("import", "mbox", second, "--group", "team").exit_code == 0
    listed = plein("import", "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["2", "team"], ["1", "team"]]
    assert "2 imported, 1 threaded, 0 duplicates, 0 refused\tdone" in listed[0]
    result = plein("import", "undo", "2")
    assert result.exit_code == 0, result.output
    assert counts(team) == (1, 0)
    with team.session_scope() as session:
        assert accounts.find_user(session, "gast@old.example") is None
    assert "undone" in plein("import", "list").stdout.splitlines()[0]
    assert "undone already" in plein("import", "undo", "2").output
    assert "no import 9" in plein("import", "undo", "9").output
    assert plein("import", "mbox", second, "--group", "team").exit_code == 0
    assert counts(team) == (2, 1)


def test_bad_input_is_reported_with_its_place_and_the_rest_goes_on(team, tmp_path, monkeypatch):
    good = mail("good@x", "Goed", "ann@example.com", "Goed")
    no_date = mail("nodate@x", "Geen datum", "ann@example.com", "Zonder datum", date=False)
    bad_charset = (b"From a@b Mon Jan  1 00:00:00 2020\nFrom: ann@example.com\nSubject: Tekens\n"
                   b"Date: Mon, 4 May 2020 10:00:00 +0000\nMessage-ID: <cs@x>\n"
                   b"Content-Type: text/plain; charset=x-no-such-charset\n\n\xff\xfe kapotte tekens\n\n")
    broken_mime = (b"From a@b Mon Jan  1 00:00:00 2020\nFrom: ann@example.com\nSubject: Kapot\n"
                   b"Date: Mon, 4 May 2020 11:00:00 +0000\nMessage-ID: <mime@x>\nMIME-Version: 1.0\n"
                   b"Content-Type: multipart/mixed; boundary=\"nooit\"\n\ngeen enkele grens\n\n")
    big = mail("big@x", "Groot", "ann@example.com", "x" * 200)
    big.add_attachment(os.urandom(3 * 1024 * 1024), maintype="application", subtype="octet-stream", filename="big.bin")
    truncated = mbox_entry(mail("cut@x", "Afgebroken", "ann@example.com", "Dit bericht houdt op"))[:-30]
    archive = mbox(tmp_path, good, no_date, bad_charset, broken_mime, big, truncated)
    monkeypatch.setenv("PLEIN_MAX_MESSAGE_SIZE", str(2 * 1024 * 1024))
    result = plein("import", "mbox", archive, "--group", "team")
    assert result.exit_code == 1, result.output
    refused = [line.split("\t") for line in result.stdout.splitlines() if line.startswith("refused")]
    positions = [int(where.removeprefix("byte ")) for _, where, _ in refused]
    data = archive.read_bytes()
    assert [data[p:p + 5] for p in positions] == [b"From "] * 3
    reasons = [why for *_, why in refused]
    assert reasons[0] == "no date"
    assert "bytes, more than the 2097152 bytes a message may have" in reasons[1]
    assert "truncated" in reasons[2]
    with team.session_scope() as session:
        assert set(session.scalars(select(Post.message_id))) == {"good@x", "cs@x", "mime@x"}
        assert "kapotte tekens" in session.scalar(select(Post.body_text).where(Post.message_id == "cs@x"))
        assert session.scalar(select(func.count(Attachment.id))) == 0


def test_an_archive_that_is_no_mbox_is_refused_at_its_first_byte(team, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Dit is geen mbox\n")
    result = plein("import", "mbox", path, "--group", "team")
    assert result.exit_code == 1
    assert "refused\tbyte 0\tthis is not an mbox file" in result.stdout


def test_a_private_groups_archive_is_found_and_listed_by_its_members_only(team, tmp_path):
    archive = mbox(tmp_path, mail("geheim@x", "Reorganisatie", "ann@example.com", "Vertrouwelijk zeppelinplan"),
                   mail("g2@x", "Re: Reorganisatie", "extern@partner.example", "Zeppelinplan akkoord",
                        answers=["geheim@x"]))
    assert plein("import", "mbox", archive, "--group", "secret").exit_code == 0
    with team.session_scope() as session:
        pending = session.scalar(select(func.count(IndexPending.item_id)))
        assert pending >= 1  # marked for the index in the import's own transactions
    index_writer.flush(team)
    with team.session_scope() as session:
        ann, olga = accounts.get_user(session, "ann@example.com"), accounts.get_user(session, "olga@example.com")
        assert {found.hit.title for found in search(session, ann, "zeppelinplan").results} >= {"Reorganisatie"}
        assert search(session, olga, "zeppelinplan").total == 0
        assert search(session, olga, "Reorganisatie").total == 0
        assert search(session, olga, "extern").total == 0
        assert not groups.can_see(session, olga, groups.get_group(session, "secret"))
        olga_token = accounts.create_api_token(session, olga)
    outsider = signed_in(team, "olga@example.com")
    assert outsider.get("/people/extern@partner.example").status_code == 404
    assert outsider.get("/g/secret").status_code == 404
    answer = outsider.get("/api/people/extern@partner.example", headers={"Authorization": f"Bearer {olga_token}"})
    assert answer.status_code == 404 and "extern" in answer.json()["detail"]
    assert outsider.get("/people/olga@example.com").status_code == 200  # the check is for external authors only
    member = signed_in(team, "ann@example.com")
    assert "Zeppelinplan akkoord" in member.get("/people/extern@partner.example").text


def test_an_external_author_is_merged_into_a_person_later(team, tmp_path):
    archive = mbox(tmp_path, mail("e@x", "Van buiten", "Eva Extern <eva@old.example>", "Hallo"))
    assert plein("import", "mbox", archive, "--group", "team").exit_code == 0
    assert "not a person to merge into" in plein("people", "merge-external", "eva@old.example", "eva@old.example").output
    assert "is a person, not an external author" in plein("people", "merge-external", "ann@example.com", "olga@example.com").output
    assert plein("user", "add", "eva@example.com", "--name", "Eva").exit_code == 0
    result = plein("people", "merge-external", "eva@old.example", "eva@example.com")
    assert result.exit_code == 0, result.output
    with team.session_scope() as session:
        assert session.scalar(select(Post)).author.email == "eva@example.com"
        assert accounts.find_user(session, "eva@old.example") is None


def test_a_generated_archive_of_ten_thousand_messages_is_threaded_as_written(team, tmp_path):
    archive = write_mbox(tmp_path / "big.mbox", 10_000)
    result = plein("import", "mbox", archive.path, "--group", "team")
    assert result.exit_code == 0, result.output
    assert f"Import 1: 10000 imported ({10_000 - archive.threads} threaded" in result.stdout
    with team.session_scope() as session:
        roots = dict(session.execute(select(Post.id, Post.message_id)).all())
        assert len(roots) == archive.threads
        for message_id, post_id in session.execute(select(Comment.message_id, Comment.post_id)):
            assert archive.thread_of[message_id] == roots[post_id]
    assert archive.replies_before_parent > 0 and archive.replies_by_subject > 0


def test_the_mbox_files_of_the_corpus_are_read_message_by_message(team):
    found = sorted(CORPUS.glob("*/*.mbox"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no mbox files under {CORPUS}")
        pytest.skip(f"no mbox files under {CORPUS}")
    outputs = {}
    for path in found:
        result = plein("import", "mbox", path, "--group", "team")
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert " imported (" in result.stdout, result.output
        outputs[path.name] = result.stdout
    if "mailbox_01.mbox" in outputs:
        # "From time to time" in its body follows a blank line but is no From line: one message, not two.
        # It has no Date header and a From without an address, so it is refused, at its place, for that.
        assert outputs["mailbox_01.mbox"].splitlines() == [
            "refused\tbyte 0\tno date",
            next(line for line in outputs["mailbox_01.mbox"].splitlines() if line.startswith("Import")),
        ]
        assert "0 imported (0 threaded into a conversation), 0 duplicates skipped, 1 refused" in outputs["mailbox_01.mbox"]


def test_import_and_undo_on_postgresql(postgres, data_dir, tmp_path, monkeypatch):
    url = postgres.fresh_database("archive_import")
    monkeypatch.setenv("PLEIN_DATABASE_URL", url)
    built = hub_context(data_dir, database_url=url)
    upgrade_database(built.settings)
    try:
        with built.session_scope() as session:
            groups.create_group(session, "team", "Team")
        archive = write_mbox(tmp_path / "pg.mbox", 300)
        result = plein("import", "mbox", archive.path, "--group", "team")
        assert result.exit_code == 0, result.output
        assert counts(built) == (archive.threads, 300 - archive.threads)
        again = plein("import", "mbox", archive.path, "--group", "team")
        assert "300 duplicates skipped" in again.stdout
        with built.session_scope() as session:
            assert session.scalar(select(func.count(User.id)).where(User.external)) == 40
        assert plein("import", "undo", "1").exit_code == 0
        assert counts(built) == (0, 0)
        with built.session_scope() as session:
            assert session.scalar(select(func.count(User.id)).where(User.external)) == 0  # they wrote nothing left
    finally:
        built.close()


def test_an_empty_reply_takes_its_new_external_author_along_and_the_next_message_of_theirs_still_comes_in(
    team, tmp_path,
):
    question = mail("q@x", "Vraag", "ann@example.com", "Wie weet het?")
    only_quote = mail("quote@x", "Re: Vraag", "nieuw@partner.example", "\n", answers=["q@x"])
    answer = mail("answer@x", "Re: Vraag", "nieuw@partner.example", "Ik weet het.", answers=["q@x"])
    result = plein("import", "mbox", mbox(tmp_path, question, only_quote, answer), "--group", "team")
    assert result.exit_code == 1, result.output
    [refused] = [line.split("\t") for line in result.stdout.splitlines() if line.startswith("refused")]
    assert refused[2].startswith("not imported: the reply to post")
    with team.session_scope() as session:
        [comment] = session.scalar(select(Post)).comments
        assert (comment.body_text, comment.author.email, comment.author.external) == (
            "Ik weet het.", "nieuw@partner.example", True)


def test_during_a_private_import_what_is_committed_is_found_by_members_only(team, tmp_path):
    archive = write_mbox(tmp_path / "secret.mbox", 260)
    seen: dict[str, int] = {}

    def look(read_up_to: int, count: int) -> None:
        if count == archive_import.BATCH + 1:  # the first batch is committed, the import goes on
            index_writer.flush(team)
            with team.session_scope() as session:
                for email in ("ann@example.com", "olga@example.com"):
                    seen[email] = search(session, accounts.get_user(session, email), "glasvezel").total

    report = archive_import.import_archive(
        team, "secret", "mbox", str(archive.path), read_mbox(archive.path, 10**7), progress=look,
    )
    assert report.imported == 260
    assert seen["ann@example.com"] > 0 and seen["olga@example.com"] == 0
