"""`plein export`, the round trip into a fresh Plein, and imports from a real Maildir and a real Dovecot IMAP folder."""

from __future__ import annotations

import json
import mailbox
import shutil

import pytest
from click.testing import CliRunner
from imapclient import IMAPClient
from sqlalchemy import select

from hub.cli import main
from hub.models import Comment, Post
from hub.services import accounts, archive_export, groups, posts, reactions
from tests.hub.test_archive_import import counts
from tests.support.archives import messages_of, write_mbox
from tests.support.dovecot import PASSWORD
from tests.support.hub import hub_context


def plein(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def threads_of(context) -> dict:
    """Each thread as (title, author, date, files) of its post and (author, date, text, files) of its comments."""
    with context.session_scope() as session:
        found = {}
        for post in session.scalars(select(Post)):
            files = lambda item: sorted((a.filename, a.sha256) for a in post.attachments  # noqa: E731
                                        if a.comment_id == (item.id if isinstance(item, Comment) else None))
            found[post.message_id] = (
                post.title, post.author.email, post.created_at, files(post),
                sorted((c.message_id, c.author.email, c.created_at, c.body_text, files(c)) for c in post.comments),
            )
        return found


@pytest.fixture
def imported(context, tmp_path):
    with context.session_scope() as session:
        groups.create_group(session, "team", "Team")
    archive = write_mbox(tmp_path / "team.mbox", 400)
    assert plein("import", "mbox", archive.path, "--group", "team").exit_code == 0
    return context


def test_an_exported_group_imported_into_a_fresh_plein_has_the_same_threads_authors_dates_and_files(
    imported, tmp_path, monkeypatch,
):
    monkeypatch.setattr(archive_export, "EXPORT_BATCH", 7)  # many batches, as a large group has
    with imported.session_scope() as session:
        ann = accounts.create_user(session, "ann@example.com", "Ann")
        group = groups.get_group(session, "team")
        written = posts.create_post(session, group, ann, "Op het web geschreven", "Geen Message-ID")
        posts.create_comment(session, written, ann, "Een antwoord op het web")
    before = threads_of(imported)
    exported = tmp_path / "team-export.mbox"
    result = plein("export", "--group", "team", "--format", "mbox", exported)
    assert result.exit_code == 0, result.output
    assert sum(1 for _ in mailbox.mbox(exported)) == 402
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    shutil.copyfile(imported.settings.data_dir / "plein.db", fresh_dir / "plein.db")
    monkeypatch.setenv("PLEIN_DATA_DIR", str(fresh_dir))
    fresh = hub_context(fresh_dir)
    try:
        with fresh.session_scope() as session:
            for model in (Comment, Post):
                session.execute(model.__table__.delete())
        result = plein("import", "mbox", exported, "--group", "team")
        assert result.exit_code == 0, result.output
        after = threads_of(fresh)
    finally:
        fresh.close()
    web_id = next(key for key, value in before.items() if value[0] == "Op het web geschreven")
    after_web_id = next(key for key, value in after.items() if value[0] == "Op het web geschreven")
    # A mail's Date is to the second (RFC 5322 3.3): what was written on the web comes back without its microseconds.
    title, author, date, files, [(_, *comment)] = before.pop(web_id)
    *again, [(_, *comment_again)] = after.pop(after_web_id)
    comment[1] = comment[1].replace(microsecond=0)
    assert (again, comment_again) == ([title, author, date.replace(microsecond=0), files], comment)
    assert after == before


def test_json_export_and_export_all_hold_people_memberships_reactions_and_files(imported, tmp_path, monkeypatch):
    with imported.session_scope() as session:
        ann = accounts.create_user(session, "ann@example.com", "Ann")
        group = groups.get_group(session, "team")
        groups.add_member(session, group, ann)
        post = session.scalar(select(Post).where(Post.attachments.any()))
        reactions.react(session, ann, post, "like")
        post_id = post.message_id
    monkeypatch.setattr(archive_export, "EXPORT_BATCH", 7)
    result = plein("export", "--group", "team", "--format", "json", tmp_path / "team.json")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "team.json").read_text())
    liked = next(p for p in data["posts"] if p["message_id"] == post_id)
    assert liked["reactions"] == [{"person": "ann@example.com", "reaction": "like"}]
    assert liked["attachments"][0]["data_base64"]
    result = plein("export", "--all", tmp_path / "all")
    assert result.exit_code == 0, result.output
    people = json.loads((tmp_path / "all" / "people.json").read_text())
    assert {"ann@example.com", "person0@example.com"} <= {p["email"] for p in people}
    listed = json.loads((tmp_path / "all" / "groups.json").read_text())
    assert listed[0]["members"][0]["person"] == "ann@example.com"
    team = json.loads((tmp_path / "all" / "groups" / "team.json").read_text())
    sha = next(p for p in team["posts"] if p["message_id"] == post_id)["attachments"][0]["sha256"]
    assert (tmp_path / "all" / "attachments" / sha).exists()
    assert (tmp_path / "all" / "groups" / "team.mbox").stat().st_size > 0
    assert "either --group SLUG or --all" in plein("export", tmp_path / "x").output


def test_a_maildir_made_by_the_test_is_imported_threaded(context, tmp_path):
    with context.session_scope() as session:
        groups.create_group(session, "team", "Team")
    archive, messages = messages_of(120)
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for message in messages:
        folder.add(message)
    result = plein("import", "maildir", tmp_path / "Maildir", "--group", "team")
    assert result.exit_code == 0, result.output
    assert counts(context) == (archive.threads, 120 - archive.threads)


def test_a_dovecot_imap_folder_is_imported_and_left_as_it_was(context, dovecot):
    with context.session_scope() as session:
        groups.create_group(session, "team", "Team")
    archive, messages = messages_of(60)
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("plein", PASSWORD)
        client.create_folder("Lijst")
        for message in messages:
            client.append("Lijst", message.as_bytes())
    result = plein("import", "imap", dovecot.url(folder="Lijst"), "--group", "team")
    assert result.exit_code == 0, result.output
    assert counts(context) == (archive.threads, 60 - archive.threads)
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("plein", PASSWORD)
        client.select_folder("Lijst", readonly=True)
        assert len(client.search(["UNSEEN"])) == 60
    assert "Import 2: 0 imported" in plein("import", "imap", dovecot.url(folder="Lijst"), "--group", "team").stdout
