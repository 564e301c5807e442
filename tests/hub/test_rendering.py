"""Posts and comments as pages show them: Markdown, sanitized, with mentions and tags as links, and the preview."""

from __future__ import annotations

import re
import time
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import event, select

from hub.models import Attachment, Post
from hub.services import accounts, attachments, groups, person_details, posts, rendering
from hub.templating import AVATAR_COLOURS, avatar
from tests.support.web import signed_in_with_csrf


@pytest.fixture
def people(session):
    anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
    accounts.create_user(session, "bram@example.com", "Bram Bos")
    accounts.create_user(session, "sanne@one.example", "Sanne Visser")
    accounts.create_user(session, "sanne@two.example", "Sanne Jansen")
    session.flush()
    return anna


def html_of(session, text: str) -> str:
    return str(rendering.render_bodies(session, [text])[text])


def test_markdown_renders_links_emphasis_lists_quotes_and_code(session):
    html = html_of(session, "**bold** and *italic*\n\n- one\n- two\n\n> quoted\n\n`code` [site](https://example.org)")
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<ul>\n<li>one</li>" in html and "<blockquote>" in html and "<code>code</code>" in html
    assert '<a href="https://example.org" rel="nofollow noopener">site</a>' in html


def test_line_breaks_of_a_mail_stay_line_breaks(session):
    assert "Hallo,<br>\nTot morgen" in html_of(session, "Hallo,\nTot morgen")


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(x)" onclick="alert(1)">x</div>',
])
def test_no_raw_html_or_script_link_gets_through(session, hostile):
    html = html_of(session, hostile)
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<div" not in html
    assert not re.search(r"<a [^>]*href=\"(?:javascript|data):", html, re.IGNORECASE)
    assert not re.search(r"<\w+[^>]* on\w+=", html)


def test_an_image_from_elsewhere_is_not_loaded(session):
    html = html_of(session, "![tracker](https://evil.example/pixel.png)")
    assert "<img" not in html and 'href="https://evil.example/pixel.png"' in html


def test_every_link_gets_nofollow_noopener(session):
    html = html_of(session, "see https://example.org and <https://example.net>")
    assert html.count('rel="nofollow noopener"') == 2


@pytest.mark.parametrize("hostile", ["[" * 100_000, "*a " * 40_000, ">" * 100_000, "[a](" * 30_000, "_*" * 60_000])
def test_huge_or_deeply_nested_text_is_rendered_within_a_budget(session, hostile):
    started = time.perf_counter()
    html = html_of(session, hostile)
    assert time.perf_counter() - started < 1.5
    assert len(html) >= 1


def test_the_worst_markdown_under_the_limit_still_renders_quickly(session):
    started = time.process_time()  # CPU time: a busy machine does not make the renderer slow
    html_of(session, "[" * rendering.MARKDOWN_MAX_CHARS)
    assert time.process_time() - started < 1.0


def test_text_past_the_limit_is_shown_as_plain_escaped_text(session):
    text = "<b>x</b> **y**\n" * (rendering.MARKDOWN_MAX_CHARS // 10)
    html = html_of(session, text)
    assert html.startswith('<pre class="plain">') and "&lt;b&gt;x&lt;/b&gt; **y**" in html and "<strong>" not in html


def test_a_mention_of_one_person_links_to_their_profile(session, people):
    html = html_of(session, 'Vraag het @anna of @"Bram Bos".')
    assert '<a href="/people/anna@example.com" class="mention" rel="nofollow noopener">@anna</a> of' in html
    assert '<a href="/people/bram@example.com" class="mention" rel="nofollow noopener">@"Bram Bos"</a>.' in html


def test_a_mention_that_fits_no_one_or_several_stays_text(session, people):
    html = html_of(session, "@sanne en @nobody en mail anna@example.com")
    assert "<a" not in html.replace('<a href="mailto:anna@example.com" rel="nofollow noopener">', "")
    assert "@sanne en @nobody" in html


def test_mentions_and_tags_in_code_or_links_stay_as_written(session, people):
    html = html_of(session, "`@anna #tag` and [#page @anna](https://example.org/#x)")
    assert "<code>@anna #tag</code>" in html and 'class="mention"' not in html and 'class="tag"' not in html


def test_a_tag_links_to_its_page(session):
    html = html_of(session, "Storing #Printer-3 gemeld, ticket #12")
    assert '<a href="/tags/printer-3" class="tag" rel="nofollow noopener">#Printer-3</a>' in html
    assert "ticket #12" in html


def test_a_page_of_bodies_resolves_its_mentions_in_one_query(session, people):
    texts = [f"@anna en @bram, ronde {n} @\"Sanne Visser\" @sanne" for n in range(30)]
    statements = []

    def count(connection, cursor, statement, *rest):
        statements.append(statement)

    event.listen(session.bind, "before_cursor_execute", count)
    try:
        rendered = rendering.render_bodies(session, texts)
    finally:
        event.remove(session.bind, "before_cursor_execute", count)
    assert len([s for s in statements if "FROM users" in s]) == 1
    assert all(rendered[text].count('class="mention"') == 3 for text in texts)


def test_avatars_have_initials_and_a_colour_that_passes_wcag_aa_with_white(session):
    assert avatar("Anna de Vries").initials == "AV" and avatar("", "bram@example.com").initials == "B"
    assert avatar("Anna de Vries").colour == avatar("anna de vries").colour

    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    assert all(1.05 / (luminance(colour) + 0.05) >= 4.5 for colour in AVATAR_COLOURS)


# On the pages


@pytest.fixture
def hub(context):
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        bram = accounts.create_user(session, "bram@example.com", "Bram Bos")
        accounts.create_user(session, "carol@example.com", "Carol Claes")
        team = groups.create_group(session, "team", "Team")
        board = groups.create_group(session, "board", "Board", private=True)
        for group in (team, board):
            groups.add_member(session, group, anna)
            groups.add_member(session, group, bram)
        post = posts.create_post(session, team, anna, "Planning", "**Wie** doet wat? @bram #planning")
        comment = posts.create_comment(session, post, bram, "Ik doe de kabels,\nmorgen.\n\n> zei @anna")
        secret = posts.create_post(session, board, anna, "Reorganisatie", "Alleen voor het bestuur.")
        session.flush()
        return {"post": post.id, "comment": comment.id, "secret": secret.id}


def test_a_thread_shows_markdown_mentions_tags_and_names_with_avatars(context, hub):
    client, _ = signed_in_with_csrf(context, "carol@example.com")
    page = client.get(f"/p/{hub['post']}").text
    assert "<strong>Wie</strong> doet wat?" in page
    assert 'href="/people/bram@example.com" class="mention"' in page and 'href="/tags/planning" class="tag"' in page
    assert "Ik doe de kabels,<br>\nmorgen.</p>" in page and "<blockquote>" in page
    assert re.search(r'<a class="person" href="/people/anna%40example.com"><span class="avatar" '
                     r'style="background-color: #[0-9a-f]{6}" aria-hidden="true">AV</span>Anna de Vries</a>', page)


def test_names_on_group_history_and_profile_pages_link_to_profiles(context, hub):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    client.post(f"/p/{hub['post']}/edit", data={"csrf": csrf, "title": "Planning", "body": "*Nieuw*"})
    assert 'href="/people/anna%40example.com"><span class="avatar"' in client.get("/g/team").text
    history = client.get(f"/p/{hub['post']}/history").text
    assert 'href="/people/anna%40example.com"><span class="avatar"' in history and "<em>Nieuw</em>" in history
    assert 'class="person large"' in client.get("/people/bram@example.com").text


def test_preview_of_a_comment_shows_it_rendered_and_keeps_the_text_without_posting(context, hub):
    client, csrf = signed_in_with_csrf(context, "bram@example.com")
    typed = "Een **vraag** voor @anna"
    page = client.post(f"/p/{hub['post']}/comments", data={"csrf": csrf, "body": typed, "preview": "1"})
    assert page.status_code == 200
    preview = page.text.index('class="card preview"')
    assert "<strong>vraag</strong>" in page.text[preview:] and page.text.index("<strong>vraag</strong>") > preview
    assert page.text.index("<strong>vraag</strong>") < page.text.index('<textarea id="body"')
    assert f">{typed}</textarea>" in page.text
    with context.session_scope() as session:
        assert len(posts.get_post(session, accounts.get_user(session, "bram@example.com"), hub["post"]).comments) == 1


def test_preview_of_a_new_post_keeps_title_and_text_and_posts_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    page = client.post("/g/team/posts", data={"csrf": csrf, "title": "Vrijdag", "body": "- taart\n- koffie",
                                              "preview": "1"}, files={"files": ("", b"", "application/octet-stream")})
    assert page.status_code == 200 and "<li>taart</li>" in page.text
    assert 'value="Vrijdag"' in page.text and "- taart\n- koffie</textarea>" in page.text
    assert "Vrijdag" not in client.get("/g/team").text.split('class="card preview"')[0]


def test_preview_of_an_edit_shows_the_new_text_and_saves_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "bram@example.com")
    page = client.post(f"/comments/{hub['comment']}/edit", data={"csrf": csrf, "body": "_anders_", "preview": "1"})
    assert page.status_code == 200 and "<em>anders</em>" in page.text and ">_anders_</textarea>" in page.text
    assert "Ik doe de kabels" in client.get(f"/p/{hub['post']}").text


def test_preview_needs_the_forms_csrf_token(context, hub):
    client, _ = signed_in_with_csrf(context, "bram@example.com")
    refused = client.post(f"/p/{hub['post']}/comments", data={"csrf": "forged", "body": "x", "preview": "1"})
    assert refused.status_code == 403


def test_a_non_member_previewing_in_a_private_thread_learns_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "carol@example.com")
    secret = client.post(f"/p/{hub['secret']}/comments", data={"csrf": csrf, "body": "x", "preview": "1"})
    missing = client.post("/p/999999/comments", data={"csrf": csrf, "body": "x", "preview": "1"})
    assert secret.status_code == missing.status_code == 404
    assert "Reorganisatie" not in secret.text and "Board" not in secret.text


def test_composer_pages_load_the_mention_script_from_this_origin_only(context, hub):
    client, _ = signed_in_with_csrf(context, "bram@example.com")
    page = client.get(f"/p/{hub['post']}")
    assert '<script src="/mentions.js" defer></script>' in page.text and "<script>" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/mentions.js")
    assert script.status_code == 200 and "aria-activedescendant" in script.text


def test_preview_of_a_new_post_shows_an_image_of_a_chosen_file_as_a_placeholder_and_stores_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "anna@example.com")
    body = "Kijk:\n\n![Het bord](bord.jpg)\n\n![](elders.jpg)"
    page = client.post("/g/team/posts", data={"csrf": csrf, "title": "Bord", "body": body, "preview": "1"},
                       files={"files": ("bord.jpg", jpeg(), "image/jpeg")})
    assert page.status_code == 200
    preview = page.text.split('class="card preview"')[1].split("</section>")[0]
    assert '<span class="pending-file"><strong>Het bord</strong> (bord.jpg shows here once posted)</span>' in preview
    assert "<img" not in preview and "![](elders.jpg)" in preview  # a file not chosen stays as written
    assert "A preview keeps no files: choose bord.jpg again before you send." in preview
    with context.session_scope() as session:
        assert session.scalar(select(Attachment.id)) is None and session.scalar(select(Post.id).where(
            Post.title == "Bord")) is None
    with context.session_scope() as session:
        accounts.get_user(session, "anna@example.com").language = "nl"
    dutch = client.post("/g/team/posts", data={"csrf": csrf, "title": "Bord", "body": body, "preview": "1"},
                        files={"files": ("bord.jpg", jpeg(), "image/jpeg")})
    assert "<strong>Het bord</strong> (bord.jpg verschijnt hier zodra het geplaatst is)" in dutch.text
    assert "Een voorbeeld bewaart geen bestanden: kies bord.jpg opnieuw" in dutch.text


def test_preview_of_a_comment_shows_a_stored_photo_of_the_thread_and_a_chosen_one_as_a_placeholder(context, hub):
    with context.session_scope() as session:
        post = session.get(Post, hub["post"])
        stored = attachments.attach(session, post, "kabels.jpg", "image/jpeg", jpeg()).id
    client, csrf = signed_in_with_csrf(context, "bram@example.com")
    body = "![Oud](kabels.jpg) ![Nieuw](nieuw.jpg)"
    page = client.post(f"/p/{hub['post']}/comments", data={"csrf": csrf, "body": body, "preview": "1"},
                       files={"files": ("nieuw.jpg", jpeg(), "image/jpeg")})
    preview = page.text.split('class="card preview"')[1].split("</section>")[0]
    assert f'<img src="/attachments/{stored}/kabels.jpg" alt="Oud">' in preview
    assert '<span class="pending-file"><strong>Nieuw</strong> (nieuw.jpg shows here once posted)</span>' in preview
    with context.session_scope() as session:
        assert len(session.get(Post, hub["post"]).comments) == 1


def test_a_non_member_previewing_a_new_post_with_a_file_in_a_private_group_learns_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "carol@example.com")

    def preview(slug: str):
        return client.post(f"/g/{slug}/posts", data={"csrf": csrf, "title": "x", "body": "![](a.jpg)", "preview": "1"},
                           files={"files": ("a.jpg", jpeg(), "image/jpeg")})

    secret, missing = preview("board"), preview("nowhere")
    assert secret.status_code == missing.status_code == 404
    assert "pending-file" not in secret.text and "Board" not in secret.text and "Reorganisatie" not in secret.text


def test_a_placeholder_is_only_made_by_the_preview_never_by_text(session):
    html = html_of(session, '<span class="pending-file">x</span> ![a](b.jpg)')
    assert '<span class="pending-file">' not in html and "&lt;span" in html


def jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 20)).save(out, "JPEG")
    return out.getvalue()


# Snippets: the start of a text as plain words, for feeds and mails

MARKDOWN_BODY = (
    "## Plan for **Q3**\n\n"
    "We *ship* the [new site](https://example.org/site) and `deploy.sh`.\n\n"
    "![Whiteboard after the meeting](board.jpg) ![](uploads/floor%20plan.png)\n\n"
    "| Team | Owner |\n|------|-------|\n| Web | Anna |\n\n"
    "> quoted\n\n- one\n- two\n\n<b>loud</b> ~~old~~ &amp; done"
)
MARKUP_CHARACTERS = ("**", "##", "](", "![", "|", "`", "<b>", "~~", "&amp;", "> ")


def test_a_snippet_is_plain_text_with_images_as_their_caption_or_file_name_and_tables_as_words():
    text = rendering.snippet(MARKDOWN_BODY, 400)
    assert not any(mark in text for mark in MARKUP_CHARACTERS), text
    assert text.startswith("Plan for Q3 We ship the new site and deploy.sh. Whiteboard after the meeting floor plan.png")
    assert "Team Owner Web Anna" in text and "quoted one two loud old & done" in text


def test_a_snippet_of_plain_text_is_its_words_on_one_line_cut_at_a_word():
    assert rendering.snippet("  Coffee at ten,\n\nbring   cake  ") == "Coffee at ten, bring cake"
    cut = rendering.snippet("word " * 100, 30)
    assert cut == "word word word word word word…" and len(cut) <= 30
    assert rendering.snippet("3 < 4 and 5 > 2") == "3 < 4 and 5 > 2"


def test_a_profiles_recent_activity_shows_plain_words_of_a_markdown_post(session, people):
    team = groups.create_group(session, "team", "Team")
    groups.add_member(session, team, people)
    posts.create_post(session, team, people, "Plan", MARKDOWN_BODY)
    [activity] = person_details.recent_activity(session, people, people)
    assert activity.snippet.startswith("Plan for Q3 We ship the new site") and "**" not in activity.snippet


def test_a_snippet_reads_only_the_start_of_a_huge_or_hostile_text_in_a_budget():
    for hostile in ("[" * 200_000, "*a " * 100_000, "| x " * 100_000 + "\n|---|\n", "<div>" * 50_000):
        started = time.perf_counter()
        assert len(rendering.snippet(hostile)) <= rendering.SNIPPET_LENGTH
        assert time.perf_counter() - started < 1
