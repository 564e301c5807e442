from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from hub.models import OutgoingMail
from hub.services import accounts, digests, groups, inbound, message_ids, notifications, posts, signing, subscriptions


def make_company(session):
    writer = accounts.create_user(session, "writer@example.com", "Wendy Writer")
    reader = accounts.create_user(session, "reader@example.com", "Rick Reader")
    engineering = groups.create_group(session, "engineering", "Engineering")
    social = groups.create_group(session, "social", "Social")
    groups.add_member(session, engineering, reader, "daily")
    groups.add_member(session, social, reader, "weekly")
    return writer, reader, engineering, social


def digest_mails(session, recipient):
    rows = session.query(OutgoingMail).filter_by(recipient=recipient).order_by(OutgoingMail.id).all()
    return [message_from_bytes(row.message, policy=policy.default) for row in rows if row.key.startswith("digest:")]


def test_digest_covers_only_groups_on_that_frequency_and_never_repeats_an_item(session):
    writer, reader, engineering, social = make_company(session)
    first = posts.create_post(session, engineering, writer, "Kabelbreuk in Zwolle", "Het was een graafmachine.")
    posts.create_post(session, social, writer, "Borrel vrijdag", "Om vijf uur.")
    posts.create_comment(session, first, writer, "Gerepareerd.")

    assert len(digests.send_digests(session, "daily")) == 1
    [digest] = digest_mails(session, "reader@example.com")
    assert digest["Subject"] == "Plein: 1 new post and 1 new comment in Engineering"
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert "Kabelbreuk in Zwolle" in text and "Gerepareerd." in text
    assert "Borrel vrijdag" not in text

    assert digests.send_digests(session, "daily") == []

    posts.create_post(session, engineering, writer, "Nieuwe laswagen", "Staat in Apeldoorn.")
    assert len(digests.send_digests(session, "daily")) == 1
    newest = digest_mails(session, "reader@example.com")[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Nieuwe laswagen" in newest
    assert "Kabelbreuk in Zwolle" not in newest


def test_no_digest_for_only_your_own_posts(session):
    writer, reader, engineering, _ = make_company(session)
    posts.create_post(session, engineering, reader, "Mijn eigen vraag", "Tekst")
    assert digests.send_digests(session, "daily") == []


def test_weekly_digest_subject_names_a_few_groups_and_counts_the_rest(session):
    writer, reader, _, social = make_company(session)
    names = ["Alpha", "Bravo", "Charlie", "Delta"]
    for name in names:
        group = groups.create_group(session, name.lower(), name)
        groups.add_member(session, group, reader, "weekly")
        posts.create_post(session, group, writer, f"Nieuws uit {name}", "Tekst")
    digests.send_digests(session, "weekly")
    [digest] = digest_mails(session, "reader@example.com")
    assert digest["Subject"] == "Plein: 4 new posts in Alpha, Bravo, Charlie and 1 more"


def digest_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_scheduled_daily_digest_waits_for_the_users_own_hour_in_their_time_zone(session):
    writer, reader, engineering, _ = make_company(session)
    reader.timezone, reader.digest_hour = "America/New_York", 7
    posts.create_post(session, engineering, writer, "Storing in Utrecht", "Tekst")

    before = datetime(2026, 11, 25, 11, 59, tzinfo=UTC)  # 06:59 in New York
    assert digests.queue_due_digests(session, before).queued == []
    at_seven = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert len(digests.queue_due_digests(session, at_seven).queued) == 1
    assert digests.queue_due_digests(session, at_seven + timedelta(hours=1)).queued == []

    posts.create_post(session, engineering, writer, "Nog een storing", "Tekst")
    assert digests.queue_due_digests(session, at_seven + timedelta(hours=5)).queued == [], "one per day"
    next_day = at_seven + timedelta(days=1)
    assert len(digests.queue_due_digests(session, next_day).queued) == 1
    assert "Nog een storing" in digest_text(digest_mails(session, "reader@example.com")[-1])


def test_a_digest_run_repeated_in_the_same_period_queues_it_once_under_one_key(session):
    writer, reader, engineering, _ = make_company(session)
    posts.create_post(session, engineering, writer, "Storing", "Tekst")
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    [first] = digests.queue_due_digests(session, now).queued
    assert digests.queue_due_digests(session, now).queued == []
    row = session.get(OutgoingMail, first)
    assert row.key == f"digest:{reader.id}:daily:2026-11-25"
    message = message_from_bytes(row.message, policy=policy.default)
    assert message["Message-ID"] == message_ids.message_id(session, "digest", f"{reader.id}-daily-2026-11-25")


def test_weekly_digest_goes_out_on_the_users_weekday(session):
    writer, reader, _, social = make_company(session)
    reader.digest_weekday = 2  # Wednesday
    posts.create_post(session, social, writer, "Borrel", "Vrijdag")
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    wednesday = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert [m["Subject"] for m in digest_mails(session, "reader@example.com")] == []
    digests.queue_due_digests(session, tuesday)
    assert digest_mails(session, "reader@example.com") == []
    digests.queue_due_digests(session, wednesday)
    [digest] = digest_mails(session, "reader@example.com")
    assert "Borrel" in digest_text(digest) and "weekly" in digest_text(digest)


def test_new_comments_on_your_own_threads_come_first_with_counts_and_a_reply_address(session):
    writer, reader, engineering, _ = make_company(session)
    hr = groups.create_group(session, "hr", "HR")
    groups.add_member(session, hr, reader, "daily")
    mine = posts.create_post(session, hr, reader, "Wie heeft de sleutels?", "Van de kraan")
    other = posts.create_post(session, engineering, writer, "Kabelbreuk", "Graafmachine")
    posts.create_comment(session, mine, writer, "Bob heeft ze.")
    posts.create_comment(session, mine, writer, "In de blauwe kast.")

    digests.send_digests(session, "daily")
    [digest] = digest_mails(session, "reader@example.com")
    text = digest_text(digest)
    assert digest["Subject"] == "Plein: 1 new post and 2 new comments in Engineering, HR"
    assert text.index("On your threads") < text.index("Wie heeft de sleutels?") < text.index("== Engineering ==")
    assert "2 new comments" in text
    html = digest.get_body(preferencelist=("html",)).get_content()
    for post in (mine, other):
        address = notifications.reply_address(post, None, reader)
        assert address in text
        assert f'href="mailto:{address}?subject=' in html
        assert signing.verify(session, "reply", address.split("+")[1].split("@")[0]) == (post.id, 0, reader.id)


def test_a_reply_to_a_digest_item_lands_as_a_comment_on_that_item(session):
    writer, reader, engineering, _ = make_company(session)
    post = posts.create_post(session, engineering, writer, "Kabelbreuk", "Graafmachine")
    address = notifications.reply_address(post, None, reader)
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "reader@example.com", address, "Re: Kabelbreuk"
    reply["Message-ID"] = "<antwoord-1@example.com>"
    reply.set_content("Ik ga erheen.")
    stored = inbound.store_inbound(session, reply.as_bytes(), "reader@example.com", [address])
    inbound.process_inbound(session, stored.id)
    assert [(c.author.email, c.body_text) for c in post.comments] == [("reader@example.com", "Ik ga erheen.")]


def test_dutch_readers_get_a_dutch_digest(session):
    writer, reader, engineering, _ = make_company(session)
    reader.language = "nl"
    posts.create_post(session, engineering, writer, "Storing", "Tekst")
    posts.create_post(session, engineering, writer, "Nog een storing", "Tekst")
    digests.send_digests(session, "daily")
    [digest] = digest_mails(session, "reader@example.com")
    assert digest["Subject"] == "Plein: 2 nieuwe berichten in Engineering"
    assert "Je dagelijkse overzicht" in digest_text(digest)
    assert '<html lang="nl">' in digest.get_body(preferencelist=("html",)).get_content()


def test_preview_shows_the_digest_without_moving_the_watermark(session):
    writer, reader, engineering, _ = make_company(session)
    posts.create_post(session, engineering, writer, "Storing", "Tekst")
    preview = digests.preview_digest(session, reader, "daily")
    assert "Storing" in preview.html and preview.subject == "Plein: 1 new post in Engineering"
    assert digests.preview_digest(session, reader, "daily").html == preview.html
    assert len(digests.send_digests(session, "daily")) == 1
    assert digests.preview_digest(session, reader, "daily") is None


def test_digest_mail_is_well_formed_and_one_click_unsubscribes_from_every_group_it_covers(session):
    writer, reader, engineering, _ = make_company(session)
    hr = groups.create_group(session, "hr", "HR")
    groups.add_member(session, hr, reader, "daily")
    posts.create_post(session, engineering, writer, "Storing", "Tekst")
    digests.send_digests(session, "daily")
    [digest] = digest_mails(session, "reader@example.com")
    assert digest["Auto-Submitted"] == "auto-generated"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [part.strip(" <>") for part in digest["List-Unsubscribe"].split(",")]
    assert https.startswith("http") and mailto.startswith("mailto:unsubscribe+")
    assert digest.get_body(preferencelist=("plain",)) is not None
    assert digest.get_body(preferencelist=("html",)) is not None
    token = https.rsplit("/", 1)[1]
    assert mailto == f"mailto:unsubscribe+{token}@plein.test"
    subscriptions.unsubscribe(session, token)
    assert {m.group.slug: m.delivery.value for m in reader.memberships} == {
        "engineering": "none", "hr": "none", "social": "weekly",
    }


def test_beat_runs_the_due_digest_task_every_hour_and_it_sends_to_whoever_is_due(context, monkeypatch):
    from zoneinfo import ZoneInfo

    from celery.schedules import crontab

    from hub.models import utcnow
    from workers import app, tasks

    monkeypatch.setattr(tasks, "context", context)  # the worker's own, built from the environment at import

    assert app.app.conf.beat_schedule["digests-due"] == {"task": "plein.digests.send_due", "schedule": crontab(minute=0)}
    with context.session_scope() as session:
        writer, reader, engineering, _ = make_company(session)
        reader.digest_hour = utcnow().astimezone(ZoneInfo(reader.timezone)).hour
        posts.create_post(session, engineering, writer, "Storing", "Tekst")

    tasks.send_due_digests.apply()

    with context.session_scope() as session:
        [digest] = digest_mails(session, "reader@example.com")
        assert "Storing" in digest_text(digest)


def test_a_digest_shows_a_markdown_post_and_comment_as_plain_words_in_both_parts(session):
    writer, reader, engineering, _ = make_company(session)
    post = posts.create_post(
        session, engineering, writer, "Planning",
        "**Kick-off** on *Monday*\n\n| Team | Room |\n|---|---|\n| Web | 2.14 |\n\n![Floor plan](plan.jpg)",
    )
    posts.create_comment(session, post, writer, "See the [agenda](https://example.org/a) and `notes.md`")
    digests.send_digests(session, "daily")
    [digest] = digest_mails(session, "reader@example.com")
    text = digest_text(digest)
    html = digest.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "Kick-off on Monday Team Room Web 2.14 Floor plan" in part
        assert "See the agenda and notes.md" in part
        assert not any(mark in part for mark in ("**", "|---", "![", "](", "`notes"))
