"""`plein run --demo`: the first thing a newcomer starts is alive, and the index can be rebuilt."""

from __future__ import annotations

import pytest

from tests.support.servers import PleinServer, wait_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = PleinServer(tmp_path_factory.mktemp("demo") / "data")
    server.start("--demo")
    yield server
    server.stop()


def test_demo_company_has_people_groups_and_a_thread_with_replies_and_an_attachment(demo):
    anna = demo.cli("token", "create", "anna@plein.localhost").stdout.strip()
    groups = {g["slug"]: g for g in demo.api(anna, "/api/groups").json()}
    assert groups["engineering"]["private"] is False
    assert groups["board"]["private"] is True

    posts = demo.api(anna, "/api/groups/engineering/posts").json()["posts"]
    thread = demo.api(anna, f"/api/posts/{posts[-1]['id']}").json()
    assert len(thread["comments"]) >= 3
    assert any(c["parent_id"] for c in thread["comments"])
    assert thread["attachments"][0]["filename"].endswith(".docx")

    bram = demo.cli("token", "create", "bram@plein.localhost").stdout.strip()
    assert "board" not in [g["slug"] for g in demo.api(bram, "/api/groups").json()]


def test_reindex_rebuilds_the_index_from_the_database(demo):
    anna = demo.cli("token", "create", "anna@plein.localhost").stdout.strip()
    wait_for(lambda: demo.api(anna, "/api/search", q="klikreiniger").json()["total"], what="the demo indexed")
    before = demo.api(anna, "/api/search", q="klikreiniger").json()

    result = demo.cli("reindex")
    assert "Indexed" in result.stdout and "done" in result.stdout
    assert demo.api(anna, "/api/search", q="klikreiniger").json() == before
    assert {r["kind"] for r in before["results"]} >= {"comment", "document"}
