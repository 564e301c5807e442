"""A group's library (issue 19, documents): every file shared in a group, once per name with its versions, found,
sorted and paged; a link to a document shown as a card to those who may see it, and to no one else.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from hub.db import upgrade_database
from hub.models import Attachment, Post
from hub.services import accounts, attachments, documents, follows, groups, inbound, posts
from hub.settings import Settings
from tests.support.web import csrf_of, signed_in

PLAN_1 = b"%PDF-1.4 plan, first draft\n"
PLAN_2 = b"%PDF-1.4 plan, second draft, longer\n"
PLAN_3 = b"%PDF-1.4 plan, final, the longest of the three\n"


def mail(subject: str, files: dict[str, bytes], **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <alice@example.com>", "engineering@plein.test", subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Zie bijlage.")
    for filename, data in files.items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return message


def receive(context, message: EmailMessage) -> None:
    """As the SMTP hook and then the worker do, each in a transaction of its own."""
    with context.session_scope() as session:
        stored = inbound.store_inbound(session, message.as_bytes(), "alice@example.com", ["engineering@plein.test"])
    with context.session_scope() as session:
        assert inbound.process_inbound(session, stored.id).status.value == "posted"


@pytest.fixture
def company(context):
    """Alice and Bob in Engineering (public); Alice alone in Board (private); Carol in no group."""
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        bob = accounts.create_user(session, "bob@example.com", "Bob")
        accounts.create_user(session, "carol@example.com", "Carol")
        engineering = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, engineering, alice, "none")
        groups.add_member(session, engineering, bob, "none")
        groups.add_member(session, groups.create_group(session, "board", "Board", private=True), alice, "none")


def share(context, group: str, title: str, files: dict[str, bytes | tuple[bytes, str]], author="alice@example.com"):
    """A post in `group` with `files` (data, or data and type), made as the web does; its id."""
    with context.session_scope() as session:
        post = posts.create_post(
            session, groups.get_group(session, group), accounts.get_user(session, author), title, "Zie bijlage."
        )
        for name, data in files.items():
            data, content_type = data if isinstance(data, tuple) else (data, "application/pdf")
            attachments.attach(session, post, name, content_type, data)
        return post.id


def library_of(context, group: str = "engineering", **options) -> documents.Library:
    with context.session_scope() as session:
        found = documents.library(session, groups.get_group(session, group), **options)
        return [(e.current.filename, e.versions) for e in found.entries], found.total, found.pages


def document_id_of(context, filename: str) -> int:
    with context.session_scope() as session:
        attachment = session.query(Attachment).filter_by(filename=filename).order_by(Attachment.id.desc()).first()
        return documents.visible_entries(
            session, accounts.get_user(session, "alice@example.com"), set(), {attachment.id}
        )[1][attachment.id]


def test_a_file_with_the_name_of_one_shared_before_by_mail_or_on_the_web_is_its_newest_version(context, company):
    first = mail("Het plan", {"Plan.PDF": PLAN_1})
    receive(context, first)
    receive(context, mail("Re: Het plan", {"plan.pdf": PLAN_2}, In_Reply_To=first["Message-ID"]))
    alice = signed_in(context, "alice@example.com")
    posted = alice.post(
        "/g/engineering/posts",
        data={"csrf": csrf_of(alice.get("/g/engineering").text), "title": "Definitief"},
        files=[("files", ("PLAN.pdf", PLAN_3, "application/pdf"))],
    )
    assert posted.status_code == 200

    assert library_of(context) == ([("PLAN.pdf", 3)], 1, 1)
    page = alice.get(f"/g/engineering/documents/{document_id_of(context, 'PLAN.pdf')}")
    assert page.status_code == 200
    assert [m for m in re.findall(r'/attachments/\d+/([^"]+)"', page.text)] == [
        "PLAN.pdf",
        "PLAN.pdf",
        "plan.pdf",
        "Plan.PDF",  # the download button, then every version, newest first
    ]
    assert "in Definitief" in page.text and "in Het plan" in page.text and "Alice" in page.text
    assert "3 versions" in page.text
    library = alice.get("/g/engineering/documents").text
    assert "PLAN.pdf" in library and "3 versions" in library and "PDF" in library and "Definitief" in library


def test_a_name_in_another_group_a_photo_and_a_part_shown_inside_a_mail_are_not_versions(context, company):
    share(context, "engineering", "Foto's", {"image.jpg": (b"a", "image/jpeg")})
    share(context, "engineering", "Meer foto's", {"image.jpg": (b"b", "image/jpeg")})
    share(context, "board", "Het plan", {"plan.pdf": PLAN_1})
    share(context, "engineering", "Het plan", {"plan.pdf": PLAN_2})
    with context.session_scope() as session:
        post = session.get(Post, share(context, "engineering", "Logo", {}))
        attachments.attach(session, post, "image001.png", "image/png", b"logo", content_id="<logo@example.com>")

    assert sorted(library_of(context)[0]) == [("image.jpg", 1), ("image.jpg", 1), ("plan.pdf", 1)]
    assert library_of(context, "board")[0] == [("plan.pdf", 1)]


def test_when_the_post_of_the_latest_version_is_deleted_the_one_before_is_current_again(context, company):
    share(context, "engineering", "Eerste", {"plan.pdf": PLAN_1})
    second = share(context, "engineering", "Tweede", {"plan.pdf": PLAN_2})
    document_id = document_id_of(context, "plan.pdf")

    with context.session_scope() as session:
        posts.delete_post(session, session.get(Post, second), accounts.get_user(session, "alice@example.com"))

    with context.session_scope() as session:
        found = documents.get_document(session, accounts.get_user(session, "bob@example.com"), document_id)
        assert [(v.size, v.post.title) for v in found.versions] == [(len(PLAN_1), "Eerste")]
    assert library_of(context) == ([("plan.pdf", 1)], 1, 1)

    with context.session_scope() as session:
        first = session.query(Post).filter_by(title="Eerste").one()
        posts.delete_post(session, first, accounts.get_user(session, "alice@example.com"))
    assert library_of(context) == ([], 0, 1)
    assert signed_in(context, "bob@example.com").get(f"/g/engineering/documents/{document_id}").status_code == 404
    assert share(context, "engineering", "Opnieuw", {"Plan.pdf": PLAN_3})
    assert document_id_of(context, "Plan.pdf") == document_id  # its links work again


def test_a_deleted_comment_takes_its_version_with_it(context, company):
    first = mail("Het plan", {"plan.pdf": PLAN_1})
    receive(context, first)
    receive(context, mail("Re: Het plan", {"plan.pdf": PLAN_2}, In_Reply_To=first["Message-ID"]))
    with context.session_scope() as session:
        comment = session.query(Post).one().comments[0]
        posts.delete_comment(session, comment, accounts.get_user(session, "alice@example.com"))

    with context.session_scope() as session:
        entry = documents.library(session, groups.get_group(session, "engineering")).entries[0]
        assert (entry.versions, entry.current.size, entry.author.name) == (1, len(PLAN_1), "Alice")


def test_the_library_finds_by_name_and_extracted_text_sorts_both_ways_and_pages(context, company):
    for n in range(27):
        share(context, "engineering", f"Post {n}", {f"rapport-{n:02}.docx": (b"x" * (100 + (n * 37) % 11), "")})
    share(context, "engineering", "Notulen", {"notulen_2026.pdf": PLAN_1})
    with context.session_scope() as session:
        session.query(Attachment).filter_by(filename="rapport-03.docx").one().extracted_text = "De begroting voor 2027"

    assert library_of(context) == (
        [("notulen_2026.pdf", 1)] + [(f"rapport-{n:02}.docx", 1) for n in range(26, 2, -1)],
        28,
        2,
    )
    assert library_of(context, page=2)[0] == [(f"rapport-{n:02}.docx", 1) for n in range(2, -1, -1)]
    assert library_of(context, sort="name", order="asc")[0][:2] == [("notulen_2026.pdf", 1), ("rapport-00.docx", 1)]
    assert library_of(context, sort="name", order="desc")[0][0] == ("rapport-26.docx", 1)
    by_size = library_of(context, sort="size", order="asc", page=1)[0] + library_of(context, sort="size", page=2)[0]
    assert by_size[0] == ("notulen_2026.pdf", 1)
    assert library_of(context, q="BEGROTING") == ([("rapport-03.docx", 1)], 1, 1)
    assert library_of(context, q="n_2026") == ([("notulen_2026.pdf", 1)], 1, 1)
    assert library_of(context, q="n_0")[1] == library_of(context, q="%")[1] == 0  # characters here, not wildcards
    assert library_of(context, q="rapport-1")[1] == 10

    alice = signed_in(context, "alice@example.com")
    page = alice.get("/g/engineering/documents", params={"sort": "name", "order": "asc", "page": 2})
    assert page.status_code == 200 and "rapport-25.docx" in page.text and "notulen" not in page.text
    assert "Word document" in page.text and "Page 2 of 2" in page.text
    assert 'href="?q=&amp;sort=name&amp;order=asc&amp;page=1"' in page.text
    bad = alice.get("/g/engineering/documents", params={"sort": "colour"})
    assert bad.status_code == 400 and "sort must be one of date, name, size" in bad.text


def test_the_api_lists_a_groups_documents_and_one_document_with_its_versions(context, company):
    share(context, "engineering", "Eerste", {"plan.pdf": PLAN_1})
    share(context, "engineering", "Tweede", {"Plan.pdf": PLAN_2, "begroting.xlsx": (b"x" * 3000, "")})
    with context.session_scope() as session:
        token = accounts.create_api_token(session, accounts.get_user(session, "bob@example.com"))
    api = signed_in(context, "bob@example.com")
    headers = {"Authorization": f"Bearer {token}"}

    listed = api.get("/api/groups/engineering/documents", params={"sort": "size"}, headers=headers).json()

    assert (listed["total"], listed["pages"], listed["sort"]) == (2, 1, "size")
    [spreadsheet, plan] = listed["documents"]
    assert (spreadsheet["current"]["kind"], spreadsheet["current"]["size"], spreadsheet["versions"]) == (
        "excel",
        3000,
        1,
    )
    assert (plan["current"]["filename"], plan["versions"], plan["current"]["author"]["name"]) == (
        "Plan.pdf",
        2,
        "Alice",
    )
    assert plan["current"]["thread_title"] == "Tweede"
    one = api.get(
        plan["url"].split("/g/", 1)[0] + "/api/groups/engineering/documents/" + str(plan["id"]), headers=headers
    ).json()
    assert [v["filename"] for v in one["versions"]] == ["Plan.pdf", "plan.pdf"]
    assert api.get(urlsplit(one["versions"][1]["download_url"]).path).content == PLAN_1
    assert api.get("/api/groups/engineering/documents", params={"order": "up"}, headers=headers).status_code == 400


def test_a_non_member_learns_nothing_of_a_private_groups_documents(context, company):
    share(context, "board", "Reorganisatie", {"reorganisatie.pdf": PLAN_1})
    document_id = document_id_of(context, "reorganisatie.pdf")
    with context.session_scope() as session:
        token = accounts.create_api_token(session, accounts.get_user(session, "carol@example.com"))
    carol = signed_in(context, "carol@example.com")
    headers = {"Authorization": f"Bearer {token}"}

    def main(path: str) -> tuple[int, str]:
        answer = carol.get(path)
        return answer.status_code, re.search(r"<main.*</main>", answer.text, re.DOTALL).group(0)

    for path in ("/g/board/documents", f"/g/board/documents/{document_id}"):
        assert "reorganisatie" not in carol.get(path).text.lower()
    assert (
        main("/g/board/documents")
        == main("/g/board")
        == (404, main("/g/no-such-group")[1].replace("no-such-group", "board"))
    )
    assert main(f"/g/board/documents/{document_id}") == main(f"/g/board/documents/{document_id + 1}")[:1] + (
        main(f"/g/board/documents/{document_id + 1}")[1].replace(str(document_id + 1), str(document_id)),
    )
    assert main(f"/g/engineering/documents/{document_id}")[0] == 404
    for path in ("/api/groups/board/documents", f"/api/groups/board/documents/{document_id}"):
        answer = carol.get(path, headers=headers)
        assert answer.status_code == 404 and "reorganisatie" not in answer.text.lower()
    alice = signed_in(context, "alice@example.com")
    assert "reorganisatie.pdf" in alice.get(f"/g/board/documents/{document_id}").text


def test_a_link_to_a_document_shows_as_a_card_only_to_those_who_may_see_it(context, company):
    share(context, "board", "Reorganisatie", {"reorganisatie.pdf": PLAN_1})
    share(context, "engineering", "Het plan", {"plan.pdf": PLAN_1})
    share(context, "engineering", "Het plan, weer", {"plan.pdf": PLAN_2})
    secret, plan = document_id_of(context, "reorganisatie.pdf"), document_id_of(context, "plan.pdf")
    with context.session_scope() as session:
        first_plan = session.query(Attachment).filter_by(filename="plan.pdf").order_by(Attachment.id).first().id
        alice = accounts.get_user(session, "alice@example.com")
        body = (
            f"Zie http://hub.plein.test/g/board/documents/{secret} en "
            f"[het plan](http://hub.plein.test/g/engineering/documents/{plan}), "
            f"ook [de eerste versie](/attachments/{first_plan}/plan.pdf) "
            f"maar niet http://elsewhere.test/g/engineering/documents/{plan}."
        )
        post = posts.create_post(session, groups.get_group(session, "engineering"), alice, "Links", body)
        post_id = post.id
    context.settings.base_url = "http://hub.plein.test"

    seen_by_alice = signed_in(context, "alice@example.com").get(f"/p/{post_id}").text
    seen_by_bob = signed_in(context, "bob@example.com").get(f"/p/{post_id}").text

    cards = re.findall(r'<a class="document-card" href="([^"]+)">(.*?)</a>', seen_by_alice, re.DOTALL)
    assert [href for href, _ in cards] == [
        f"/g/board/documents/{secret}",
        f"/g/engineering/documents/{plan}",
        f"/g/engineering/documents/{plan}",
    ]
    assert "reorganisatie.pdf" in cards[0][1] and "PDF" in cards[0][1] and "Board" in cards[0][1]
    assert "plan.pdf" in cards[1][1] and "Engineering" in cards[1][1] and "latest of 2 versions" in cards[1][1]
    assert f'href="http://elsewhere.test/g/engineering/documents/{plan}"' in seen_by_alice
    assert len(re.findall('class="document-card"', seen_by_bob)) == 2
    assert "reorganisatie" not in seen_by_bob.lower() and "Board" not in seen_by_bob
    assert f'<a href="http://hub.plein.test/g/board/documents/{secret}" rel="nofollow noopener">' in seen_by_bob


def test_beside_each_file_on_the_post_page_is_which_version_it_is_linked_to_the_documents_page(context, company):
    first = share(context, "engineering", "Eerste", {"plan.pdf": PLAN_1, "los.pdf": b"%PDF-1.4 alone\n"})
    second = share(context, "engineering", "Tweede", {"Plan.pdf": PLAN_2})
    with context.session_scope() as session:
        post = session.get(Post, second)
        comment = posts.create_comment(session, post, accounts.get_user(session, "bob@example.com"), "Nieuwste")
        attachments.attach(session, post, "PLAN.pdf", "application/pdf", PLAN_3, comment=comment)
    document = document_id_of(context, "PLAN.pdf")
    link = rf'<a href="/g/engineering/documents/{document}">version (\d) of 3</a>'
    bob = signed_in(context, "bob@example.com")
    assert re.findall(link, bob.get(f"/p/{first}").text) == ["1"]
    assert re.findall(link, bob.get(f"/p/{second}").text) == ["2", "3"]
    assert "of 1</a>" not in bob.get(f"/p/{first}").text and "los.pdf" in bob.get(f"/p/{first}").text
    with context.session_scope() as session:
        found = documents.versions_of(session, session.get(Post, first).attachments)
        assert [(v.number, v.count) for v in found.values()] == [(1, 3)]


def test_a_non_member_sees_no_version_of_a_private_groups_file(context, company):
    secret = share(context, "board", "Geheim", {"plan.pdf": PLAN_1})
    share(context, "board", "Geheimer", {"plan.pdf": PLAN_2})
    carol = signed_in(context, "carol@example.com")
    assert carol.get(f"/p/{secret}").status_code == 404
    assert "version" not in carol.get(f"/p/{secret}").text


def cards_in(page: str) -> list[tuple[str, str]]:
    """The document cards on `page`: where each links and the file it names."""
    return re.findall(r'<a class="document-card" href="([^"]+)"><span class="document-card-name">([^<]+)<', page)


def test_the_feed_and_the_groups_thread_list_show_the_documents_a_post_or_comment_carries(context, company):
    first = share(context, "engineering", "Het plan", {"plan.pdf": PLAN_1, "foto.jpg": (b"not read", "image/jpeg")})
    second = share(context, "engineering", "Nieuwe versie", {"Plan.pdf": PLAN_2})
    with context.session_scope() as session:
        bob = accounts.get_user(session, "bob@example.com")
        comment = posts.create_comment(session, session.get(Post, first), bob, "Mijn begroting")
        attachments.attach(session, comment.post, "begroting.xlsx", "application/octet-stream", b"PK", comment=comment)
    plan, budget = document_id_of(context, "Plan.pdf"), document_id_of(context, "begroting.xlsx")
    alice = signed_in(context, "alice@example.com")
    assert cards_in(alice.get("/").text) == [
        (f"/g/engineering/documents/{budget}", "begroting.xlsx"),
        (f"/g/engineering/documents/{plan}", "Plan.pdf"),
        (f"/g/engineering/documents/{plan}", "Plan.pdf"),
    ]
    threads = alice.get("/g/engineering").text
    assert cards_in(threads) == [(f"/g/engineering/documents/{plan}", "Plan.pdf")] * 2
    card = threads.index('class="document-card"')
    assert threads.index(f'href="/p/{first}"') < card < threads.index(f'href="/p/{second}"')  # under its own thread
    assert "foto.jpg" not in threads and "latest of 2 versions" in threads


def test_the_documents_of_a_page_of_items_take_as_many_queries_for_six_items_as_for_one(context, company):
    ids = [share(context, "engineering", f"Post {n}", {f"file{n}.pdf": PLAN_1}) for n in range(6)]
    with context.session_scope() as session:
        alice = accounts.get_user(session, "alice@example.com")
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(session.get_bind(), "before_cursor_execute", listen)
        try:
            one = documents.carried(session, alice, ids[:1], ())
            few = len(statements)
            many = documents.carried(session, alice, ids, ())
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listen)
        assert len(one) == 1 and len(many) == 6 and len(statements) - few == few


def test_no_card_of_a_private_groups_document_reaches_a_non_member(context, company):
    secret = share(context, "board", "Geheim", {"fusie.pdf": PLAN_1})
    with context.session_scope() as session:
        bob = accounts.get_user(session, "bob@example.com")
        follows.follow(session, bob, accounts.get_user(session, "alice@example.com"))
        assert documents.carried(session, bob, [secret], ()) == {}
        assert documents.carried(session, accounts.get_user(session, "alice@example.com"), [secret], ())
    bob_page = signed_in(context, "bob@example.com").get("/").text
    assert "fusie" not in bob_page and 'class="document-card"' not in bob_page


@pytest.fixture
def on_postgresql(postgres, data_dir, monkeypatch):
    """PostgreSQL for the hub's `context`, which reads `PLEIN_DATABASE_URL` as it is built after this."""
    monkeypatch.setenv("PLEIN_DATABASE_URL", postgres.fresh_database("documents"))
    upgrade_database(Settings(data_dir=data_dir))


def test_on_postgresql_versions_are_filed_found_and_sorted_alike(on_postgresql, context, company):
    assert context.engine.dialect.name == "postgresql"
    share(context, "engineering", "Eerste", {"Plan.pdf": PLAN_1, "Begroting.xlsx": (b"x" * 5000, "")})
    share(context, "engineering", "Tweede", {"plan.PDF": PLAN_2, "image.jpg": (b"a", "image/jpeg")})
    share(context, "engineering", "Derde", {"image.jpg": (b"b", "image/jpeg")})

    assert library_of(context, sort="name", order="asc")[0] == [
        ("Begroting.xlsx", 1),
        ("image.jpg", 1),
        ("image.jpg", 1),
        ("plan.PDF", 2),
    ]
    assert library_of(context, sort="size")[0][0] == ("Begroting.xlsx", 1)
    assert library_of(context, q="PLAN") == ([("plan.PDF", 2)], 1, 1)
    assert library_of(context, q="%")[1] == 0
