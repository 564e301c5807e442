"""Sharing in headless Chromium at phone and desktop width (issue 19): a thread's photos in a lightbox moved
through by keyboard, the composer's preview of a photo not posted yet, and documents shown with their versions
in the thread, the group's thread list and the feed. Each page is looked at and checked by axe-core."""

from __future__ import annotations

from io import BytesIO

import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import Company
from tests.e2e.test_first_pages import look_at
from tests.support.browser import chromium, sign_in_by_mail
from tests.support.servers import PleinServer, wait_for


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (1200, 800)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Company:
    """Alice in Engineering, with a thread of three photos and a plan shared in three versions."""
    server = PleinServer(tmp_path_factory.mktemp("sharing") / "data")
    outputs = server.cli_batch(
        ["db", "upgrade"],
        ["user", "add", "alice@example.com", "--name", "Alice Aalders"],
        ["group", "create", "engineering", "--name", "Engineering"],
        ["group", "add-member", "engineering", "alice@example.com", "--delivery", "none"],
        ["token", "create", "alice@example.com"],
    )
    server.start()
    yield Company(server, {"alice": outputs[-1].strip()})
    server.stop()


def share(company: Company, title: str, body: str, files: list[tuple[str, bytes, str]]) -> dict:
    answer = httpx.post(
        f"{company.server.base_url}/api/groups/engineering/posts",
        headers={"Authorization": f"Bearer {company.tokens['alice']}"},
        data={"title": title, "body": body}, files=[("files", file) for file in files], timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def page(company: Company):
    server = company.server
    with chromium() as browser:
        tab = browser.new_page()
        sign_in_by_mail(tab, server, "alice@example.com")
        yield tab


def test_a_photo_opens_over_the_thread_and_the_keyboard_moves_through_the_threads_photos(company, page, tmp_path):
    post = share(company, "Whiteboard", "De sessie van vandaag.", [
        (f"{name}.jpg", jpeg(colour), "image/jpeg")
        for name, colour in (("rood", (200, 40, 40)), ("groen", (40, 160, 60)), ("blauw", (40, 70, 200)))
    ])
    first, second, third = (a["id"] for a in post["attachments"])
    server = company.server
    wait_for(lambda: httpx.get(f"{server.base_url}/api/attachments/{third}",
                               headers={"Authorization": f"Bearer {company.tokens['alice']}"}).json()["large_url"],
             what="the photo sizes")
    page.goto(f"{server.base_url}/p/{post['id']}")
    page.locator(f'ul.photos a[href="#photo-{first}"]').click()
    box = page.locator(f"#photo-{first}")
    assert box.is_visible() and box.get_attribute("role") == "dialog"
    # Focus moves on `hashchange`, which the browser fires after the address has changed: waited for, not raced.
    page.wait_for_function("document.activeElement.className === 'lightbox-close'")
    look_at(page, "lightbox", tmp_path)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"location.hash === '#photo-{second}'")
    assert page.locator(f"#photo-{second}").is_visible() and not box.is_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # the last photo has none after it
    page.wait_for_function(f"location.hash === '#photo-{third}'")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"location.hash === '#photo-{second}'")
    page.keyboard.press("Escape")
    page.wait_for_function(f"location.hash === '#attachment-{second}'")
    assert page.locator(".lightbox:visible").count() == 0
    page.wait_for_function(f"document.activeElement.getAttribute('href') === '#photo-{second}'")
    look_at(page, "thread-with-photos", tmp_path)


def test_the_preview_of_a_new_post_shows_a_chosen_photo_as_a_placeholder(company, page, tmp_path):
    page.goto(f"{company.server.base_url}/g/engineering")
    page.get_by_label("Title").fill("Het bord")
    page.get_by_label("Message").fill("Zo zag het eruit:\n\n![Het bord na de sessie](bord.jpg)")
    page.set_input_files("#files", files=[{"name": "bord.jpg", "mimeType": "image/jpeg", "buffer": jpeg((90, 90, 90))}])
    page.get_by_role("button", name="Preview").click()
    placeholder = page.locator(".preview .pending-file")
    assert placeholder.inner_text().split("\n")[0] == "Het bord na de sessie"
    assert "bord.jpg shows here once posted" in placeholder.inner_text()
    assert "choose bord.jpg again" in page.locator(".preview").inner_text()
    look_at(page, "preview-with-a-chosen-photo", tmp_path)


def test_a_documents_versions_show_in_its_thread_and_its_cards_in_the_thread_list_and_the_feed(company, page, tmp_path):
    for n, title in enumerate(("Plan, eerste versie", "Plan, tweede versie", "Plan, definitief"), start=1):
        latest = share(company, title, "Zie bijlage.", [("plan.pdf", f"%PDF-1.4 versie {n}\n".encode(), "application/pdf")])
    server = company.server
    page.goto(f"{server.base_url}/p/{latest['id']}")
    version = page.get_by_role("link", name="version 3 of 3")
    assert version.is_visible() and "/documents/" in version.get_attribute("href")
    look_at(page, "thread-with-a-version", tmp_path)
    page.goto(f"{server.base_url}/g/engineering")
    assert page.locator("a.document-card").count() >= 3
    look_at(page, "thread-list-with-cards", tmp_path)
    page.goto(f"{server.base_url}/")
    assert page.locator("a.document-card").first.is_visible()
    look_at(page, "feed-with-cards", tmp_path)
