"""A former colleague over the wire: `plein user deactivate`, then real mail through Plein's SMTP server."""

from __future__ import annotations

import pytest

from hub.services.outbox import FORMER_COLLEAGUE
from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import inbound_status, mail, send, wait_for_post
from tests.support.servers import PleinServer, wait_for


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Company:
    """Alice, Bob and Frank in Engineering, each getting every post by mail; Frank has left."""
    server = PleinServer(tmp_path_factory.mktemp("former") / "data")
    people = {"alice": "Alice Aalders", "bob": "Bob Bos", "frank": "Frank Fokker"}
    outputs = server.cli_batch(
        ["db", "upgrade"],
        *(["user", "add", f"{name}@example.com", "--name", full_name] for name, full_name in people.items()),
        ["group", "create", "engineering", "--name", "Engineering"],
        *(["group", "add-member", "engineering", f"{name}@example.com", "--delivery", "each"] for name in people),
        ["token", "create", "alice@example.com"],
        ["user", "deactivate", "frank@example.com"],
    )
    assert outputs[-1].startswith("frank@example.com is deactivated")
    server.start()
    yield Company(server, {"alice": outputs[-2].strip()})
    server.stop()


def test_mail_from_a_former_colleague_is_refused_and_mail_to_the_group_skips_them(company: Company):
    from_frank = mail("frank", company.address("engineering"), "Nog even dit", "Mijn laatste tip.")
    send(company, from_frank)
    [(status, reason)] = wait_for(
        lambda: [row for row in inbound_status(company, from_frank["Message-ID"]) if row[0] != "received"],
        what="the refusal",
    )
    assert (status, reason) == ("refused", "sender frank@example.com belongs to a former colleague")

    send(company, mail("alice", company.address("engineering"), "Afscheid van Frank", "Taart om drie uur."))
    wait_for_post(company, "engineering", "Afscheid van Frank")
    wait_for(lambda: company.server.mail_to("bob@example.com"), what="Bob's copy of the post")
    assert company.server.mail_to("frank@example.com") == []
    assert company.server.query(
        "SELECT status, last_error FROM outgoing_mail WHERE recipient = ?", "frank@example.com"
    ) == [("failed", FORMER_COLLEAGUE)]
    posts = company.server.api(company.tokens["alice"], "/api/groups/engineering/posts").json()["posts"]
    assert "Nog even dit" not in [p["title"] for p in posts]
