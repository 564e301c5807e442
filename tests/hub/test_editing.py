"""Authors edit and delete their own posts and comments, and post over the API (issue 17).

Over the API: `POST /api/groups/{slug}/posts` and `/api/posts/{id}/comments` under the web's
posting policy and limits, `PATCH`/`DELETE` of posts and comments with their history. Only the
author may change an item (403 for another reader), and a private group's items are as missing
(404) to whoever is not in it.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.models import Attachment, Comment, HeldMessage, Post, Revision
from hub.services import accounts, groups, index_writer, moderation, posts, searching
from hub.web.app import create_app
from tests.support.web import csrf_of, signed_in


@pytest.fixture
def company(context):
    """Alice and Bob in public Engineering and private Board, Carol in neither; an API client for each."""
    with context.session_scope() as session:
        people = {n: accounts.create_user(session, f"{n}@example.com", n.title()) for n in ("alice", "bob", "carol")}
        engineering = groups.create_group(session, "engineering", "Engineering")
        board = groups.create_group(session, "board", "Board", private=True)
        for group in (engineering, board):
            groups.add_member(session, group, people["alice"])
            groups.add_member(session, group, people["bob"])
        tokens = {n: accounts.create_api_token(session, user) for n, user in people.items()}
    app = create_app(context)
    return {n: TestClient(app, headers={"authorization": f"Bearer {t}"}) for n, t in tokens.items()}


def search_titles(context, email: str, query: str) -> list[str]:
    index_writer.flush(context)
    with context.session_scope() as session:
        reader = accounts.get_user(session, email)
        return [r.hit.title for r in searching.search(session, reader, query).results]


def test_a_member_posts_over_the_api_with_a_file_and_gets_the_post_as_get_shows_it(context, company):
    made = company["alice"].post(
        "/api/groups/engineering/posts",
        data={"title": "Storing lift B", "body": "De handleiding zit erbij."},
        files=[("files", ("handleiding.pdf", b"%PDF-1.4 manual", "application/pdf"))],
    )

    assert made.status_code == 201, made.text
    post = made.json()
    assert post == company["alice"].get(f"/api/posts/{post['id']}").json()
    assert (post["title"], post["body_text"], post["author"]["email"]) == (
        "Storing lift B", "De handleiding zit erbij.", "alice@example.com"
    )
    assert [(a["filename"], a["size"]) for a in post["attachments"]] == [("handleiding.pdf", 15)]
    assert made.headers["location"].endswith(f"/p/{post['id']}")


def test_a_post_and_a_comment_made_with_json_are_answered_with_201(context, company):
    post = company["bob"].post("/api/groups/engineering/posts", json={"title": "Koffie", "body": "Op?"})
    assert post.status_code == 201 and post.json()["attachments"] == []

    comment = company["alice"].post(f"/api/posts/{post.json()['id']}/comments", json={"body": "Ik haal."})
    assert comment.status_code == 201, comment.text
    answer = company["bob"].post(
        f"/api/posts/{post.json()['id']}/comments", data={"body": "Dank!", "parent_id": str(comment.json()["id"])}
    )
    assert answer.status_code == 201 and answer.json()["parent_id"] == comment.json()["id"]
    thread = company["bob"].get(f"/api/posts/{post.json()['id']}").json()["comments"]
    assert [(c["body_text"], c["removed"], c["edited_at"]) for c in thread] == [
        ("Ik haal.", False, None), ("Dank!", False, None),
    ]


def test_creating_over_the_api_follows_the_posting_policy(context, company):
    refused = company["carol"].post("/api/groups/engineering/posts", json={"title": "Hoi", "body": "Mag ik?"})
    assert refused.status_code == 403 and "Only members post to Engineering" in refused.json()["detail"]
    assert company["carol"].post("/api/groups/board/posts", json={"title": "Hoi", "body": "x"}).status_code == 404
    assert company["alice"].post("/api/groups/engineering/posts", json={"title": " ", "body": "x"}).status_code == 400
    assert company["alice"].post("/api/groups/engineering/posts", content=b"{", headers={
        "content-type": "application/json"}).status_code == 400

    with context.session_scope() as session:
        moderation.set_policy(session, groups.get_group(session, "engineering"), "moderated")
    held = company["bob"].post("/api/groups/engineering/posts", json={"title": "Wacht", "body": "Even."})

    assert held.status_code == 202
    assert held.json()["status"] == "held" and held.json()["group"] == "engineering"
    with context.session_scope() as session:
        assert session.get(HeldMessage, held.json()["held_id"]).subject == "Wacht"
        assert session.query(Post).filter_by(title="Wacht").count() == 0


def test_more_files_than_a_mail_may_carry_are_refused_with_413_and_nothing_is_posted(context, company):
    files = [("files", (f"{n}.txt", b"x", "text/plain")) for n in range(context.settings.max_attachments + 1)]

    refused = company["alice"].post("/api/groups/engineering/posts", data={"title": "Veel", "body": "x"}, files=files)

    assert refused.status_code == 413 and "Too many files" in refused.json()["detail"]
    with context.session_scope() as session:
        assert session.query(Post).count() == 0
    assert not list((context.settings.data_dir / "uploads").glob(".upload-*"))


def test_a_comment_over_the_api_carries_files_as_a_post_does(context, company):
    """Issue 19 lifted issue 17's rule that a comment takes text only (tests/hub/test_comment_files.py)."""
    post = company["alice"].post("/api/groups/engineering/posts", json={"title": "Koffie", "body": "Op?"}).json()
    made = company["bob"].post(
        f"/api/posts/{post['id']}/comments", data={"body": "Foto"}, files=[("files", ("a.png", b"png", "image/png"))]
    )
    assert made.status_code == 201 and [a["filename"] for a in made.json()["attachments"]] == ["a.png"]


def test_the_author_edits_a_post_and_everyone_who_may_see_it_sees_its_history(context, company):
    post = company["alice"].post("/api/groups/engineering/posts", json={"title": "Planning", "body": "Maandag"}).json()

    edited = company["alice"].patch(f"/api/posts/{post['id']}", json={"body": "Dinsdag"})

    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["body_text"]) == ("Planning", "Dinsdag")
    assert edited.json()["edited_at"] is not None
    history = company["carol"].get(f"/api/posts/{post['id']}/history").json()["revisions"]
    assert [(r["title"], r["body_text"], r["editor"]["email"]) for r in history] == [
        ("Planning", "Maandag", "alice@example.com")
    ]
    assert search_titles(context, "bob@example.com", "dinsdag") == ["Planning"]
    assert search_titles(context, "bob@example.com", "maandag") == []


def test_the_author_edits_a_comment_and_its_history_keeps_what_it_said(context, company):
    post = company["alice"].post("/api/groups/engineering/posts", json={"title": "Koffie", "body": "Op?"}).json()
    comment = company["bob"].post(f"/api/posts/{post['id']}/comments", json={"body": "Ik haal."}).json()

    edited = company["bob"].patch(f"/api/comments/{comment['id']}", json={"body": "Ik haal thee."})

    assert edited.status_code == 200 and edited.json()["body_text"] == "Ik haal thee."
    history = company["alice"].get(f"/api/comments/{comment['id']}/history").json()["revisions"]
    assert [(r["title"], r["body_text"]) for r in history] == [(None, "Ik haal.")]
    assert company["bob"].patch(f"/api/comments/{comment['id']}", json={"body": " "}).status_code == 400


def test_an_edit_that_changes_nothing_leaves_no_history(context, company):
    post = company["alice"].post("/api/groups/engineering/posts", json={"title": "Planning", "body": "Maandag"}).json()
    company["alice"].patch(f"/api/posts/{post['id']}", json={"title": "Planning", "body": "Maandag"})
    assert company["alice"].get(f"/api/posts/{post['id']}/history").json() == {"revisions": []}


def test_someone_else_may_not_edit_or_delete_and_gets_403(context, company):
    post = company["alice"].post("/api/groups/engineering/posts", json={"title": "Planning", "body": "Maandag"}).json()
    comment = company["alice"].post(f"/api/posts/{post['id']}/comments", json={"body": "Klopt."}).json()

    for client in (company["bob"], company["carol"]):
        assert client.patch(f"/api/posts/{post['id']}", json={"body": "Van mij"}).status_code == 403
        assert client.delete(f"/api/posts/{post['id']}").status_code == 403
        assert client.patch(f"/api/comments/{comment['id']}", json={"body": "Van mij"}).status_code == 403
        assert client.delete(f"/api/comments/{comment['id']}").status_code == 403
    with context.session_scope() as session:
        assert session.get(Post, post["id"]).body_text == "Maandag"
        assert session.get(Comment, comment["id"]).body_text == "Klopt."


def test_a_private_groups_items_are_as_missing_to_someone_outside_it(context, company):
    post = company["alice"].post("/api/groups/board/posts", json={"title": "Begroting", "body": "Geheim"}).json()
    comment = company["alice"].post(f"/api/posts/{post['id']}/comments", json={"body": "Ook geheim"}).json()
    missing = post["id"] + comment["id"] + 100

    carol = company["carol"]
    for method, path, body in [
        ("PATCH", "/api/posts/{}", {"body": "x"}), ("DELETE", "/api/posts/{}", None),
        ("GET", "/api/posts/{}/history", None), ("POST", "/api/posts/{}/comments", {"body": "x"}),
    ]:
        hidden = carol.request(method, path.format(post["id"]), json=body)
        absent = carol.request(method, path.format(missing), json=body)
        assert (hidden.status_code, absent.status_code) == (404, 404), path
        assert hidden.json()["detail"].replace(str(post["id"]), "N") == absent.json()["detail"].replace(str(missing), "N")
    for method, body in [("PATCH", {"body": "x"}), ("DELETE", None), ("GET", None)]:
        suffix = "/history" if method == "GET" else ""
        assert carol.request(method, f"/api/comments/{comment['id']}{suffix}", json=body).status_code == 404
    parent_elsewhere = company["bob"].post("/api/groups/engineering/posts", json={"title": "Open", "body": "x"}).json()
    assert carol.post(
        f"/api/posts/{parent_elsewhere['id']}/comments", json={"body": "x", "parent_id": comment["id"]}
    ).status_code == 404


def test_a_deleted_comment_stays_as_removed_by_its_author_with_the_answers_under_it(context, company):
    post = company["alice"].post("/api/groups/engineering/posts", json={"title": "Wijkkast", "body": "Sleutel?"}).json()
    comment = company["bob"].post(f"/api/posts/{post['id']}/comments", json={"body": "Ik heb de sleutelbos"}).json()
    company["bob"].patch(f"/api/comments/{comment['id']}", json={"body": "Ik heb de sleutelbos van Oost"})
    answer = company["alice"].post(
        f"/api/posts/{post['id']}/comments", json={"body": "Top", "parent_id": comment["id"]}
    ).json()
    assert search_titles(context, "alice@example.com", "sleutelbos") == ["Re: Wijkkast"]

    assert company["bob"].delete(f"/api/comments/{comment['id']}").status_code == 204

    thread = company["alice"].get(f"/api/posts/{post['id']}").json()["comments"]
    assert [(c["id"], c["body_text"], c["removed"]) for c in thread] == [
        (comment["id"], "", True), (answer["id"], "Top", False),
    ]
    assert company["alice"].get(f"/api/comments/{comment['id']}/history").json() == {"revisions": []}
    assert search_titles(context, "alice@example.com", "sleutelbos") == []
    assert company["bob"].patch(f"/api/comments/{comment['id']}", json={"body": "terug"}).status_code == 400
    with context.session_scope() as session:
        assert session.query(Revision).count() == 0


def test_a_deleted_post_takes_its_thread_and_files_and_leaves_search(context, company):
    post = company["alice"].post(
        "/api/groups/engineering/posts", data={"title": "Lasapparatuur", "body": "Handleiding"},
        files=[("files", ("lassen.pdf", b"%PDF-1.4 lassen", "application/pdf"))],
    ).json()
    company["bob"].post(f"/api/posts/{post['id']}/comments", json={"body": "Dank"})
    company["alice"].patch(f"/api/posts/{post['id']}", json={"title": "Lasapparatuur B"})
    assert search_titles(context, "bob@example.com", "lasapparatuur kind:post") == ["Lasapparatuur B"]

    assert company["alice"].delete(f"/api/posts/{post['id']}").status_code == 204

    assert company["alice"].get(f"/api/posts/{post['id']}").status_code == 404
    assert search_titles(context, "bob@example.com", "lasapparatuur kind:post") == []
    with context.session_scope() as session:
        assert session.query(Comment).count() == session.query(Attachment).count() == 0
        assert session.query(Revision).count() == 0


def test_creating_over_the_api_needs_a_token(context, company):
    anonymous = TestClient(create_app(context))
    assert anonymous.post("/api/groups/engineering/posts", json={"title": "a", "body": "b"}).status_code == 401
    assert anonymous.delete("/api/posts/1").status_code == 401


def web_thread(context) -> tuple[int, int]:
    """Alice's post in Engineering with Bob's comment on it; their ids."""
    with context.session_scope() as session:
        alice, bob = accounts.get_user(session, "alice@example.com"), accounts.get_user(session, "bob@example.com")
        post = posts.create_post(session, groups.get_group(session, "engineering"), alice, "Planning", "Maandag")
        return post.id, posts.create_comment(session, post, bob, "Ik kan maandag.").id


def test_the_author_sees_edit_and_delete_on_their_own_items_only(context, company):
    post_id, comment_id = web_thread(context)

    alice, bob = signed_in(context, "alice@example.com"), signed_in(context, "bob@example.com")

    page = alice.get(f"/p/{post_id}").text
    assert f'href="/p/{post_id}/edit"' in page and f'href="/p/{post_id}/delete"' in page
    assert f'href="/comments/{comment_id}/edit"' not in page
    page = bob.get(f"/p/{post_id}").text
    assert f'href="/p/{post_id}/edit"' not in page and f'href="/comments/{comment_id}/edit"' in page
    for path in (f"/p/{post_id}/edit", f"/p/{post_id}/delete"):
        assert bob.get(path).status_code == 403
        assert bob.post(path, data={"csrf": csrf_of(page), "title": "Van Bob", "body": "x"}).status_code == 403
    with context.session_scope() as session:
        assert session.get(Post, post_id).title == "Planning"


def test_the_author_edits_a_post_on_the_web_and_readers_see_it_was_edited_and_how(context, company):
    post_id, _ = web_thread(context)
    alice = signed_in(context, "alice@example.com")
    form = alice.get(f"/p/{post_id}/edit")
    assert form.status_code == 200 and 'value="Planning"' in form.text and ">Maandag</textarea>" in form.text

    empty = alice.post(f"/p/{post_id}/edit", data={"csrf": csrf_of(form.text), "title": " ", "body": "Dinsdag"})
    assert empty.status_code == 400 and "a post needs a title and some text" in empty.text and "Dinsdag" in empty.text
    saved = alice.post(f"/p/{post_id}/edit", data={"csrf": csrf_of(form.text), "title": "Planning", "body": "Dinsdag"})

    assert saved.url.path == f"/p/{post_id}" and "Dinsdag" in saved.text
    assert f'href="/p/{post_id}/history"' in saved.text
    carol = signed_in(context, "carol@example.com")
    history = carol.get(f"/p/{post_id}/history")
    assert history.status_code == 200
    assert history.text.index("Dinsdag") < history.text.index("Maandag") and "Alice</a> edited it on" in history.text
    forged = alice.post(f"/p/{post_id}/edit", data={"csrf": "forged", "title": "x", "body": "y"})
    assert forged.status_code == 403


def test_the_author_edits_a_comment_on_the_web(context, company):
    post_id, comment_id = web_thread(context)
    bob = signed_in(context, "bob@example.com")
    form = bob.get(f"/comments/{comment_id}/edit")
    assert form.status_code == 200 and 'name="title"' not in form.text

    saved = bob.post(f"/comments/{comment_id}/edit", data={"csrf": csrf_of(form.text), "body": "Ik kan dinsdag."})

    assert saved.url.path == f"/p/{post_id}" and "Ik kan dinsdag." in saved.text
    assert f'href="/comments/{comment_id}/history"' in saved.text
    assert "Ik kan maandag." in bob.get(f"/comments/{comment_id}/history").text


def test_deleting_a_comment_on_the_web_asks_first_and_leaves_removed_by_its_author(context, company):
    post_id, comment_id = web_thread(context)
    with context.session_scope() as session:
        alice = accounts.get_user(session, "alice@example.com")
        post = session.get(Post, post_id)
        posts.create_comment(session, post, alice, "Prima, maandag dan.", parent=session.get(Comment, comment_id))
    bob = signed_in(context, "bob@example.com")

    asked = bob.get(f"/comments/{comment_id}/delete")
    assert asked.status_code == 200 and "Delete your comment?" in asked.text
    with context.session_scope() as session:
        assert session.get(Comment, comment_id).removed_at is None, "the GET only asks"
    page = bob.post(f"/comments/{comment_id}/delete", data={"csrf": csrf_of(asked.text)})

    assert page.url.path == f"/p/{post_id}"
    assert "removed by its author" in page.text and "Ik kan maandag." not in page.text
    assert "Prima, maandag dan." in page.text
    assert bob.get(f"/comments/{comment_id}/edit").status_code == 400


def test_deleting_a_post_on_the_web_asks_first_and_takes_the_thread(context, company):
    post_id, comment_id = web_thread(context)
    alice = signed_in(context, "alice@example.com")
    asked = alice.get(f"/p/{post_id}/delete")
    assert asked.status_code == 200 and "Delete your post?" in asked.text

    gone = alice.post(f"/p/{post_id}/delete", data={"csrf": csrf_of(asked.text)})

    assert gone.url.path == "/g/engineering" and "Planning" not in gone.text
    assert alice.get(f"/p/{post_id}").status_code == 404
    with context.session_scope() as session:
        assert session.get(Comment, comment_id) is None


def test_a_private_groups_edit_delete_and_history_pages_are_as_missing_to_someone_outside_it(context, company):
    with context.session_scope() as session:
        alice = accounts.get_user(session, "alice@example.com")
        post = posts.create_post(session, groups.get_group(session, "board"), alice, "Begroting", "Geheim")
        comment = posts.create_comment(session, post, alice, "Ook geheim")
        posts.edit_post(session, post, alice, "Begroting", "Geheimer")
        ids, missing = (post.id, comment.id), post.id + comment.id + 100
    carol = signed_in(context, "carol@example.com")
    csrf = csrf_of(carol.get("/").text)

    for kind, item_id in zip(("p", "comments"), ids, strict=True):
        for page in ("edit", "delete", "history"):
            hidden, absent = carol.get(f"/{kind}/{item_id}/{page}"), carol.get(f"/{kind}/{missing}/{page}")
            assert (hidden.status_code, absent.status_code) == (404, 404), (kind, page)
            assert "Geheim" not in hidden.text and "Begroting" not in hidden.text
        for page in ("edit", "delete"):
            assert carol.post(f"/{kind}/{item_id}/{page}", data={"csrf": csrf, "body": "x"}).status_code == 404
