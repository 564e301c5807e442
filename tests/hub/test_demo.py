"""The demo company: every feature of Plein shows in it, made the real way, and privacy holds in it too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub import jobs
from hub.context import build_context
from hub.db import upgrade_database
from hub.models import Attachment, Comment, Group, InboundStatus, OutgoingMail, Post
from hub.services import accounts, demo, digests, groups, inbound, index_writer, moderation, notifications, searching
from hub.settings import Settings


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The module's own hub: its tests only read the demo seeded in it."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo") / "data", index_commit_interval=0)
    upgrade_database(settings)
    built = build_context(settings)
    yield built
    built.close()


@pytest.fixture(scope="module")
def company(context):
    """One seeded demo, indexed."""
    with context.session_scope() as session:
        assert demo.seed_demo(session) is True
        queued = jobs.queued(session)
    index_writer.flush(context)
    with context.session_scope() as session:
        unread = session.scalars(select(Attachment.id).where(Attachment.extracted_text.is_(None))).all()
    index_writer.read_documents(context, unread)  # the extraction lane's part
    index_writer.flush(context)
    return queued


def person(session, name: str):
    return accounts.get_user(session, f"{name}@plein.localhost")


def found(session, viewer: str, query: str, kind: str | None = None):
    return searching.search(session, person(session, viewer), query, kind=kind).results


def test_seeding_twice_seeds_once(context, company):
    with context.session_scope() as session:
        assert demo.seed_demo(session) is False
        assert session.query(Group).count() == 4


def test_everyone_to_sign_in_as_has_a_full_profile_and_a_role(context, company):
    with context.session_scope() as session:
        for shown in demo.PEOPLE:
            user = accounts.get_user(session, shown.email)
            assert user.name == shown.name and shown.role
            assert user.department and user.job_title and user.bio and user.expertise
        assert {p.email for p in demo.PEOPLE} >= {f"{n}@plein.localhost" for n in ("anna", "bram", "chloe", "daan")}
        assert [p.email for p in demo.PEOPLE if accounts.get_user(session, p.email).is_admin] == ["anna@plein.localhost"]


def test_people_search_finds_colleagues_by_their_expertise(context, company):
    with context.session_scope() as session:
        assert [f.hit.author_email for f in found(session, "anna", "OTDR", kind="person")][:1] == ["bram@plein.localhost"]
        assert "tom@plein.localhost" in [f.hit.author_email for f in found(session, "chloe", "KLIC", kind="person")]


def test_the_moderated_news_group_has_a_mail_waiting_for_its_moderator(context, company):
    with context.session_scope() as session:
        news = groups.get_group(session, "news")
        assert news.posting_policy == "moderated"
        assert moderation.is_moderator(session, person(session, "sanne"), news)
        [held] = moderation.held_messages(session, person(session, "sanne"), news)
        assert held.sender.email == "bram@plein.localhost"
        assert held.subject.startswith("Hoograven is live") and "420 huishoudens" in held.text
        assert held.reason == "News is moderated"
        assert held.inbound.status == InboundStatus.HELD


def test_pdf_docx_text_and_image_attachments_are_there_and_the_documents_are_searchable(context, company):
    with context.session_scope() as session:
        types = {a.content_type.split(";")[0] for a in session.query(Attachment)}
        assert types >= {
            "application/pdf", "text/plain", "image/png",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
        for word, filename in (
            ("lasverlies", "otdr-meetrapport-hgv12.pdf"),
            ("buigradius", "glasvezel-veldhandleiding.docx"),
            ("gasp", "olt-utrecht-oost-alarms.txt"),
        ):
            assert filename in [f.hit.title for f in found(session, "tom", word, kind="document")], word


def test_the_mailed_photo_shows_inline_in_its_post(context, company):
    with context.session_scope() as session:
        post = session.query(Post).filter(Post.title.like("Nieuwe ONT%")).one()
        [photo] = post.attachments
        assert photo.content_type == "image/png" and photo.content_id
        assert f"/attachments/{photo.id}/" in post.body_html
        assert post.inbound_id is not None


def test_a_reply_came_by_mail_trimmed_and_with_its_original(context, company):
    with context.session_scope() as session:
        [mailed] = session.query(Comment).filter(Comment.inbound_id.isnot(None)).all()
        assert mailed.author.email == "bram@plein.localhost"
        assert mailed.parent is not None and mailed.parent.author.email == "chloe@plein.localhost"
        assert mailed.body_text.startswith("Klopt, het was las 4")
        assert "schreef" not in mailed.body_text and "Verzonden vanaf" not in mailed.body_text
        assert "> The trace shows" in mailed.original_text


def test_members_on_daily_and_weekly_delivery_have_a_digest_waiting(context, company):
    with context.session_scope() as session:
        daily = digests.preview_digest(session, person(session, "chloe"), "daily")
        weekly = digests.preview_digest(session, person(session, "daan"), "weekly")
        assert daily is not None and "Houten" in daily.text and "Welkom Tom" in daily.text
        assert weekly is not None and "Houten" in weekly.text


def test_the_admin_finds_the_strangers_mail_refused_on_record(context, company):
    with context.session_scope() as session:
        refused = inbound.list_inbound(session, InboundStatus.REFUSED)
        assert [m.envelope_from for m in refused] == ["verkoop@kabelgroothandel.example"]
        assert "not a user of this hub" in refused[0].reason


def test_a_non_member_sees_nothing_of_the_private_board(context, company):
    with context.session_scope() as session:
        bram = person(session, "bram")
        board = groups.get_group(session, "board")
        assert "board" not in {g.slug for g in groups.visible_groups(session, bram)}
        for query in ("investeringsplan", "Q3-cijfers", "aandeelhoudersvergadering"):
            assert not [f for f in found(session, "bram", query) if f.hit.group_id == board.id], query
            assert [f for f in found(session, "anna", query) if f.hit.group_id == board.id], query
        assert "q3-cijfers-concept.pdf" in [f.hit.title for f in found(session, "anna", "investeringsplan", "document")]


def test_someone_who_is_no_member_asked_the_helpdesk_by_mail_and_is_answered(context, company):
    with context.session_scope() as session:
        helpdesk, tom = groups.get_group(session, "helpdesk"), person(session, "tom")
        assert helpdesk.posting_policy == "anyone" and groups.find_membership(session, helpdesk, tom) is None
        question = session.query(Post).filter_by(group_id=helpdesk.id).one()
        assert question.author == tom and question.inbound_id is not None
        assert [c.author.email for c in question.comments] == ["chloe@plein.localhost"]


def test_history_is_seeded_without_its_mail_and_what_came_in_now_is_mailed(context, company):
    queued = company
    history_notices = [args for name, args in queued if name == notifications.NOTIFY_POST]
    assert history_notices == []
    with context.session_scope() as session:
        keys = [row.key for row in session.query(OutgoingMail)]
    assert any(key.startswith("receipt:comment:") for key in keys)
    assert any(key.startswith("held:") for key in keys)
    assert not any(key.startswith("post:1:") for key in keys)
