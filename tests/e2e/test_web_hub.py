"""The web hub as a person uses it: sign in by mailed link, read groups and threads, post, comment, search."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import mail, send, wait_for_post
from tests.support.servers import links_in, text_of, wait_for


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in_mail(message) -> bool:
    """Not the receipts and group mail the same person may get meanwhile."""
    return "/sign-in/" in text_of(message)


def signed_in(company: Company, email: str) -> httpx.Client:
    """A browser session for `email`, signed in through the link Plein mails."""
    client = httpx.Client(base_url=company.server.base_url, timeout=10)
    form = client.get("/sign-in")
    before = len(company.server.mail_to(email, sign_in_mail))
    sent = client.post("/sign-in", data={"email": email, "csrf": csrf_of(form)})
    assert "a sign-in link is on its way" in sent.text
    message = wait_for(lambda: company.server.mail_to(email, sign_in_mail)[before:], what=f"the sign-in mail to {email}")[0]
    [link] = [url for url in links_in(text_of(message)) if "/sign-in/" in url]
    confirm = client.get(link)
    assert confirm.status_code == 200
    done = client.post(link, data={"csrf": csrf_of(confirm)})
    assert done.status_code == 303
    return client


@pytest.fixture(scope="module")
def alice(company: Company) -> httpx.Client:
    return signed_in(company, "alice@example.com")


@pytest.fixture(scope="module")
def carol(company: Company) -> httpx.Client:
    return signed_in(company, "carol@example.com")


def test_anonymous_visitors_are_sent_to_sign_in(company: Company):
    response = httpx.get(company.server.base_url + "/g/engineering")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


def test_a_bad_email_on_the_sign_in_form_gets_a_message_on_the_page(company: Company):
    client = httpx.Client(base_url=company.server.base_url)
    response = client.post("/sign-in", data={"email": "not an address", "csrf": csrf_of(client.get("/sign-in"))})
    assert response.status_code == 400
    assert "Enter the email address you use at work." in response.text


def test_groups_page_lists_visible_groups_and_hides_private_ones(alice, carol, company: Company):
    assert "Engineering" in alice.get("/groups").text
    carols_home = carol.get("/groups")
    assert "Engineering" in carols_home.text
    assert "Board" not in carols_home.text
    assert carol.get("/g/board").status_code == 404


def test_a_thread_reads_on_the_web_with_threaded_comments(alice, company: Company):
    original = mail("alice", company.address("engineering"), "Kabelgoot in hal 3", "Is de goot al vervangen?")
    send(company, original)
    post = wait_for_post(company, "engineering", "Kabelgoot in hal 3")
    group_page = alice.get("/g/engineering")
    assert f'href="/p/{post["id"]}"' in group_page.text

    page = alice.get(f"/p/{post['id']}")
    form = alice.post(
        f"/p/{post['id']}/comments", data={"body": "Ja, vorige week.", "csrf": csrf_of(page)}
    )
    assert form.status_code == 303
    comment_id = int(form.headers["location"].rsplit("-", 1)[1])
    reply = alice.post(
        f"/p/{post['id']}/comments",
        data={"body": "Mooi zo.", "parent_id": str(comment_id), "csrf": csrf_of(page)},
    )
    assert reply.status_code == 303

    thread = alice.get(f"/p/{post['id']}").text
    assert "Is de goot al vervangen?" in thread
    assert thread.index("Ja, vorige week.") < thread.index("Mooi zo.")
    assert re.search(r'id="comment-\d+" style="margin-left: 1.2rem">', thread)


def test_a_form_without_the_csrf_token_is_refused(alice, company: Company):
    response = alice.post("/g/engineering/posts", data={"title": "Zonder token", "body": "x"})
    assert response.status_code == 403
    assert "This form has expired" in response.text


def test_new_post_form_shows_errors_on_the_page_and_keeps_the_text(alice, company: Company):
    page = alice.get("/g/engineering")
    response = alice.post(
        "/g/engineering/posts", data={"title": "", "body": "Mijn tekst", "csrf": csrf_of(page)}
    )
    assert response.status_code == 400
    assert "Give your post a title." in response.text
    assert "Mijn tekst" in response.text

    created = alice.post(
        "/g/engineering/posts",
        data={"title": "Via het web", "body": "Met een bijlage", "csrf": csrf_of(page)},
        files={"files": ("notitie.txt", b"Het wachtwoord van de kast is vlinderslot.", "text/plain")},
    )
    assert created.status_code == 303
    post_page = alice.get(created.headers["location"])
    assert "notitie.txt" in post_page.text
    download = re.search(r'href="(/attachments/\d+/notitie.txt)"', post_page.text).group(1)
    assert alice.get(download).content == b"Het wachtwoord van de kast is vlinderslot."


def test_search_page_finds_documents_and_hides_private_posts(alice, carol, company: Company):
    send(company, mail("dave", company.address("board"), "Geheim budget", "Het codewoord is kanariegeel."))
    wait_for_post(company, "board", "Geheim budget", reader="dave")
    wait_for(
        lambda: "notitie.txt" in alice.get("/search", params={"q": "vlinderslot"}).text, what="the upload in search"
    )
    assert "<b>vlinderslot</b>" in alice.get("/search", params={"q": "vlinderslot", "kind": "document"}).text
    wait_for(
        lambda: company.server.api(company.tokens["dave"], "/api/search", q="kanariegeel").json()["total"],
        what="the private post indexed",
    )
    assert "0 results" in carol.get("/search", params={"q": "kanariegeel"}).text


def test_unsubscribe_link_confirms_on_get_and_acts_on_one_post(company: Company):
    send(company, mail("alice", company.address("engineering"), "Afmeldtest", "Tekst"))
    [post_mail] = wait_for(
        lambda: company.server.mail_to("bob@example.com", lambda m: m["Subject"].endswith("Afmeldtest")),
        what="the post mail to Bob",
    )
    url = re.findall(r"<([^>]+)>", post_mail["List-Unsubscribe"])[0]
    page = httpx.get(url)
    assert "Stop mail from Engineering?" in page.text
    assert company.server.query(
        "SELECT delivery FROM memberships m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id "
        "WHERE u.email = 'bob@example.com' AND g.slug = 'engineering'"
    ) == [("each",)]
    done = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert "Unsubscribed" in done.text
    assert company.server.query(
        "SELECT delivery FROM memberships m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id "
        "WHERE u.email = 'bob@example.com' AND g.slug = 'engineering'"
    ) == [("none",)]
    company.server.cli("group", "add-member", "engineering", "bob@example.com", "--delivery", "each")


def test_a_post_page_links_related_posts_the_reader_may_see(alice, company: Company):
    body = "De ringleiding van het koelwatersysteem lekt bij de pomp; wie heeft een reserve-afdichting?"
    send(company, mail("alice", company.address("engineering"), "Koelwater lekt in Almere", body))
    send(company, mail("alice", company.address("engineering"), "Koelwater lekt in Lelystad", body))
    first = wait_for_post(company, "engineering", "Koelwater lekt in Almere")
    second = wait_for_post(company, "engineering", "Koelwater lekt in Lelystad")
    wait_for(
        lambda: company.server.api(company.tokens["alice"], "/api/search", q="ringleiding").json()["total"] >= 2,
        what="both posts indexed",
    )
    page = alice.get(f"/p/{first['id']}").text
    related = page[page.index("Related posts"):]
    assert f'href="/p/{second["id"]}"' in related


def test_joining_a_group_on_the_web_uses_your_default_delivery_and_leaving_ends_it(carol, company: Company):
    page = carol.get("/preferences")
    saved = carol.post("/preferences", data={
        "csrf": csrf_of(page), "timezone": "Europe/Amsterdam", "digest_hour": "7", "digest_weekday": "0",
        "language": "en", "default_delivery": "weekly",
    })
    assert saved.status_code == 200 and "Saved." in saved.text

    group_page = carol.get("/g/engineering")
    assert "Join Engineering" in group_page.text
    assert carol.post("/g/engineering/join", data={"csrf": csrf_of(group_page)}).status_code == 303
    membership = """SELECT m.delivery FROM memberships m JOIN users u ON u.id = m.user_id
                    JOIN groups g ON g.id = m.group_id WHERE u.email = 'carol@example.com' AND g.slug = 'engineering'"""
    assert company.server.query(membership) == [("weekly",)]

    group_page = carol.get("/g/engineering")
    assert "Leave this group" in group_page.text
    assert carol.post("/g/engineering/leave", data={"csrf": csrf_of(group_page)}).status_code == 303
    assert company.server.query(membership) == []
    assert carol.post("/g/board/join", data={"csrf": csrf_of(group_page)}).status_code == 404
