"""The search page in a real headless Chromium: kinds, facets, highlights, did-you-mean and
suggestions as you type, readable at phone and desktop width."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import mail, send, wait_for_post
from tests.e2e.test_web_hub import signed_in
from tests.support.browser import chromium
from tests.support.servers import wait_for


@pytest.fixture(scope="module")
def page_for_alice(company: Company):
    for town in ("Utrecht", "Zwolle", "Amersfoort"):
        send(company, mail("alice", company.address("engineering"), f"Warmtepomp storing {town}",
                           f"De warmtepomp in {town} geeft foutcode E42 na het ontdooien."))
    wait_for_post(company, "engineering", "Warmtepomp storing Amersfoort")
    wait_for(
        lambda: company.server.api(company.tokens["alice"], "/api/search", q="warmtepomp").json()["total"] >= 3,
        what="the posts indexed",
    )
    session_cookie = signed_in(company, "alice@example.com").cookies["plein_session"]
    with chromium() as browser:
        context = browser.new_context()
        context.add_cookies([{
            "name": "plein_session", "value": session_cookie,
            "domain": urlparse(company.server.base_url).hostname, "path": "/",
        }])
        yield context
        context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_results_show_kinds_facets_and_highlights_without_overflow(page_for_alice, company: Company, width):
    page = page_for_alice.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(company.server.base_url + "/search?q=warmtepomp")
    assert "results for “warmtepomp”" in page.inner_text("main")
    assert page.locator(".result").count() >= 3
    assert page.locator("input[name=kind]").count() == 9
    facets = page.inner_text("aside.facets")
    assert "Kind" in facets and "Group" in facets and "Author" in facets
    assert page.locator(".result .body b").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()


def test_a_typo_offers_did_you_mean(page_for_alice, company: Company):
    page = page_for_alice.new_page()
    page.goto(company.server.base_url + "/search?q=warmtepomq")
    assert "Did you mean warmtepomp?" in page.inner_text(".did-you-mean")
    assert "(allowing for typos)" in page.inner_text("main")
    page.close()


def test_suggestions_appear_while_typing(page_for_alice, company: Company):
    page = page_for_alice.new_page()
    page.goto(company.server.base_url + "/search")
    page.fill("form.search-page input[name=q]", "warmtep")
    page.wait_for_selector("#suggestion-list li", timeout=10_000)
    assert "Warmtepomp storing" in page.inner_text("#suggestion-list")
    page.close()
