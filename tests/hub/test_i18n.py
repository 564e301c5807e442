"""Every word through the one catalogue (docs/translations.md).

Nothing in the code or templates is missing from the catalogue or lacks Dutch; every mail and
every page reads in Dutch and in English; a reader gets their own language, chosen as the docs say.
"""

from __future__ import annotations

import ast
import html
import re
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from markupsafe import Markup
from PIL import Image

from hub.locale import KEYWORDS, LOCALE_DIR
from hub.models import Comment, Post, utcnow
from hub.services import (
    accounts,
    anonymity,
    attachments,
    documents,
    follows,
    groups,
    moderation,
    organisation,
    participation,
    personal,
    photo_sizes,
    posts,
    reactions,
    receipts,
    signing,
    submissions,
    subscriptions,
    videos,
)
from hub.templating import TEMPLATES_DIR
from hub.web.app import create_app
from tests.support.hub import hub_context
from tests.support.web import csrf_of, signed_in_with_csrf


def small_png() -> bytes:
    """A small PNG, so that the post page shows a photo."""
    out = BytesIO()
    Image.new("RGB", (8, 6), (10, 120, 10)).save(out, "PNG")
    return out.getvalue()

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalogue(path: Path):
    with path.open("rb") as po:
        return read_po(po, locale="nl" if path.suffix == ".po" else None)


POT = catalogue(LOCALE_DIR / "messages.pot")
DUTCH = catalogue(LOCALE_DIR / "nl" / "LC_MESSAGES" / "messages.po")


def ids(messages) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in messages if m.id}


def extracted() -> set[str]:
    """What `pybabel extract` finds, as the docs run it, extracted here in-process."""
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open())
    keywords = {**DEFAULT_KEYWORDS, **dict.fromkeys(KEYWORDS)}
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_the_catalogue_holds_exactly_the_messages_in_the_code_and_templates():
    in_code, in_catalogue = extracted(), ids(POT)
    assert in_code - in_catalogue == set(), "new messages: run the extract and update commands of docs/translations.md"
    assert in_catalogue - in_code == set(), "stale messages: run the extract and update commands of docs/translations.md"


def test_every_message_has_a_dutch_translation_with_the_same_placeholders():
    assert ids(DUTCH) >= ids(POT)
    for message in DUTCH:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"no Dutch for {message.id!r}"
    assert list(DUTCH.check()) == []


def test_no_message_is_written_as_an_f_string_the_catalogue_cannot_hold():
    """`Invalid(f"no group {slug}")` cannot be translated; `Invalid("no group %(slug)s", slug=slug)` can."""
    offending = []
    for path in (ROOT / "hub").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                marked = node.func.id in {*KEYWORDS, "_", "N_", "gettext", "ngettext"}
                if marked and isinstance(node.args[0], ast.JoinedStr):
                    offending.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offending == []


def _english_fragments() -> tuple[set[str], set[str]]:
    """Long pieces of English between placeholders, and short whole messages, whose Dutch differs."""
    pieces, short = set(), set()
    for message in DUTCH:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        dutch = " ".join(message.string if isinstance(message.string, tuple) else (message.string,))
        for text in english:
            for piece in PLACEHOLDER.split(text):
                piece = piece.strip(" ,.:;()“”\"'")
                if len(piece) >= 12 and piece not in dutch:
                    pieces.add(piece)
            if not PLACEHOLDER.search(text) and len(text) < 12 and text not in dutch:
                short.add(text)
    return pieces, short


ENGLISH_PIECES, ENGLISH_WORDS = _english_fragments()


def english_left(rendered: str) -> set[str]:
    """English words in a Dutch rendering: a piece of a message anywhere, or a short message as the
    whole of an element's text or of an attribute people read."""
    text = html.unescape(rendered)
    found = {piece for piece in ENGLISH_PIECES if piece in text}
    found |= {
        word for word in ENGLISH_WORDS
        if re.search(rf"(>|(placeholder|aria-label|title|alt)=\")\s*(←\s*)?{re.escape(word)}\s*(→\s*)?[<\"]", text)
    }
    return found


def test_the_check_for_english_finds_english():
    assert english_left("<button>Sign out</button> Your message to Tuinclub waits for a moderator") == {
        "Sign out", "Your message to", "waits for a moderator",
    }
    assert english_left("<button>Afmelden</button> Je bericht aan Tuinclub wacht op een moderator") == set()


# Every mail, with data for each of its branches.
anna = SimpleNamespace(name="Anna de Vries", email="anna@plein.test", receipts=True, timezone="Europe/Amsterdam")
bram = SimpleNamespace(name="Bram Bos", email="bram@plein.test", receipts=False, timezone="Europe/Amsterdam")
group = SimpleNamespace(name="Tuinclub", slug="tuin")
post = SimpleNamespace(title="Compost", body_text="Wie heeft er een kruiwagen?", author=bram, group=group)
comment = SimpleNamespace(body_text="Ik, morgen.", author=bram)
held = SimpleNamespace(group=group, sender=bram, reason="Tuinclub is gemodereerd", subject="Kruiwagen", text="Mag ik?",
                       anonymous=False)
anonymous_held = SimpleNamespace(**{**vars(held), "anonymous": True})
anonymous_post = SimpleNamespace(**{**vars(post), "author": None})
anonymous_comment = SimpleNamespace(body_text="Ik, morgen.", author=None)
links = {"url": "http://plein.test/p/1", "unsubscribe_url": "http://plein.test/u", "preferences_url": "http://plein.test/s",
         "stop_url": "http://plein.test/stop"}
item = SimpleNamespace(title="Compost", url=links["url"], group="Tuinclub", author="Bram Bos", time="5 jan, 14:30",
                       new_comments=2, snippet="Wie heeft er…", latest_comment="Bram Bos: Ik, morgen.",
                       reply_mailto="mailto:r@plein.test", reply_to="r@plein.test")
MAILS = {
    "command_confirm": [dict(recipient=anna, action="Schrijf me in bij Tuinclub.", days=7,
                             command_address="tuin+subscribe@plein.test")],
    "comment": [dict(recipient=anna, post=post, comment=shown, body=Markup("<p>Ik, morgen.</p>"), **links)
                for shown in (comment, anonymous_comment)],
    "digest": [dict(recipient=anna, frequency=frequency, subject="Plein", sections=[
        SimpleNamespace(name="", items=[SimpleNamespace(html="", text="")]),
        SimpleNamespace(name="Tuinclub", items=[SimpleNamespace(html="", text="")]),
    ], **links) for frequency in ("daily", "weekly")],
    "digest_item": [dict(item=item, show_group=True), dict(item=item, show_group=False)],
    "held": [dict(recipient=who, held=held, thread_title=title, group_url="http://plein.test/g/tuin")
             for who in (anna, bram) for title in ("", "Compost")],
    "moderation": [dict(recipient=anna, held=shown, thread_title=title, reject_address="reject@plein.test",
                        queue_url="http://plein.test/q") for title in ("", "Compost") for shown in (held, anonymous_held)],
    "notification": [dict(recipient=anna, sentence="Bram Bos noemde je in Compost", body=body,
                          body_html=body and Markup("<p>Ik, morgen.</p>"), **links) for body in ("Ik, morgen.", None)],
    "notifications_daily": [dict(recipient=anna, lines=[dict(sentence="Bram Bos noemde je", url=links["url"],
                                                             snippet="Ik, morgen.")], **links)],
    "post": [dict(recipient=anna, post=shown, body=Markup("<p>Wie heeft er een kruiwagen?</p>"),
                  attachments=[("plan.pdf", 1000, "https://plein.test/attachments/1/plan.pdf")], **links)
             for shown in (post, anonymous_post)],
    "receipt": [dict(recipient=anna, kind=kind, post=post, body="Ik, morgen.", body_html=Markup("<p>Ik, morgen.</p>"),
                     attachments=["plan.pdf"],
                     view_url=links["url"], edit_url="http://plein.test/e", undo_url="http://plein.test/x",
                     minutes=15, until="14:45", stop_url=links["stop_url"], preferences_url=links["preferences_url"])
                for kind in ("post", "comment")],
    "reply": [dict(recipient=anna, post=post, comment=shown, body=Markup("<p>Ik, morgen.</p>"), own_post=own,
                   anonymous_reply=own and shown is anonymous_comment, **links)
              for own in (True, False) for shown in (comment, anonymous_comment)],
    "sign_in": [dict(recipient=anna, url=links["url"], minutes=30)],
    "invitation": [dict(recipient=anna, inviter=bram, group=SimpleNamespace(name="Tuinclub", description=about),
                        url=links["url"], days=14) for about in ("", "Alles over compost")],
}


def test_every_mail_template_is_rendered_below():
    assert {p.stem for p in (TEMPLATES_DIR / "email").iterdir() if not p.stem.startswith("_")} == set(MAILS)


@pytest.mark.parametrize("name", sorted(MAILS))
def test_every_mail_reads_in_dutch_and_in_english(name, context):
    for values in MAILS[name]:
        dutch_text, dutch_html = context.catalogue.render_mail(name, "nl", **values)
        english_text, english_html = context.catalogue.render_mail(name, "en", **values)
        assert english_left(dutch_text) == set() and english_left(dutch_html) == set()
        assert dutch_text != english_text
        if "<html" in english_html:
            assert '<html lang="nl">' in dutch_html and '<html lang="en">' in english_html


# Every page, walked in both languages.
def lang_of(page: str) -> str:
    return re.search(r'<html lang="([a-z]+)">', page).group(1)


def make_hub(context, language: str) -> dict[str, object]:
    """A group with a post, a comment, a held message; a moderator who is also an admin; tokens for every link."""
    with context.session_scope() as session:
        mona = accounts.create_user(session, "mona@plein.test", "Mona Mulder")
        mona.is_admin, mona.language = True, language
        bram = accounts.create_user(session, "bram@plein.test", "Bram Bos")
        tuin = groups.create_group(session, "tuin", "Tuinclub")
        membership = groups.add_member(session, tuin, mona)
        groups.add_member(session, tuin, bram)
        moderation.set_moderator(session, tuin, mona)
        post = posts.create_post(session, tuin, mona, "Compost", "Wie heeft er een kruiwagen?")
        reply = posts.create_comment(session, post, bram, "Ik, morgen.", original_text="Ik, morgen.\n\n> Wie?")
        own = posts.create_comment(session, post, mona, "Fijn.")
        posts.edit_comment(session, own, mona, "Fijn, dank je.")
        posts.delete_comment(session, posts.create_comment(session, post, mona, "Laat maar."), mona)
        posts.edit_post(session, post, mona, "Compost", "Wie heeft er een kruiwagen voor de #compost?")
        sam = accounts.create_user(session, "sam@plein.test", "Sam Smit")
        posts.create_comment(session, post, sam, "Ik had er een.")
        attachments.attach(session, post, "Kruiwagen.pdf", "application/pdf", b"%PDF-1.4 kruiwagen")
        plan = attachments.attach(session, post, "kruiwagen.pdf", "application/pdf", b"%PDF-1.4 kruiwagen, nieuw")
        document = documents.visible_entries(session, mona, set(), {plan.id})[1][plan.id]
        posts.create_comment(session, post, mona, f"Zie [het plan](/g/tuin/documents/{document})")
        accounts.deactivate(session, sam)
        reactions.react(session, bram, post, "like")
        reactions.react(session, mona, reply, "thanks")
        context.settings.anonymous_key = anonymity.new_key_pair()[1]
        anonymity.set_mode(session, tuin, "moderated")
        secret = posts.create_post(session, tuin, bram, "Geheim", "Niemand weet wie dit schreef.", anonymous=True)
        posts.create_comment(session, secret, mona, "Ik ook niet.", anonymous=True)
        anonymity.record(session, "mona@plein.test", anonymity.REVEAL, f"post {secret.id}", "Klacht")
        moderation.set_policy(session, tuin, posting_policy="moderated")
        submissions.submit_post(session, bram, tuin, "Kruiwagen", "Mag ik hem lenen?")
        film = posts.create_post(session, tuin, mona, "Snoeien", "Zo doe je het.")
        playing = attachments.attach(session, film, "snoeien.mp4", "video/mp4", b"mp4")
        playing.duration_ms, playing.poster_made_at = 65_000, utcnow()
        attachments.attach(session, film, "kapot.webm", "video/webm", b"webm").video_error = videos.UNREADABLE
        personal.post_blog(session, mona, "Mijn moestuin", "Eerste oogst")
        personal.post_status(session, mona, "Aan het zaaien")
        personal.post_status(session, mona, "Kruiwagen gevonden", "tuin")
        personal.post_status(session, bram, "Op zoek naar zaden")
        garden = organisation.department_for_path(session, "Gemeente/Groen")
        bram.department_id, bram.department, bram.manager_id = garden.id, garden.path, mona.id
        mona.department_id, bram.phone, bram.location, bram.languages = garden.id, "+31 6 1234", "Zwolle", "Nederlands"
        photo = attachments.attach(session, post, "kruiwagen.png", "image/png", small_png())
        photo_sizes.make_sizes(session, photo.id)
        photo_sizes.make_sizes(session, attachments.attach(session, post, "kapot.jpg", "image/jpeg", b"kapot").id)
        follows.follow(session, bram, "compost")
        participation.record_view(session, bram, post.id)
        participation.roll_up_day(session, utcnow().date())
        session.flush()
        return {
            "department": garden.id, "photo": photo.id, "secret": secret.id, "document": document,
            "post": post.id, "film": film.id, "comment": reply.id, "own_comment": own.id, "unsubscribe": subscriptions.unsubscribe_token(membership),
            "replies": subscriptions.replies_token(mona), "receipts": receipts.stop_token(mona),
            "edit": receipts.edit_token("post", session.get(Post, post.id)),
            "edit_comment": receipts.edit_token("comment", session.get(Comment, reply.id)),
            "sign_in": signing.sign_expiring(session, "sign-in", bram.id, lifetime_seconds=600),
        }


def walk(context, client: TestClient, csrf: str, made: dict[str, object]) -> dict[str, tuple[int, str]]:
    """Every page of the hub as the client sees it: path (and form) to status and HTML."""
    anonymous = TestClient(create_app(context), headers=client.headers)
    gets = {
        "/": client, "/groups": client, "/?cursor=nonsense": client, "/g/tuin": client, f"/p/{made['post']}": client, f"/p/{made['post']}?reply_to={made['comment']}": client,
        f"/comments/{made['comment']}/original": client, "/people/mona@plein.test": client,
        "/people/bram@plein.test": client, "/search?q=compost": client, "/search?q=compost&kind=nonsense": client,
        "/preferences": client, "/g/tuin/moderation": client, "/admin/inbound": client, "/g/nowhere": client,
        "/p/999999": client, "/sign-in": anonymous, f"/sign-in/{made['sign_in']}": anonymous, "/sign-in/expired": anonymous,
        f"/unsubscribe/{made['unsubscribe']}": anonymous, f"/unsubscribe/replies/{made['replies']}": anonymous,
        f"/unsubscribe/receipts/{made['receipts']}": anonymous, f"/receipts/post/{made['edit']}": anonymous,
        f"/receipts/post/{made['edit']}/undo": anonymous, f"/receipts/comment/{made['edit_comment']}": anonymous,
        "/unsubscribe/not-a-token": anonymous, f"/p/{made['post']}/edit": client, f"/p/{made['post']}/delete": client,
        f"/p/{made['post']}/history": client, f"/comments/{made['own_comment']}/edit": client,
        f"/comments/{made['own_comment']}/delete": client, f"/comments/{made['own_comment']}/history": client,
        "/following": client, "/tags/compost": client, "/tags/12": client,
        "/notifications": client, "/notifications?cursor=9999999999999999-1": client, "/notifications?cursor=later": client,
        "/groups/new": client, "/g/tuin/settings": client, "/invitations/1-2-3": client,
        "/people": client, "/people?letter=B&location=Zwolle": client, "/people?cursor=nonsense": client,
        "/people?department=Nergens": client, "/org": client, f"/org/{made['department']}": client, "/org/999999": client,
        "/people/sam@plein.test": client, "/g/tuin/photos": client, "/g/tuin/photos?page=2": client,
        "/g/tuin/documents": client, "/g/tuin/documents?q=kruiwagen&sort=name&order=asc": client,
        "/g/tuin/documents?q=niets": client, "/g/tuin/documents?sort=nonsense": client,
        f"/g/tuin/documents/{made['document']}": client, "/g/tuin/documents/999999": client,
        f"/p/{made['film']}": client, f"/p/{made['secret']}": client, "/admin/audit": client,
        "/people/mona@plein.test/blog": client, "/people/bram@plein.test/blog": client,
        "/stats": client, "/stats?period=month&group=tuin": client, "/stats?from=gisteren": client,
    }
    seen = {path: (who.get(path).status_code, who.get(path).text) for path, who in gets.items()}
    anonymous_csrf = csrf_of(anonymous.get("/sign-in").text)
    posts_ = {
        "/g/tuin/posts": (client, {"csrf": csrf, "title": "", "body": "x"}),
        f"/p/{made['post']}/comments": (client, {"csrf": csrf, "body": " "}),
        f"/p/{made['post']}/reactions/nonsense": (client, {"csrf": csrf}),
        f"/comments/{made['comment']}/reactions/nonsense": (client, {"csrf": csrf}),
        "/people/mona@plein.test": (client, {"csrf": csrf, "job_title": "x" * 300}),
        "/preferences": (client, {"csrf": csrf, "timezone": "Mars/Olympus", "language": "en"}),
        "/sign-in": (anonymous, {"csrf": anonymous_csrf, "email": "nobody"}),
        f"/receipts/comment/{made['edit_comment']}": (anonymous, {"csrf": anonymous_csrf, "body": " "}),
        f"/unsubscribe/replies/{made['replies']}": (anonymous, {}),
        f"/unsubscribe/receipts/{made['receipts']}": (anonymous, {}),
        f"/receipts/post/{made['edit']}/undo": (anonymous, {"csrf": anonymous_csrf}),
        f"/unsubscribe/{made['unsubscribe']}": (anonymous, {}),
        f"/p/{made['post']}/edit": (client, {"csrf": csrf, "title": " ", "body": "x"}),
        "/following/group/tuin": (client, {"csrf": csrf, "do": "adore"}),
        f"/comments/{made['own_comment']}/edit": (client, {"csrf": csrf, "body": "**Fijn**", "preview": "1"}),
        "/preferences/notifications": (client, {"csrf": csrf, "channel-post": "owl"}),
        "/groups/new": (client, {"csrf": csrf, "slug": "Geen Adres", "name": "Moestuin"}),
        "/g/tuin/settings/members": (client, {"csrf": csrf, "email": "bram@plein.test", "role": "baas"}),
        "/people/mona@plein.test/photo": (client, {"csrf": csrf}),
        f"/attachments/{made['photo']}/caption": (client, {"csrf": csrf, "caption": "x" * 501}),
        "/people/mona@plein.test/blog": (client, {"csrf": csrf, "title": " ", "body": "x"}),
        "/share": (client, {"csrf": csrf, "body": "x" * 501}),
    }
    for path, (who, form) in posts_.items():
        answer = who.post(path, data=form, follow_redirects=False)
        seen[f"POST {path}"] = (answer.status_code, answer.text)
    context.settings.max_attachments = 1
    too_many = [("files", (f"{n}.txt", b"x", "text/plain")) for n in range(2)]
    answer = client.post(f"/p/{made['post']}/comments", data={"csrf": csrf, "body": "x"}, files=too_many)
    seen["POST comment with files"] = (answer.status_code, answer.text)
    return seen


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_page_reads_in_the_readers_language_with_no_english_left_in_dutch(language, context):
    made = make_hub(context, language)
    client, csrf = signed_in_with_csrf(context, "mona@plein.test", headers={"accept-language": language})
    seen = walk(context, client, csrf, made)
    assert len(seen) == 88
    for path, (status, page) in seen.items():
        assert status in (200, 400, 404, 413), (path, status)
        assert lang_of(page) == language, path
        if language == "nl":
            assert english_left(page) == set(), path
    assert "Geef je bericht een titel." in seen["POST /g/tuin/posts"][1] if language == "nl" else True


def test_the_preference_of_a_signed_in_person_comes_before_the_cookie_and_the_browser(context):
    make_hub(context, "nl")
    client, _ = signed_in_with_csrf(context, "mona@plein.test", headers={"accept-language": "en"})
    client.cookies.set("plein_language", "en")
    assert lang_of(client.get("/").text) == "nl"


@pytest.mark.parametrize(("cookie", "accept", "expected"), [
    ("", "nl-NL,nl;q=0.9,en;q=0.8", "nl"),
    ("", "nl-BE", "nl"),
    ("", "de-DE, en;q=0.5, nl;q=0.4", "en"),
    ("nl", "en", "nl"),
    ("en", "nl", "en"),
    ("klingon", "nl", "nl"),
    ("", "", "en"),
    ("", "fr, de;q=0.8", "en"),
])
def test_a_visitor_gets_the_cookies_language_else_the_browsers_else_the_default(cookie, accept, expected, context):
    client = TestClient(create_app(context), headers={"accept-language": accept} if accept else {})
    if cookie:
        client.cookies.set("plein_language", cookie)
    assert lang_of(client.get("/sign-in").text) == expected


@pytest.mark.parametrize("variable", ["PLEIN_DEFAULT_LANGUAGE", "PLEIN_LANGUAGE"])
def test_the_installations_default_language_is_set_by_its_setting_or_the_older_name(variable, data_dir, monkeypatch):
    monkeypatch.setenv(variable, "nl")
    context = hub_context(data_dir)
    page = TestClient(create_app(context)).get("/sign-in")
    assert lang_of(page.text) == "nl" and "Aanmelden bij Plein" in page.text
    with context.session_scope() as session:
        assert accounts.create_user(session, "new@plein.test", "New").language == "nl"
    context.close()


def test_the_footer_switch_sets_a_visitors_cookie_and_returns_to_the_same_page(context):
    client = TestClient(create_app(context), headers={"accept-language": "en"})
    page = client.get("/sign-in")
    assert '<button class="link" type="submit" name="language" value="nl" lang="nl">Nederlands</button>' in page.text
    answer = client.post("/language", data={"csrf": csrf_of(page.text), "language": "nl", "back": "/sign-in?x=1"},
                         follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in?x=1")
    assert lang_of(client.get("/sign-in").text) == "nl"


def test_the_footer_switch_changes_a_signed_in_persons_language_for_pages_and_mail(context):
    made = make_hub(context, "en")
    client, csrf = signed_in_with_csrf(context, "mona@plein.test")
    answer = client.post("/language", data={"csrf": csrf, "language": "nl", "back": f"/p/{made['post']}"},
                         follow_redirects=False)
    assert answer.headers["location"] == f"/p/{made['post']}"
    assert lang_of(client.get(f"/p/{made['post']}").text) == "nl"
    with context.session_scope() as session:
        assert accounts.get_user(session, "mona@plein.test").language == "nl"


@pytest.mark.parametrize("back", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_the_footer_switch_returns_only_to_a_page_of_this_hub(back, context):
    client = TestClient(create_app(context))
    answer = client.post("/language", data={"csrf": csrf_of(client.get("/sign-in").text), "language": "nl",
                                            "back": back}, follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_the_footer_switch_refuses_a_language_plein_does_not_speak_and_a_missing_csrf_token(context):
    client = TestClient(create_app(context))
    csrf = csrf_of(client.get("/sign-in").text)
    assert client.post("/language", data={"csrf": csrf, "language": "fr"}).status_code == 400
    assert client.post("/language", data={"language": "nl"}).status_code == 403


def test_a_service_error_in_the_api_is_answered_in_the_readers_language_in_the_same_shape(context):
    with context.session_scope() as session:
        token = accounts.create_api_token(session, accounts.create_user(session, "ann@plein.test", "Ann"))
    client = TestClient(create_app(context), headers={"authorization": f"Bearer {token}", "accept-language": "nl"})
    assert client.get("/api/groups/nowhere/posts").json() == {"detail": "geen groep nowhere"}
