"""Anonymous posting over the wire (issue 20): a real `plein run`, mail to `voice+anonymous@` through its SMTP
server, `plein anonymous reveal` with the private key, and the pages it touches in headless Chromium at both
widths with axe-core: the group's settings, the composer with "Post anonymously", the anonymous post and
/admin/audit."""

from __future__ import annotations

import pytest

from hub.services import anonymity
from tests.e2e.conftest import Company, make_server
from tests.e2e.test_first_pages import look_at
from tests.e2e.test_mail_to_hub import mail, send, wait_for_post
from tests.support.browser import chromium, sign_in_by_mail
from tests.support.servers import wait_for


@pytest.fixture(scope="module", params=["embedded", "production"])
def company(request, tmp_path_factory) -> Company:
    """Alice (an admin), Bob and Anna in Voice, which takes anonymous posts; Anna's complaint came in by mail. On
    SQLite, and on PostgreSQL with every role a process of its own."""
    private, public = anonymity.new_key_pair()
    key_file = tmp_path_factory.mktemp("keys") / "anonymous.key"
    key_file.write_text(private)
    server = make_server(request, tmp_path_factory, anonymous_key=public)
    people = {"alice": "Alice Aalders", "bob": "Bob Bos", "anna": "Anna Anoniem"}
    outputs = server.cli_batch(
        ["db", "upgrade"],
        *(["user", "add", f"{name}@example.com", "--name", full_name] for name, full_name in people.items()),
        ["user", "admin", "alice@example.com"],
        ["group", "create", "voice", "--name", "Voice"],
        ["group", "edit", "voice", "--anonymous", "on"],
        *(["group", "add-member", "voice", f"{name}@example.com", "--delivery", "each"] for name in people),
        ["token", "create", "alice@example.com"],
    )
    assert outputs[len(people) + 3].strip().endswith("anonymous on"), outputs
    server.start()
    try:
        company = Company(server, {"alice": outputs[-1].strip()})
        send(company, mail("anna", company.address("voice+anonymous"), "Werkdruk", "De werkdruk is te hoog."))
        company.post = wait_for_post(company, "voice", "Werkdruk")
        company.revealed = server.cli("anonymous", "reveal", "post", str(company.post["id"]), "--reason",
                                      "Melding HR", "--key-file", str(key_file), "--by", "alice@example.com").stdout
        yield company
    finally:
        server.stop()


def test_mail_to_the_anonymous_address_is_posted_and_mailed_as_anonymous(company: Company):
    assert company.post["author"] == {"name": "Anonymous", "email": "", "former_colleague": False, "anonymous": True}
    [to_bob] = wait_for(lambda: company.server.mail_to("bob@example.com"), what="Bob's copy of the post")
    assert to_bob["From"] == "Anonymous via Voice <voice@plein.localhost>"
    assert "anna" not in to_bob.as_string().lower()


def test_revealing_is_a_command_with_the_private_key_that_lands_in_the_audit_log(company: Company):
    assert company.revealed.strip() == f"post {company.post['id']} was written by Anna Anoniem <anna@example.com>"
    assert "Melding HR" in company.server.cli("audit", "list").stdout


def test_the_pages_at_both_widths(company: Company, tmp_path):
    server = company.server
    with chromium() as browser:
        page = browser.new_page()
        sign_in_by_mail(page, server, "alice@example.com")

        page.goto(f"{server.base_url}/p/{company.post['id']}")
        byline = page.locator("article > p.muted").first
        assert "Anonymous" in byline.inner_text()
        assert "Anna" not in page.content()
        page.get_by_label("Comment anonymously").check()
        look_at(page, "anonymous-post", tmp_path)

        page.goto(f"{server.base_url}/g/voice")
        page.get_by_label("Post anonymously").check()
        look_at(page, "anonymous-composer", tmp_path)

        page.goto(f"{server.base_url}/g/voice/settings")
        assert page.get_by_label("On: members may post and comment anonymously").is_checked()
        page.get_by_label("Moderated: members may post and comment anonymously; a moderator approves each, "
                          "without seeing who wrote it").check()
        page.get_by_role("button", name="Save").first.click()
        assert page.get_by_role("status").inner_text() == "Saved."
        look_at(page, "anonymous-group-settings", tmp_path)

        page.goto(f"{server.base_url}/admin/audit")
        assert "Melding HR" in page.content() and "Anna" not in page.content()
        look_at(page, "admin-audit", tmp_path)
