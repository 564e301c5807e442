"""Searches served over real HTTP take turns; every other request goes straight through."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hub.web.app import TURN_TAKING_PATHS, create_app
from search.turns import SearchTurns
from tests.support.servers import free_port, wait_for


class Searches:
    """A stand-in for searching that holds on until released, counting how many run at once."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def search(self, request) -> PlainTextResponse:  # a plain function: Starlette runs it on a worker thread
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.release.wait(10)
        with self._lock:
            self.running -= 1
        return PlainTextResponse("found")


@pytest.fixture
def served():
    searches = Searches()
    app = Starlette(routes=[
        Route("/search", searches.search),
        Route("/other", lambda request: PlainTextResponse("other")),
    ])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        SearchTurns(app, paths={"/search"}, at_once=2), host="127.0.0.1", port=port, log_level="warning"
    ))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10, what="the test server")
    yield searches, f"http://127.0.0.1:{port}"
    searches.release.set()
    server.should_exit = True
    thread.join(10)


def test_searches_beyond_their_turns_wait_while_other_requests_go_through(served):
    searches, url = served
    answers = []
    clients = [
        threading.Thread(target=lambda: answers.append(httpx.get(f"{url}/search", timeout=20).status_code))
        for _ in range(5)
    ]
    for client in clients:
        client.start()
    wait_for(lambda: searches.running == 2, timeout=10, what="two searches under way")
    assert httpx.get(f"{url}/other", timeout=5).text == "other", "only the named paths take turns"
    time.sleep(0.3)  # the other three have arrived by now; they wait for a turn
    assert searches.running == 2
    searches.release.set()
    for client in clients:
        client.join(20)
    assert answers == [200] * 5 and searches.most == 2


def test_a_process_needs_at_least_one_turn():
    with pytest.raises(ValueError, match="at_once must be 1 or more"):
        SearchTurns(Starlette(), paths={"/search"}, at_once=0)


@pytest.mark.parametrize("search_url, turns", [("", 3), ("http://indexer:8001", None)])
def test_the_web_hub_searches_plein_searches_at_once_at_a_time_unless_the_indexer_does(context, search_url, turns):
    context.settings.searches_at_once, context.settings.search_url = 3, search_url
    taking_turns = [m.kwargs for m in create_app(context).user_middleware if m.cls is SearchTurns]
    assert taking_turns == ([{"paths": TURN_TAKING_PATHS, "at_once": turns}] if turns else [])
