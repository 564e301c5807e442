"""A file whose text could not be read: kept, offered for download, and its author told why on the post page."""

from hub.models import Attachment
from hub.services import accounts, attachments, groups, index_writer, posts
from tests.support.web import signed_in


def test_the_author_alone_sees_why_a_files_text_could_not_be_read_and_it_still_downloads(context):
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
        bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
        bob.language = "nl"
        alice.language = "nl"
        group = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, group, alice)
        groups.add_member(session, group, bob)
        post = posts.create_post(session, group, alice, "Salarissen", "Zie de bijlage.")
        broken = attachments.attach(session, post, "salarissen.xlsx", "application/octet-stream", b"PK\x03\x04 kapot")
        post_id, attachment_id = post.id, broken.id
    index_writer.flush(context)
    index_writer.read_documents(context, [attachment_id])
    with context.session_scope() as session:
        assert session.get(Attachment, attachment_id).extraction_error == "broken: not a zip archive"
    page = signed_in(context, "alice@example.com").get(f"/p/{post_id}")
    assert "Alleen jij ziet dit: de tekst van dit bestand kon niet worden gelezen (broken: not a zip archive)" in page.text
    other = signed_in(context, "bob@example.com")
    assert "salarissen.xlsx" in other.get(f"/p/{post_id}").text
    assert "Alleen jij ziet dit" not in other.get(f"/p/{post_id}").text
    download = other.get(f"/attachments/{attachment_id}/salarissen.xlsx")
    assert (download.status_code, download.content) == (200, b"PK\x03\x04 kapot")
