"""Formatted posts: Markdown tables and the thread's own images on the page, HTML mail kept formatted and harmless,
and the same formatting in the HTML part of every mail Plein sends about a post or a comment."""

from __future__ import annotations

import os
import re
import time
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hub.models import OutgoingMail, Post
from hub.services import accounts, groups, inbound, notifications, outbox, posts, receipts, rendering
from hub.services.attachments import attach
from hub.services.formatted_mail import for_mail, mail_body
from tests.support.sink import SmtpSink
from tests.support.web import signed_in_with_csrf

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
WORD_HTML = CORPUS / "discourse" / "word_html_reply.eml"  # Outlook/Word HTML: bold, a bulleted and a numbered list

TABLE = "| Wie | Wat | Uren |\n|:--|:--|--:|\n| Anna | kabels | 3 |\n| Bram | **koffie** | 1 |"
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201f6e6a0e90000000049454e44ae426082"
)


def html_part(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.default)
    return message.get_body(("html",)).get_content()


def text_part(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.default)
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def thread(session):
    return make_thread(session)


def make_thread(session) -> dict:
    """A post of Anna's with a photo, a PDF and a table, that Bram (delivery `each`) gets by mail."""
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
    team = groups.create_group(session, "team", "Team")
    groups.add_member(session, team, anna)
    groups.add_member(session, team, bram, "each")
    post = posts.create_post(session, team, anna, "Planning", "placeholder")
    photo = attach(session, post, "het team.png", "image/png", PIXEL_PNG)
    plan = attach(session, post, "plan.pdf", "application/pdf", b"%PDF-1.4")
    post.body_text = f"# Rooster\n\n{TABLE}\n\n![Het team op vrijdag](het%20team.png)\n\n![](attachment:{plan.id})"
    session.flush()
    return {"post": post, "photo": photo, "plan": plan, "anna": anna, "bram": bram}


def tags_and_attributes(html: str) -> tuple[set[str], dict[str, str]]:
    """The elements in `html` and every attribute's value by its name, as a browser would read them."""
    tags: set[str] = set()
    attributes: dict[str, str] = {}

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.update((name, value or "") for name, value in attrs)

    Reader().feed(html)
    return tags, attributes


def assert_harmless(html: str) -> None:
    tags, attributes = tags_and_attributes(html)
    assert not tags & {"script", "style", "iframe", "object", "embed", "form", "input"}, tags
    assert not [name for name in attributes if name.startswith("on")], attributes
    assert not re.match(r"\s*(javascript|vbscript|data):", attributes.get("href", ""), re.IGNORECASE)
    assert attributes.get("src", "/attachments/").startswith("/attachments/"), attributes
    assert set(attributes.get("style", "text-align:left").split(":")[0::2]) <= {"text-align"}, attributes


def page_html(session, text: str, post: Post | None = None) -> str:
    return str(rendering.render_bodies(session, [text], attachments=post.attachments if post else ())[text])


# Markdown on the page


def test_a_markdown_table_becomes_a_table_with_its_alignment(session):
    html = page_html(session, TABLE)
    assert "<table>" in html and "<th style=\"text-align:left\">Wie</th>" in html
    assert '<td style="text-align:right">3</td>' in html and "<td style=\"text-align:left\"><strong>koffie</strong></td>" in html


def test_a_cell_cannot_smuggle_other_styles(session):
    html = page_html(session, "| a |\n|:-:|\n| b |").replace('style="text-align:center"', "")
    assert "style=" not in html


def test_an_image_of_the_threads_own_photo_shows_by_its_name_or_id(session, thread):
    photo = thread["photo"]
    by_name = page_html(session, "![Het team op vrijdag](het%20team.png)", thread["post"])
    assert f'<img src="/attachments/{photo.id}/het%20team.png" alt="Het team op vrijdag">' in by_name
    by_id = page_html(session, f"![](attachment:{photo.id})", thread["post"])
    assert f'<img src="/attachments/{photo.id}/het%20team.png" alt="het team.png">' in by_id


def test_an_image_that_names_a_document_of_the_thread_links_to_it(session, thread):
    plan = thread["plan"]
    html = page_html(session, f"![het plan](attachment:{plan.id})", thread["post"])
    assert "<img" not in html and f'<a href="/attachments/{plan.id}/plan.pdf" rel="nofollow noopener">het plan</a>' in html


def test_an_image_from_outside_the_thread_is_never_loaded(session, thread):
    other_post = posts.create_post(session, thread["post"].group, thread["anna"], "Elders", "x")
    elsewhere = attach(session, other_post, "elders.png", "image/png", PIXEL_PNG)
    html = page_html(
        session,
        "![pixel](https://tracker.example/p.png) ![](http://tracker.example/q.gif) ![x](onbekend.png) "
        f"![y](attachment:{elsewhere.id}) ![z](data:image/png;base64,iVBORw0KGgo=) ![w](//tracker.example/r.png)",
        thread["post"],
    )
    assert "<img" not in html
    assert '<a href="https://tracker.example/p.png" rel="nofollow noopener">pixel</a>' in html
    assert "![x](onbekend.png)" in html and f"![y](attachment:{elsewhere.id})" in html and "![z](data:" in html


def test_without_the_threads_files_no_image_shows(session, thread):
    assert "<img" not in page_html(session, "![Het team](het%20team.png)")


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    '<img src="/attachments/1/x.png" onerror="alert(1)">',
    '![x](het%20team.png "a\\" onerror=\\"alert(1)")',
    "![x](javascript:alert(1))",
    "| <script>x</script> |\n|--|\n| [a](javascript:alert(1)) |",
    '<style>body{display:none}</style><p style="position:fixed">x</p>',
])
def test_hostile_markdown_stays_harmless(session, thread, hostile):
    assert_harmless(page_html(session, hostile, thread["post"]))


# HTML that came by mail


HOSTILE_MAIL_HTML = (
    '<p style="position:fixed;top:0">Hallo <b>allemaal</b></p><script>alert(1)</script>'
    '<img src="x" onerror="alert(2)" alt="kapot"><img src="https://tracker.example/p.gif" alt="pixel">'
    '<a href="javascript:alert(3)">klik</a><a href="https://example.org" onclick="alert(4)">site</a>'
    "<style>p{color:red}</style><iframe src=\"https://evil.example\"></iframe>"
    "<ul><li>een</li></ul><table><tr><td>cel</td></tr></table>"
)


def test_hostile_mail_html_keeps_its_formatting_and_loses_everything_that_runs_or_loads(session):
    html = str(rendering.mail_html(HOSTILE_MAIL_HTML))
    assert "<b>allemaal</b>" in html and "<ul><li>een</li></ul>" in html and "<td>cel</td>" in html
    for gone in ("<script", "alert", "onerror", "onclick", "<style", "<iframe", "position:fixed", "tracker.example",
                 "javascript:"):
        assert gone not in html, gone
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">site</a>' in html


def test_mail_html_nested_ten_thousand_deep_falls_back_to_the_text_within_budget(session):
    started = time.process_time()
    assert rendering.mail_html("<div>" * 10_000 + "x" + "</div>" * 10_000) is None
    assert rendering.mail_html("<blockquote>" * 150 + "x" + "</blockquote>" * 150) is not None
    assert time.process_time() - started < 0.5


def test_a_deeply_nested_mail_post_shows_and_mails_its_text(session, thread):
    post = thread["post"]
    post.body_html, post.body_text = "<div>" * 10_000 + "diep" + "</div>" * 10_000, "diep"
    started = time.process_time()
    assert str(mail_body(session, post)).strip() == "<p>diep</p>"
    assert time.process_time() - started < 0.5


def test_an_inline_image_by_content_id_shows_its_attachment_on_the_page(session):
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    groups.add_member(session, groups.create_group(session, "team", "Team"), anna)
    raw = (
        "From: Anna <anna@example.com>\r\nTo: team@plein.test\r\nSubject: Whiteboard\r\n"
        "Message-ID: <cid-1@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/related; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<p>Zie <b>het bord</b>:</p><img src="cid:bord@x" alt="het bord"><ol><li>eerst</li></ol>\r\n'
        "--b\r\nContent-Type: image/png\r\nContent-ID: <bord@x>\r\nContent-Transfer-Encoding: base64\r\n"
        'Content-Disposition: inline; filename="bord.png"\r\n\r\n'
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M/AwAAFAAIB9uag6QAAAABJRU5ErkJggg==\r\n"
        "--b--\r\n"
    ).encode()
    stored = inbound.store_inbound(session, raw, "anna@example.com", ["team@plein.test"])
    inbound.process_inbound(session, stored.id)
    post = session.query(Post).filter_by(title="Whiteboard").one()
    [image] = post.attachments
    html = str(rendering.mail_html(post.body_html))
    assert f'<img src="/attachments/{image.id}/bord.png" alt="het bord">' in html and "<ol><li>eerst</li></ol>" in html


# Mail Plein sends


def test_for_mail_makes_links_absolute_styles_tables_and_turns_images_into_links():
    html = str(for_mail(
        '<table><tr><th style="text-align:right">a</th></tr></table><blockquote>q</blockquote>'
        '<p><a href="/tags/x" class="tag">#x</a> <img src="/attachments/7/foto.png" alt="Foto">'
        '<img src="data:image/png;base64,AA" alt="ingebed"></p>',
        "https://plein.example/",
    ))
    assert '<table style="border-collapse:collapse;margin:8px 0">' in html
    assert 'text-align:right">a</th>' in html and "border-left:3px solid #dde2e8" in html
    assert '<a href="https://plein.example/tags/x" style="color:#0b6bcb"' in html
    assert '<a href="https://plein.example/attachments/7/foto.png" style="color:#0b6bcb" ' in html and "[Foto]</a>" in html
    assert "<img" not in html and "[ingebed]" in html and "data:" not in html


def test_hostile_html_is_harmless_in_mail_too():
    html = str(for_mail(str(rendering.mail_html(HOSTILE_MAIL_HTML)), "https://plein.example/"))
    for gone in ("<script", "alert", "on" + "error", "onclick", "<style", "<iframe", "position:fixed", "<img",
                 "tracker.example", "javascript:"):
        assert gone not in html, gone
    assert "<b>allemaal</b>" in html and "<li>een</li>" in html


def test_the_post_mail_html_part_has_the_table_and_links_to_the_images_while_the_text_stays_as_written(
    context, session, thread
):
    post = thread["post"]
    notifications.notify_post(session, post.id)
    [row] = session.query(OutgoingMail).filter_by(recipient="bram@example.com").all()
    html, text = html_part(row.message), text_part(row.message)
    base = context.url("")
    assert "<h1>Rooster</h1>" in html and "<table " in html and '<td style="border:1px solid #dde2e8' in html
    assert f'href="{base}/attachments/{thread["photo"].id}/het%20team.png"' in html and "[Het team op vrijdag]" in html
    assert f'href="{base}/attachments/{thread["plan"].id}/plan.pdf"' in html
    assert "<img" not in html.split("<body", 1)[1] and "<script" not in html
    assert post.body_text in text


def test_comment_reply_notification_and_receipt_mails_carry_the_formatted_comment(context, session, thread):
    post, bram = thread["post"], thread["bram"]
    carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
    dirk = accounts.create_user(session, "dirk@example.com", "Dirk Dekker")
    groups.add_member(session, post.group, thread["anna"], "daily")  # she follows her thread: the reply mail
    groups.add_member(session, post.group, carol, "daily")  # she is mentioned: the notification mail
    groups.add_member(session, post.group, dirk, "each")  # the comment mail; Bram, its author, the receipt
    comment = posts.create_comment(session, post, bram, "Prima, **@carol**:\n\n- ik\n- jij\n\n![](het%20team.png)")
    notifications.notify_comment(session, comment.id)
    receipts.send_receipt(session, "comment", comment.id)

    mails = {row.recipient: row.message for row in session.query(OutgoingMail)}
    templates = {"anna@example.com": "answered your post", "carol@example.com": "mentioned you",
                 "dirk@example.com": "commented on", "bram@example.com": "Posted to"}
    assert set(mails) == set(templates)
    for recipient, raw in mails.items():
        html = html_part(raw)
        assert templates[recipient] in html or templates[recipient] in raw.decode(errors="replace"), recipient
        assert "<li>ik</li>" in html and "<strong>" in html, recipient
        assert f'href="{context.url("/people/carol@example.com")}"' in html, recipient
        assert f'{context.url("/attachments/")}{thread["photo"].id}/het%20team.png' in html, recipient
        assert "- ik" in text_part(raw) and "<li>" not in text_part(raw), recipient


# A real HTML mail, through the real pipeline


@pytest.mark.skipif(not WORD_HTML.is_file() and os.environ.get("CI") != "true", reason=f"mail corpus not found at {CORPUS}")
def test_a_real_html_mail_keeps_its_lists_and_bold_on_the_page_and_in_the_post_mail(context):
    raw = WORD_HTML.read_bytes()
    raw = re.sub(rb"(?m)^To: .*$", b"To: team@plein.test\nSubject: Stappenplan", raw, count=1)  # it had no subject
    with context.session_scope() as session:
        author = accounts.create_user(session, "discourse@bar.com", "Foo Bar")
        reader = accounts.create_user(session, "bram@example.com", "Bram Bos")
        team = groups.create_group(session, "team", "Team")
        groups.add_member(session, team, author)
        groups.add_member(session, team, reader, "each")
        stored = inbound.store_inbound(session, raw, "discourse@bar.com", ["team@plein.test"])
    with context.session_scope() as session:
        inbound.process_inbound(session, stored.id)
        post_id = session.query(Post).filter_by(title="Stappenplan").one().id

    client, _ = signed_in_with_csrf(context, "bram@example.com")
    page = client.get(f"/p/{post_id}").text
    assert "This is the <b>body</b> of the email." in page
    assert re.search(r"<ul>\s*<li>a bullet</li>\s*<li>another bullet</li>\s*</ul>", page)
    assert re.search(r"<ol>\s*<li>a first step</li>", page)

    with SmtpSink() as sink:
        context.settings.smarthost = sink.smarthost
        assert outbox.drain(context).sent >= 1
        [received] = sink.to("bram@example.com")
    message = received.message
    html = message.get_body(("html",)).get_content()
    assert "This is the <b>body</b> of the email." in html
    assert re.search(r"<ul>\s*<li>a bullet</li>\s*<li>another bullet</li>\s*</ul>", html)
    assert re.search(r"<ol>\s*<li>a first step</li>\s*<li>a second step</li>\s*</ol>", html)
    assert "- a bullet" in message.get_body(("plain",)).get_content()


# The page


def test_the_post_page_shows_the_table_and_the_photo_and_a_comment_may_show_it_too(context):
    with context.session_scope() as session:
        thread = make_thread(session)
        posts.create_comment(session, thread["post"], thread["bram"], "Nog eens: ![](het%20team.png)")
        post_id, photo_id = thread["post"].id, thread["photo"].id
    client, csrf = signed_in_with_csrf(context, "bram@example.com")
    page = client.get(f"/p/{post_id}").text
    assert "<table>" in page and '<td style="text-align:right">3</td>' in page
    assert page.count(f'<img src="/attachments/{photo_id}/het%20team.png"') == 2
    preview = client.post(f"/p/{post_id}/comments", data={"csrf": csrf, "body": "![kijk](het%20team.png)",
                                                          "preview": "1"}).text
    shown = preview[preview.index('class="card preview"'):]
    assert f'<img src="/attachments/{photo_id}/het%20team.png" alt="kijk">' in shown
    assert client.get(f"/attachments/{photo_id}/het%20team.png").content == PIXEL_PNG


def test_a_non_member_learns_nothing_of_a_private_threads_images(context):
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        accounts.create_user(session, "carol@example.com", "Carol Claes")
        board = groups.create_group(session, "board", "Board", private=True)
        groups.add_member(session, board, anna)
        secret = posts.create_post(session, board, anna, "Geheim", "![](geheim.png)")
        photo = attach(session, secret, "geheim.png", "image/png", PIXEL_PNG)
        session.flush()
        ids = secret.id, photo.id
    client, _ = signed_in_with_csrf(context, "carol@example.com")
    assert client.get(f"/p/{ids[0]}").status_code == 404
    assert client.get(f"/attachments/{ids[1]}/geheim.png").status_code == 404
