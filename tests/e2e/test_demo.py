"""`plein run --demo`: the first thing a newcomer starts is alive, shows what Plein does, and the index can be rebuilt."""

from __future__ import annotations

import re

import httpx

from tests.support.servers import PleinServer, links_in, text_of, wait_for

_tokens: dict[tuple[int, str], str] = {}


def token(demo: PleinServer, name: str) -> str:
    """An API token of `name`@, made once per server: each `plein` command takes seconds to start."""
    key = (id(demo), name)
    if key not in _tokens:
        _tokens[key] = demo.cli("token", "create", f"{name}@plein.localhost").stdout.strip()
    return _tokens[key]


def search(demo: PleinServer, name: str, q: str, **params: str) -> list[dict]:
    return demo.api(token(demo, name), "/api/search", q=q, **params).json()["results"]


def signed_in(demo: PleinServer, email: str) -> httpx.Client:
    """A browser session for `email`, signed in through the link Plein mails."""

    def csrf_of(page: httpx.Response) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def sign_in_mail(message) -> bool:
        return "/sign-in/" in text_of(message)

    client = httpx.Client(base_url=demo.base_url, timeout=10)
    client.post("/sign-in", data={"email": email, "csrf": csrf_of(client.get("/sign-in"))})
    message = wait_for(lambda: demo.mail_to(email, sign_in_mail), what=f"the sign-in mail to {email}")[0]
    [link] = [url for url in links_in(text_of(message)) if "/sign-in/" in url]
    assert client.post(link, data={"csrf": csrf_of(client.get(link))}).status_code == 303
    return client


def test_demo_company_has_people_groups_and_a_thread_with_replies_and_an_attachment(demo):
    anna = token(demo, "anna")
    groups = {g["slug"]: g for g in demo.api(anna, "/api/groups").json()}
    assert groups["engineering"]["private"] is False
    assert groups["board"]["private"] is True

    posts = demo.api(anna, "/api/groups/engineering/posts").json()["posts"]
    thread = demo.api(anna, f"/api/posts/{posts[-1]['id']}").json()
    assert len(thread["comments"]) >= 3
    assert any(c["parent_id"] for c in thread["comments"])
    assert thread["attachments"][0]["filename"].endswith(".docx")

    bram = token(demo, "bram")
    assert "board" not in [g["slug"] for g in demo.api(bram, "/api/groups").json()]


def test_demo_people_have_profiles_and_people_search_finds_them_by_expertise(demo):
    profile = demo.api(token(demo, "chloe"), "/api/people/bram@plein.localhost").json()
    assert profile["job_title"] == "Monteur glasvezel" and profile["department"] and profile["bio"]
    assert "otdr" in profile["expertise"]
    found = wait_for(lambda: search(demo, "chloe", "OTDR", kind="person"), what="people indexed")
    assert found[0]["url"].endswith("/people/bram@plein.localhost")


def test_the_moderator_of_news_finds_a_mail_waiting_in_its_queue(demo):
    queue = signed_in(demo, "sanne@plein.localhost").get("/g/news/moderation")
    assert queue.status_code == 200
    for shown in ("Hoograven is live", "Bram Jansen", "News is moderated", "420 huishoudens"):
        assert shown in queue.text


def test_pdf_docx_text_and_image_attachments_are_there_and_the_documents_are_found(demo):
    anna = token(demo, "anna")
    attachments = [
        attachment
        for group in ("engineering", "board")
        for post in demo.api(anna, f"/api/groups/{group}/posts").json()["posts"]
        for attachment in demo.api(anna, f"/api/posts/{post['id']}").json()["attachments"]
    ]
    assert {a["content_type"].split(";")[0] for a in attachments} >= {
        "application/pdf", "text/plain", "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    for word, filename in (
        ("lasverlies", "otdr-meetrapport-hgv12.pdf"), ("buigradius", "glasvezel-veldhandleiding.docx"),
        ("gasp", "olt-utrecht-oost-alarms.txt"),
    ):
        titles = wait_for(lambda: [r["title"] for r in search(demo, "tom", word, kind="document")], what=word)
        assert filename in titles


def test_a_reply_came_in_by_mail_trimmed_with_its_full_message_kept(demo):
    anna = token(demo, "anna")
    [otdr] = [p for p in demo.api(anna, "/api/groups/engineering/posts").json()["posts"] if "OTDR" in p["title"]]
    comments = demo.api(anna, f"/api/posts/{otdr['id']}").json()["comments"]
    [mailed] = [c for c in comments if c["author"]["email"] == "bram@plein.localhost"]
    assert mailed["parent_id"] and mailed["body_text"].startswith("Klopt, het was las 4")
    assert "schreef" not in mailed["body_text"] and "telefoon" not in mailed["body_text"]

    original = signed_in(demo, "anna@plein.localhost").get(f"/comments/{mailed['id']}/original")
    assert "schreef Chloé Martin" in original.text and "Verzonden vanaf mijn telefoon" in original.text


def test_a_member_on_daily_delivery_has_a_digest_waiting(demo, tmp_path):
    preview = demo.cli("digest", "preview", "chloe@plein.localhost", "--output", str(tmp_path / "digest.html"))
    if "Nothing new" in preview.stdout:  # an hour struck during the test, and the digest went out
        assert demo.mail_to("chloe@plein.localhost", lambda m: "new posts" in m["Subject"])
    else:
        assert "new posts" in preview.stdout
        assert "Nieuwe ONT" in (tmp_path / "digest.html").read_text()


def test_no_one_outside_the_board_sees_anything_of_it(demo):
    anna, bram = token(demo, "anna"), token(demo, "bram")
    wait_for(lambda: search(demo, "anna", "investeringsplan"), what="the board indexed")
    assert "board" not in [g["slug"] for g in demo.api(bram, "/api/groups").json()]
    assert demo.api(bram, "/api/groups/board/posts").status_code == 404
    [q3] = demo.api(anna, "/api/groups/board/posts").json()["posts"]
    assert demo.api(bram, f"/api/posts/{q3['id']}").status_code == 404
    for query in ("investeringsplan", "aandeelhoudersvergadering", "Q3-cijfers"):
        assert [r for r in search(demo, "anna", query) if r["group"] == "board"], query
        assert not [r for r in search(demo, "bram", query) if r["group"] == "board" or r["post_id"] == q3["id"]], query


def test_reindex_rebuilds_the_index_from_the_database(demo):
    anna = token(demo, "anna")
    wait_for(  # the comment is indexed at once, the manual once the extraction lane has read it
        lambda: {r["kind"] for r in demo.api(anna, "/api/search", q="klikreiniger").json()["results"]}
        >= {"comment", "document"},
        what="the demo indexed, its manual read",
    )
    before = demo.api(anna, "/api/search", q="klikreiniger").json()

    result = demo.cli("reindex")
    assert "Indexed" in result.stdout and "done" in result.stdout
    assert demo.api(anna, "/api/search", q="klikreiniger").json() == before
    assert {r["kind"] for r in before["results"]} >= {"comment", "document"}


def test_starting_the_demo_again_seeds_nothing_twice(demo):
    counted = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)"
    before = demo.query(counted)
    demo.stop()
    demo.start("--demo")
    assert demo.query(counted) == before
