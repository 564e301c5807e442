"""Posting, editing and deleting over the API of a real `plein run`, as a phone app would, with search following.

Alice posts a manual with its file, edits it (readers see the history), Bob's comment is deleted
and leaves its mark, and Alice's deleted post leaves search within seconds. Someone outside the
private Board changes nothing there and learns nothing of it.
"""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Company
from tests.support.servers import wait_for


def call(company: Company, who: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {company.tokens[who]}"}
    return httpx.request(method, company.server.base_url + path, headers=headers, timeout=20, **kwargs)


def found(company: Company, who: str, query: str) -> list[str]:
    answer = call(company, who, "GET", "/api/search", params={"q": query})
    return [r["title"] for r in answer.json()["results"]] if answer.status_code == 200 else ["(search not ready)"]


def test_a_post_made_over_the_api_with_a_file_is_edited_with_history_and_deleted_out_of_search(company: Company):
    made = call(
        company, "alice", "POST", "/api/groups/engineering/posts",
        data={"title": "Montagehandleiding", "body": "De draaischijf zit in bijlage."},
        files=[("files", ("draaischijf.txt", b"Draaischijf: eerst de bouten losdraaien.", "text/plain"))],
    )
    assert made.status_code == 201, made.text
    post = made.json()
    assert [a["filename"] for a in post["attachments"]] == ["draaischijf.txt"]
    wait_for(lambda: found(company, "bob", "draaischijf kind:post") == ["Montagehandleiding"], what="the post in search")

    edited = call(company, "alice", "PATCH", f"/api/posts/{post['id']}", json={"body": "De kantelschijf zit in bijlage."})
    assert edited.status_code == 200 and edited.json()["edited_at"]
    history = call(company, "bob", "GET", f"/api/posts/{post['id']}/history").json()["revisions"]
    assert [r["body_text"] for r in history] == ["De draaischijf zit in bijlage."]
    wait_for(lambda: found(company, "bob", "kantelschijf kind:post") == ["Montagehandleiding"], what="the edit in search")
    assert call(company, "bob", "PATCH", f"/api/posts/{post['id']}", json={"body": "Van Bob"}).status_code == 403

    comment = call(company, "bob", "POST", f"/api/posts/{post['id']}/comments", json={"body": "Welke momentsleutel?"})
    assert comment.status_code == 201
    assert call(company, "bob", "DELETE", f"/api/comments/{comment.json()['id']}").status_code == 204
    thread = call(company, "alice", "GET", f"/api/posts/{post['id']}").json()["comments"]
    assert [(c["body_text"], c["removed"]) for c in thread] == [("", True)]

    assert call(company, "alice", "DELETE", f"/api/posts/{post['id']}").status_code == 204
    assert call(company, "bob", "GET", f"/api/posts/{post['id']}").status_code == 404
    wait_for(lambda: found(company, "bob", "kantelschijf") == [], timeout=10, what="the deleted post to leave search")
    assert found(company, "bob", "draaischijf") == []


def test_someone_outside_a_private_group_neither_changes_nor_learns_of_its_posts(company: Company):
    secret = call(company, "dave", "POST", "/api/groups/board/posts", json={"title": "Begroting", "body": "Geheim"})
    assert secret.status_code == 201
    missing = secret.json()["id"] + 10_000

    for method, suffix, body in [("PATCH", "", {"body": "x"}), ("DELETE", "", None), ("GET", "/history", None),
                                 ("POST", "/comments", {"body": "x"})]:
        hidden = call(company, "alice", method, f"/api/posts/{secret.json()['id']}{suffix}", json=body)
        absent = call(company, "alice", method, f"/api/posts/{missing}{suffix}", json=body)
        assert (hidden.status_code, absent.status_code) == (404, 404), (method, suffix)
    assert call(company, "alice", "POST", "/api/groups/board/posts", json={"title": "x", "body": "y"}).status_code == 404
    assert call(company, "dave", "GET", f"/api/posts/{secret.json()['id']}").json()["body_text"] == "Geheim"
