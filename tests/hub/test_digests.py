from email import message_from_bytes, policy

from hub.models import OutgoingMail
from hub.services import accounts, digests, groups, posts


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
