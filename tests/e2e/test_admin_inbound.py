"""The inbound quarantine on the web: admins see refused and failed mail, read it raw, and retry it."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_mail_commands import outcome
from tests.e2e.test_mail_to_hub import mail, send
from tests.e2e.test_web_hub import csrf_of, signed_in
from tests.support.servers import wait_for


@pytest.fixture(scope="module")
def admin(company: Company) -> httpx.Client:
    company.server.cli("user", "add", "ada@example.com", "--name", "Ada Admin", "--admin")
    return signed_in(company, "ada@example.com")


@pytest.fixture(scope="module")
def colleague(company: Company) -> httpx.Client:
    return signed_in(company, "carol@example.com")


def refused_mail(company: Company, sender: str, subject: str) -> int:
    message = mail(sender, company.address("engineering"), subject, "<script>alert('hi')</script> Tekst")
    send(company, message)
    [(status, _)] = outcome(company, message["Message-ID"])
    assert status == "refused"
    [(inbound_id,)] = company.server.query(
        "SELECT id FROM inbound_messages WHERE message_id = ?", message["Message-ID"].strip("<>")
    )
    return inbound_id


def test_admins_see_refused_and_quarantined_mail_with_the_reason(company: Company, admin):
    refused = refused_mail(company, "mallory", "Gratis glasvezel")
    failed = refused_mail(company, "mallory", "Kapot bericht")
    company.server.query(  # as the worker records it after its last retry failed
        "UPDATE inbound_messages SET status = 'failed', reason = 'processing failed: disk full' WHERE id = ? RETURNING id", failed
    )
    page = admin.get("/admin/inbound")
    assert page.status_code == 200
    quarantine, refusals = page.text.split("<h2>Refused")
    assert f'id="inbound-{failed}"' in quarantine and "processing failed: disk full" in quarantine
    assert f'id="inbound-{refused}"' in refusals
    assert "sender mallory@example.com is not a user of this hub" in refusals
    assert f'href="/admin/inbound/{refused}/raw"' in page.text


def test_the_raw_message_is_shown_as_plain_text(company: Company, admin):
    inbound_id = refused_mail(company, "mallory", "Ruwe tekst")
    raw = admin.get(f"/admin/inbound/{inbound_id}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert "Subject: Ruwe tekst" in raw.text
    assert "<script>alert('hi')</script>" in raw.text


def test_retry_processes_the_message_again_once_the_cause_is_fixed(company: Company, admin):
    inbound_id = refused_mail(company, "quinten", "Nieuwe collega")
    company.server.cli("user", "add", "quinten@example.com", "--name", "Quinten Quist")
    company.server.cli("group", "add-member", "engineering", "quinten@example.com")
    page = admin.get("/admin/inbound")
    retried = admin.post(f"/admin/inbound/{inbound_id}/retry", data={"csrf": csrf_of(page)})
    assert retried.status_code == 303
    assert "is queued for processing again" in admin.get(retried.headers["location"]).text
    wait_for(
        lambda: company.server.query("SELECT status FROM inbound_messages WHERE id = ?", inbound_id) == [("posted",)],
        what="the retried message to be posted",
    )
    assert company.server.query("SELECT title FROM posts WHERE inbound_id = ?", inbound_id) == [("Nieuwe collega",)]


def test_retry_without_the_form_token_is_refused(company: Company, admin):
    inbound_id = refused_mail(company, "mallory", "Zonder token")
    assert admin.post(f"/admin/inbound/{inbound_id}/retry", data={"csrf": "forged"}).status_code == 403
    assert company.server.query("SELECT status FROM inbound_messages WHERE id = ?", inbound_id) == [("refused",)]


def test_the_admin_pages_do_not_exist_for_anyone_else(company: Company, colleague):
    inbound_id = refused_mail(company, "mallory", "Niet voor jou")
    assert colleague.get("/admin/inbound").status_code == 404
    assert colleague.get(f"/admin/inbound/{inbound_id}/raw").status_code == 404
    token = csrf_of(colleague.get("/preferences"))
    assert colleague.post(f"/admin/inbound/{inbound_id}/retry", data={"csrf": token}).status_code == 404


def test_plein_user_admin_grants_and_revokes_the_admin_pages(company: Company):
    company.server.cli("user", "add", "gert@example.com", "--name", "Gert Grift")
    assert company.server.cli("user", "admin", "gert@example.com").stdout.strip() == "gert@example.com is an admin"
    gert = signed_in(company, "gert@example.com")
    assert gert.get("/admin/inbound").status_code == 200
    company.server.cli("user", "admin", "gert@example.com", "--revoke")
    assert gert.get("/admin/inbound").status_code == 404
