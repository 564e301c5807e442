"""Search served by the indexer over real HTTP answers exactly what the index answers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from search import IndexedItem
from search.index import SearchIndex
from search.remote import RemoteSearchIndex, SearchUnavailable, serve_app
from tests.support.servers import free_port, wait_for


def item(kind: str, id: int, group_id: int, title: str, body: str) -> IndexedItem:
    return IndexedItem(
        kind=kind, id=id, post_id=id, group_id=group_id, title=title, body=body,
        author_name="Anna", author_email="anna@example.com", created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def served():
    index = SearchIndex.in_memory()
    index.upsert([
        item("post", 1, 1, "Glasvezel in Utrecht", "De lasser meet het signaal van de glasvezel."),
        item("post", 2, 1, "Glasvezel in Zwolle", "Ook hier ligt glasvezel in de grond."),
        item("post", 3, 2, "Geheim glasvezelplan", "Alleen voor het bestuur."),
    ])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(serve_app(index, "secret", searches_at_once=2), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10, what="the index service")
    yield index, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_remote_search_suggest_and_related_equal_the_local_answers(served):
    index, url = served
    remote = RemoteSearchIndex(url, "secret")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert remote.search("glasvezel", {1}, now=now) == index.search("glasvezel", {1}, now=now)
    assert remote.search("glasvezel", [1, 2], kind="post", limit=1, offset=1, now=now) == index.search(
        "glasvezel", {1, 2}, kind="post", limit=1, offset=1, now=now
    )
    assert remote.suggest("glas", {1}) == index.suggest("glas", {1})
    assert remote.related(1, {1}) == index.related(1, {1})
    hiding_the_board = remote.search("glasvezel", {1}, hidden_group_ids={2}, now=now)
    assert hiding_the_board == index.search("glasvezel", {1}, hidden_group_ids={2}, now=now)
    assert {hit.id for hit in hiding_the_board.hits} == {1, 2}
    assert remote.suggest("geheim", {1}, hidden_group_ids=[2]) == []


def test_the_index_service_refuses_callers_without_the_token(served):
    _, url = served
    response = httpx.post(f"{url}/index/search", json={"query": "x", "visible_group_ids": [1]})
    assert response.status_code == 401
    with pytest.raises(SearchUnavailable):
        RemoteSearchIndex(url, "wrong").search("glasvezel", {1})


def test_an_unreachable_index_service_is_reported_as_unavailable():
    with pytest.raises(SearchUnavailable, match="did not answer"):
        RemoteSearchIndex(f"http://127.0.0.1:{free_port()}", "secret").search("glasvezel", {1})


def test_only_read_methods_are_served(served):
    _, url = served
    response = httpx.post(f"{url}/index/rebuild", json={}, headers={"Authorization": "Bearer secret"})
    assert response.status_code == 404
