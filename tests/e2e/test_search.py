"""One search for everything, through a real `plein run`: mail in, found within seconds, with facets,
corrections, suggestions, people and profiles, over the API and on the search page."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import mail, send
from tests.e2e.test_web_hub import csrf_of, signed_in
from tests.support.servers import wait_for


def api_search(company: Company, who: str, **params):
    return company.server.api(company.tokens[who], "/api/search", **params).json()


@pytest.fixture(scope="module")
def erin(company: Company) -> httpx.Client:
    return signed_in(company, "erin@example.com")


def test_a_mailed_post_becomes_searchable_seconds_after_it_arrives(company: Company):
    """The issue asks for 2 seconds; the time is printed, not asserted (timings live in bench/)."""
    send(company, mail("alice", company.address("engineering"), "Snelheidstest", "Het woord is vliegensvlug."))
    arrived = time.monotonic()

    def found() -> int:
        # The indexer may still be starting (its first rebuild) when this first test runs: 503 until then.
        answer = company.server.api(company.tokens["bob"], "/api/search", q="vliegensvlug")
        return answer.json()["total"] if answer.status_code == 200 else 0

    wait_for(found, timeout=30, what="the post in search")
    print(f"searchable {time.monotonic() - arrived:.2f} s after SMTP accepted it")


def test_api_search_has_filters_facets_sort_and_paging_on_top_of_the_old_keys(company: Company):
    for n in range(3):
        send(company, mail("alice", company.address("engineering"), f"Glasvezelkast {n}", f"De glasvezelkast nummer {n} #glasvezel"))
    wait_for(lambda: api_search(company, "bob", q="glasvezelkast kind:post")["total"] >= 3, what="three posts indexed")
    answer = api_search(company, "bob", q="glasvezelkast kind:post group:engineering from:alice", per_page=2, sort="newest")
    assert answer["total"] == 3 and answer["pages"] == 2
    first = answer["results"][0]
    assert {"kind", "id", "post_id", "title", "snippet", "url"} <= first.keys()
    second_page = api_search(company, "bob", q="glasvezelkast kind:post", per_page=2, page=2, sort="newest")
    times = [r["created_at"] for r in answer["results"] + second_page["results"]]
    assert times == sorted(times, reverse=True) and len(times) == 3
    assert first["group"] == "engineering" and first["author"] == "alice@example.com"
    assert "<b>" in first["snippet_html"]
    assert answer["facets"]["kind"] == [{"value": "kind:post", "label": "post", "count": 3}]
    assert answer["facets"]["group"] == [{"value": "group:engineering", "label": "Engineering", "count": 3}]
    assert api_search(company, "bob", q="tag:glasvezel")["total"] >= 3
    assert api_search(company, "bob", q="glasvezelkast -from:alice")["total"] == 0
    assert api_search(company, "bob", q='glasvezelkast kind:post "(')["total"] == 3
    assert company.server.api(company.tokens["bob"], "/api/search", q="x", sort="random").status_code == 400


def test_a_typo_gets_results_and_a_did_you_mean(company: Company):
    send(company, mail("bob", company.address("engineering"), "Kabelbrug", "Het kabelbrugontwerp is klaar."))
    wait_for(lambda: api_search(company, "bob", q="kabelbrugontwerp")["total"], what="the post indexed")
    answer = api_search(company, "bob", q="kabelbrugontwrep")
    assert answer["fuzzy"] is True and answer["total"] == 1
    assert answer["did_you_mean"] == "kabelbrugontwerp"


def test_people_are_found_by_profile_and_by_what_they_answer(company: Company):
    server = company.server
    server.cli("user", "add", "frank@example.com", "--name", "Frank Fiber", "--department", "Infra",
               "--title", "Netwerkbeheerder", "--expertise", "splitters, lasapparaat")
    wait_for(lambda: api_search(company, "carol", q="lasapparaat kind:person")["total"], what="Frank indexed")
    [frank] = api_search(company, "carol", q="lasapparaat kind:person")["results"]
    assert frank["title"] == "Frank Fiber" and frank["url"].endswith("/people/frank@example.com")
    profile = server.api(company.tokens["carol"], "/api/people/frank@example.com").json()
    assert profile["expertise"] == ["splitters", "lasapparaat"] and profile["department"] == "Infra"
    assert server.api(company.tokens["carol"], "/api/people/nobody@example.com").status_code == 404


def test_suggestions_complete_titles_people_and_groups(company: Company):
    send(company, mail("alice", company.address("engineering"), "Zonnepanelen op het dak", "Offerte volgt."))
    wait_for(lambda: api_search(company, "bob", q="zonnepanelen")["total"], what="the post indexed")
    answer = company.server.api(company.tokens["bob"], "/api/search/suggest", q="zonnep").json()
    assert [(s["kind"], s["title"]) for s in answer["suggestions"]] == [("post", "Zonnepanelen op het dak")]
    groups = company.server.api(company.tokens["carol"], "/api/search/suggest", q="bo").json()["suggestions"]
    assert "Board" not in [s["title"] for s in groups]


def test_the_search_page_shows_kinds_facets_highlights_and_did_you_mean(erin, company: Company):
    wait_for(lambda: api_search(company, "erin", q="glasvezelkast")["total"], what="posts indexed")
    page = erin.get("/search", params={"q": "glasvezelkast"})
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'aria-label="Narrow down"' in page.text and "group%3Aengineering" in page.text
    assert "<b>Glasvezelkast</b>" in page.text
    assert 'value="person"' in page.text
    assert "Did you mean" in erin.get("/search", params={"q": "glasvezelkats"}).text
    assert erin.get("/search/suggest", params={"q": "glasv"}).json()["suggestions"]
    assert erin.get("/search/suggest.js").headers["content-type"].startswith("text/javascript")


def test_a_person_edits_their_own_profile_and_is_found_by_it(erin, company: Company):
    page = erin.get("/people/erin@example.com")
    saved = erin.post("/people/erin@example.com", data={
        "csrf": csrf_of(page), "job_title": "Ploegleider", "department": "Buitendienst",
        "expertise": "graafmachines", "bio": "",
    })
    assert saved.status_code == 200 and "Saved." in saved.text
    wait_for(lambda: api_search(company, "bob", q="graafmachines")["total"], what="the profile in search")
    assert erin.post("/people/erin@example.com", data={"csrf": "forged", "job_title": "x"}).status_code == 403
    assert erin.post("/people/alice@example.com", data={"csrf": csrf_of(page), "job_title": "x"}).status_code == 403
    too_long = erin.post("/people/erin@example.com", data={"csrf": csrf_of(page), "department": "x" * 300})
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.text
