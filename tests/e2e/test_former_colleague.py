"""A former colleague over the wire: `plein user deactivate` on a running Plein, then real mail through its
SMTP server, and their post as a colleague reads it in headless Chromium at both widths."""

from __future__ import annotations

import pytest

from hub.services.outbox import FORMER_COLLEAGUE
from tests.e2e.conftest import Company
from tests.e2e.test_first_pages import look_at
from tests.e2e.test_mail_to_hub import inbound_status, mail, send, wait_for_post
from tests.support.browser import chromium, sign_in_by_mail
from tests.support.servers import PleinServer, wait_for


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Company:
    """Alice, Bob and Frank in Engineering, each getting every post by mail; Frank posted, then left."""
    server = PleinServer(tmp_path_factory.mktemp("former") / "data")
    people = {"alice": "Alice Aalders", "bob": "Bob Bos", "frank": "Frank Fokker"}
    outputs = server.cli_batch(
        ["db", "upgrade"],
        *(["user", "add", f"{name}@example.com", "--name", full_name] for name, full_name in people.items()),
        ["group", "create", "engineering", "--name", "Engineering"],
        *(["group", "add-member", "engineering", f"{name}@example.com", "--delivery", "each"] for name in people),
        ["token", "create", "alice@example.com"],
    )
    server.start()
    company = Company(server, {"alice": outputs[-1].strip()})
    send(company, mail("frank", company.address("engineering"), "Overdracht", "Alles staat in de map."))
    wait_for_post(company, "engineering", "Overdracht")
    assert server.cli("user", "deactivate", "frank@example.com").stdout.startswith("frank@example.com is deactivated")
    yield company
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
    assert company.server.mail_to("frank@example.com", lambda m: "Afscheid" in m["Subject"]) == []
    assert company.server.query(
        "SELECT status, last_error FROM outgoing_mail WHERE recipient = ? AND key LIKE 'post:%'", "frank@example.com"
    ) == [("failed", FORMER_COLLEAGUE)]
    posts = company.server.api(company.tokens["alice"], "/api/groups/engineering/posts").json()["posts"]
    assert "Nog even dit" not in [p["title"] for p in posts]


def test_a_colleague_sees_the_former_colleagues_post_under_their_name_marked_at_both_widths(company: Company, tmp_path):
    server = company.server
    with chromium() as browser:
        page = browser.new_page()
        sign_in_by_mail(page, server, "alice@example.com")
        post = wait_for_post(company, "engineering", "Overdracht")
        page.goto(f"{server.base_url}/p/{post['id']}")
        byline = page.locator("article > p.muted").first
        assert "Frank Fokker" in byline.inner_text() and byline.locator(".badge").inner_text() == "former colleague"
        look_at(page, "former-colleague-post", tmp_path)
        page.goto(f"{server.base_url}/people/frank@example.com")
        assert page.get_by_role("heading").first.inner_text().endswith("former colleague")
        look_at(page, "former-colleague-profile", tmp_path)
