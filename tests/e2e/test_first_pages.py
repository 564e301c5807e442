"""The pages a newcomer meets first, in headless Chromium at phone and desktop width.

`plein run --demo` prints a sign-in link per demo person; the browser follows Anna's. The API
docs render offline under their own strict Content-Security-Policy, a 404 keeps the header
to find the way back, every page has an icon, and axe-core finds nothing serious on any of them.
Screenshots land in the test's temporary folder for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import chromium
from tests.support.servers import PleinServer

WIDTHS = (375, 1280)


def printed_sign_in_link(server: PleinServer, email: str) -> str:
    """The link `plein run --demo` printed on the console under `email`."""
    console = (server.data_dir.parent / f"{server.data_dir.name}-run.log").read_text()
    return re.search(rf"<{re.escape(email)}>.*\n\s+(http\S+/sign-in/\S+)", console)[1]


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def annas_cookies(demo, browser):
    """Anna's signed-in browser state, from following the link on the console once: it works once."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(printed_sign_in_link(demo, "anna@plein.localhost"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{demo.base_url}/")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def anna(browser, annas_cookies):
    """A browser tab signed in as Anna, collecting console errors."""
    context = browser.new_context(storage_state=annas_cookies)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    yield page
    context.close()


def serious_accessibility_violations(page, exclude: list[str]) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context={"exclude": [[selector] for selector in exclude]} if exclude else None)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x)"
        for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]


def look_at(page, name: str, tmp_path, exclude: tuple[str, ...] = ()) -> None:
    """Screenshots at each width, and no serious axe-core violation at any, outside `exclude`."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=tmp_path / f"{name}-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width}px"
        assert serious_accessibility_violations(page, list(exclude)) == []


def test_the_printed_link_signs_the_demo_person_in(anna, demo):
    anna.goto(f"{demo.base_url}/")
    assert "Anna de Vries" in anna.content()


def test_annas_home_is_her_feed_with_a_composer_and_more_to_load(anna, demo, tmp_path):
    anna.goto(f"{demo.base_url}/")
    assert anna.locator("form.composer select[name=group] option").count() > 0
    assert anna.locator("article.feed-item").count() > 0
    anna.locator("article.feed-item h2 a").first.click()
    anna.wait_for_load_state()
    assert anna.url.startswith(f"{demo.base_url}/p/")
    anna.goto(f"{demo.base_url}/g/engineering")
    assert anna.get_by_role("link", name="Nieuw bericht").first.is_visible()
    look_at(anna, "group-by-activity", tmp_path)


def test_the_api_docs_work_offline_under_their_own_strict_policy(anna, demo, tmp_path):
    response = anna.goto(f"{demo.base_url}/api/docs")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy.split("script-src")[1].split(";")[0]
    anna.get_by_text("/api/groups/{slug}/posts").first.wait_for()
    assert anna.errors == []
    assert all(request.startswith(demo.base_url) for request in anna.evaluate(
        "performance.getEntriesByType('resource').map(r => r.name)"
    )), "the docs load something from outside Plein"
    look_at(anna, "api-docs", tmp_path, exclude=("#swagger-ui",))  # Swagger UI's own markup is not ours to fix


def test_other_pages_still_run_no_script(demo):
    assert "script-src 'none'" in demo.api(None, "/sign-in").headers["content-security-policy"]


def test_a_page_that_is_not_there_keeps_the_header_to_find_the_way_back(anna, demo, tmp_path):
    response = anna.goto(f"{demo.base_url}/g/no-such-group")

    assert response.status == 404
    header = anna.locator("header.top")
    assert header.get_by_role("link", name="Plein").get_attribute("href") == "/"
    assert header.get_by_role("searchbox").is_visible()
    assert "Anna de Vries" in header.inner_text()
    look_at(anna, "not-found", tmp_path)


def test_a_stranger_on_a_missing_page_is_offered_to_sign_in(browser, demo, tmp_path):
    page = browser.new_page()
    response = page.goto(f"{demo.base_url}/no/such/page")

    assert response.status == 404
    assert page.locator("header.top").get_by_role("link", name="Sign in").is_visible()
    look_at(page, "not-found-anonymous", tmp_path)
    page.close()


def test_every_page_has_an_icon(demo):
    for path in ("/favicon.ico", "/favicon.svg"):
        icon = demo.api(None, path)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")
    assert '<link rel="icon" href="/favicon.svg"' in demo.api(None, "/sign-in").text


@pytest.mark.parametrize(
    "path", ["/", "/groups", "/g/engineering", "/preferences", "/search?q=glasvezel", "/people/anna@plein.localhost"]
)
def test_the_pages_anna_finds_first_read_well_at_both_widths(anna, demo, tmp_path, path):
    assert anna.goto(demo.base_url + path).status == 200
    look_at(anna, path.strip("/").split("?")[0].replace("/", "-") or "home", tmp_path)


def test_engineerings_library_and_a_document_with_its_versions_read_well_at_both_widths(anna, demo, tmp_path):
    anna.goto(f"{demo.base_url}/g/engineering")
    anna.get_by_role("link", name="Documenten", exact=True).click()
    assert "glasvezel-veldhandleiding.docx" in anna.content()
    look_at(anna, "documents", tmp_path)
    anna.get_by_label("Sorteren op").select_option("name")
    anna.get_by_label("Volgorde").select_option("asc")
    anna.get_by_role("button", name="Tonen").click()
    anna.get_by_role("link", name="glasvezel-veldhandleiding.docx", exact=True).click()
    assert anna.get_by_role("heading", name="glasvezel-veldhandleiding.docx").is_visible()
    look_at(anna, "document", tmp_path)


def test_anna_picks_herself_after_at_with_the_keyboard_and_previews_markdown_in_a_thread(anna, demo, tmp_path):
    """The composer's mention list is a listbox the keyboard drives; the preview shows the text rendered, with
    the names of the thread beside their avatars. Nothing is posted: the demo stays as other tests expect it."""
    anna.goto(f"{demo.base_url}/g/engineering")
    with_comments = anna.locator("main .card").filter(has_not_text=re.compile(r"· 0 (comments|reacties)"))
    with_comments.first.locator("a[href^='/p/']").click()
    box = anna.locator("textarea#body")
    box.click()
    box.press_sequentially("**Klaar** voor vandaag, @an", delay=20)
    listbox = anna.get_by_role("listbox")
    option = listbox.get_by_role("option", name=re.compile("Anna de Vries"))
    option.wait_for()
    look_at(anna, "mention-list", tmp_path)
    for _ in range(8):
        anna.keyboard.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    anna.keyboard.press("Enter")
    assert box.input_value() == "**Klaar** voor vandaag, @anna "
    assert listbox.is_hidden()
    box.press_sequentially("\n- kabels\n- lassen")
    anna.keyboard.press("Escape")
    anna.get_by_role("button", name="Voorbeeld").click()  # Anna reads Dutch
    preview = anna.locator("section.preview")
    assert preview.locator("strong").inner_text() == "Klaar"
    assert preview.locator("a.mention").get_attribute("href") == "/people/anna@plein.localhost"
    assert preview.locator("li").all_inner_texts() == ["kabels", "lassen"]
    assert anna.locator("textarea#body").input_value() == "**Klaar** voor vandaag, @anna \n- kabels\n- lassen"
    assert anna.locator("a.person .avatar").count() >= 2
    assert anna.errors == []
    look_at(anna, "thread-preview", tmp_path)


def test_the_sign_in_page_reads_well_at_both_widths(browser, demo, tmp_path):
    page = browser.new_page()
    assert page.goto(f"{demo.base_url}/sign-in").status == 200
    look_at(page, "sign-in", tmp_path)
    page.close()


def test_annas_dutch_home_page_offers_english_at_its_foot_at_both_widths(anna, demo, tmp_path):
    """Anna writes Dutch, so her pages are Dutch; the switch at the foot offers English."""
    assert anna.goto(f"{demo.base_url}/").status == 200
    assert anna.locator("html").get_attribute("lang") == "nl"
    assert anna.get_by_role("heading", name="Start").is_visible()
    assert anna.locator("footer.languages").get_by_role("button", name="English").is_visible()
    look_at(anna, "home-nl", tmp_path)
    assert anna.goto(f"{demo.base_url}/groups").status == 200
    assert anna.get_by_role("heading", name="Groepen").is_visible()


def test_a_visitor_switches_the_sign_in_page_to_dutch_and_stays_on_it(browser, demo, tmp_path):
    page = browser.new_page()
    page.goto(f"{demo.base_url}/sign-in")
    page.locator("footer.languages").get_by_role("button", name="Nederlands").click()
    page.wait_for_url(f"{demo.base_url}/sign-in")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", name="Aanmelden bij Plein").is_visible()
    look_at(page, "sign-in-nl", tmp_path)
    page.close()


def annas_own(demo, table: str) -> int:
    """The id of a post or comment Anna wrote in the demo, in a group everyone sees."""
    [(item_id,)] = demo.query(
        f"SELECT {table}.id FROM {table} JOIN users ON users.id = {table}.author_id"
        f" WHERE users.email = 'anna@plein.localhost' ORDER BY {table}.id LIMIT 1"
    )
    return item_id


@pytest.mark.parametrize("page", ["edit", "delete", "history"])
@pytest.mark.parametrize("table", ["posts", "comments"])
def test_the_pages_to_edit_and_delete_annas_own_items_read_well_at_both_widths(anna, demo, tmp_path, table, page):
    kind = "p" if table == "posts" else "comments"
    assert anna.goto(f"{demo.base_url}/{kind}/{annas_own(demo, table)}/{page}").status == 200
    look_at(anna, f"{table}-{page}", tmp_path)


def test_anna_likes_a_post_without_script_and_sees_who_reacted_at_both_widths(anna, demo, tmp_path):
    """Anna reads Dutch: her like button is named "Vind ik leuk"."""
    anna.goto(f"{demo.base_url}/g/engineering")
    with_comments = anna.locator("main .card").filter(has_not_text=re.compile(r"· 0 (comments|reacties)"))
    with_comments.first.locator("a[href^='/p/']").click()
    row = anna.locator("#reactions")
    like = row.get_by_role("button", name=re.compile(r"^Vind ik leuk\b"))
    assert like.get_attribute("aria-pressed") == "false"
    like.click()
    anna.wait_for_load_state()
    assert row.get_by_role("button", name=re.compile(r"^Vind ik leuk\b")).get_attribute("aria-pressed") == "true"
    row.locator("details.reactors summary").click()
    assert row.get_by_role("link", name="Anna de Vries").is_visible()
    assert anna.errors == []
    look_at(anna, "post-reactions", tmp_path)


def test_anna_tags_a_comment_follows_the_tag_from_its_page_and_finds_it_among_what_she_follows(anna, demo, tmp_path):
    """Anna reads Dutch: the buttons are named "Volgen" and "Ontvolgen"."""
    anna.goto(f"{demo.base_url}/g/engineering")
    anna.locator("main a[href^='/p/']").first.click()
    anna.locator("#body").fill("Dit hoort bij #glasvezel, denk ik.")
    anna.locator("form[action$='/comments']").get_by_role("button", name="Reageer").click()
    anna.wait_for_load_state()
    look_at(anna, "post-following", tmp_path)
    assert anna.goto(f"{demo.base_url}/tags/glasvezel").status == 200
    assert anna.get_by_text("Dit hoort bij #glasvezel").is_visible()
    look_at(anna, "tag", tmp_path)
    anna.locator("main form.follow").get_by_role("button", name=re.compile(r"^Volgen\b")).click()
    anna.wait_for_url(f"{demo.base_url}/tags/glasvezel")
    assert anna.locator("main form.follow").get_by_role("button", name=re.compile(r"^Ontvolgen\b")).is_visible()
    assert anna.goto(f"{demo.base_url}/following").status == 200
    assert anna.get_by_role("link", name="#glasvezel").is_visible()
    look_at(anna, "following", tmp_path)
    for path, name in (("/people/bram@plein.localhost", "person"), ("/g/engineering", "group-following")):
        assert anna.goto(demo.base_url + path).status == 200
        look_at(anna, name, tmp_path)
    for _ in range(30):  # the indexer takes the comment within seconds
        anna.goto(f"{demo.base_url}/search?q=glasvezel")
        if anna.locator("a.tag-page[href='/tags/glasvezel']").count():
            break
        anna.wait_for_timeout(500)
    assert anna.locator("a.tag-page[href='/tags/glasvezel']").count() == 1
    look_at(anna, "search-tag-facet", tmp_path)
    assert anna.errors == []


def test_annas_notifications_are_one_click_from_the_bell_and_read_well_at_both_widths(anna, demo, tmp_path):
    """Anna reads Dutch: the bell in the header is named "Meldingen, N ongelezen"."""
    anna.goto(f"{demo.base_url}/g/engineering")
    anna.locator("header").get_by_role("link", name=re.compile(r"^Meldingen, \d+ ongelezen$")).click()
    anna.wait_for_url(f"{demo.base_url}/notifications")
    look_at(anna, "notifications", tmp_path)
    anna.goto(f"{demo.base_url}/notifications?cursor=9999999999999999-1")  # a later page: a way back to the newest
    assert anna.locator("nav.pager").get_by_role("link", name=re.compile("Nieuwste")).count() == 1
    look_at(anna, "notifications-later-page", tmp_path)
    assert anna.errors == []


def test_anna_starts_a_group_and_runs_it_from_its_settings_at_both_widths(anna, demo, tmp_path):
    """In Dutch, as Anna reads Plein."""
    anna.goto(f"{demo.base_url}/groups")
    anna.get_by_role("link", name="Nieuwe groep").click()
    anna.wait_for_url(f"{demo.base_url}/groups/new")
    look_at(anna, "group-new", tmp_path)
    anna.get_by_label("Naam", exact=True).fill("Koffieclub")
    anna.get_by_label("Beschrijving").fill("Bonen, bekers en de beste machine op de vloer.")
    anna.get_by_label("Besloten: alleen leden zien hem; eigenaars voegen ze toe en nodigen ze uit").check()
    anna.get_by_label("Adres", exact=True).fill("koffie")
    anna.get_by_role("button", name="Groep aanmaken").click()
    anna.wait_for_url(f"{demo.base_url}/g/koffie")
    anna.get_by_role("link", name="Groepsinstellingen").click()
    anna.wait_for_url(f"{demo.base_url}/g/koffie/settings")
    anna.get_by_label("E-mailadres").first.fill("bram@plein.localhost")
    anna.get_by_role("button", name="Toevoegen", exact=True).click()
    assert "bram@plein.localhost is nu lid." in anna.content()
    look_at(anna, "group-settings", tmp_path)
    assert anna.errors == []


def test_anna_finds_colleagues_in_the_directory_and_the_department_tree_at_both_widths(anna, demo, tmp_path):
    anna.goto(f"{demo.base_url}/people")
    assert anna.locator("ul.people li").count() == 6
    look_at(anna, "people", tmp_path)
    anna.get_by_role("navigation", name="A tot Z").get_by_role("link", name="B", exact=True).click()
    assert anna.locator("ul.people li").all_inner_texts()[0].startswith("BJ")
    anna.locator("header.top").get_by_role("link", name="Organisatie").click()
    anna.get_by_text("Techniek", exact=True).first.wait_for()
    anna.get_by_role("link", name="Techniek", exact=True).locator("xpath=../details/summary").click()
    look_at(anna, "org", tmp_path)
    anna.get_by_role("link", name="Field Engineering").click()
    anna.wait_for_load_state()
    assert anna.locator("main li").first.inner_text().startswith("AV")
    assert "leidinggevende" in anna.locator("main li").first.inner_text()
    look_at(anna, "department", tmp_path)
    anna.goto(f"{demo.base_url}/people/bram@plein.localhost")
    assert "Anna de Vries" in anna.locator("dl.details").inner_text()
    look_at(anna, "person-details", tmp_path)


def test_anna_makes_a_group_for_a_department_whose_page_says_who_is_in_it_at_both_widths(anna, demo, tmp_path):
    anna.goto(f"{demo.base_url}/g/everyone")
    assert "Iedereen in het bedrijf is lid" in anna.content()
    look_at(anna, "company-group", tmp_path)
    anna.goto(f"{demo.base_url}/org")
    anna.get_by_role("link", name="Techniek", exact=True).locator("xpath=../details/summary").click()
    anna.get_by_role("link", name="Field Engineering").click()
    anna.wait_for_load_state()
    look_at(anna, "department-group-form", tmp_path)
    anna.get_by_role("button", name="Maak een groep voor deze afdeling").click()
    anna.wait_for_load_state()
    assert "/g/field-engineering" in anna.url
    assert "Iedereen in deze afdeling en de afdelingen daaronder is lid" in anna.locator("p.notice").inner_text()
    look_at(anna, "department-group", tmp_path)
    assert anna.errors == []


def test_anna_uploads_a_photo_on_her_profile_and_it_shows_as_her_avatar_at_both_widths(anna, demo, tmp_path):
    """In Dutch, as Anna reads Plein; a portrait she took, cropped to a square. She removes it again, so the other
    tests see her initials."""
    from PIL import Image, ImageDraw

    portrait = Image.new("RGB", (600, 900), "#d8e4f0")
    draw = ImageDraw.Draw(portrait)
    draw.ellipse((180, 250, 420, 550), fill="#e0b89a")
    draw.rectangle((120, 600, 480, 900), fill="#1f5fa8")
    portrait.save(tmp_path / "anna.jpg", "JPEG")
    anna.goto(f"{demo.base_url}/people/anna@plein.localhost")
    anna.get_by_label("Een foto van jou").set_input_files(tmp_path / "anna.jpg")
    anna.get_by_role("button", name="Foto uploaden").click()
    anna.wait_for_load_state()
    try:
        avatar = anna.locator("h1 img.avatar")
        assert avatar.evaluate("image => image.complete && image.naturalWidth") == 256
        look_at(anna, "person-photo", tmp_path)
        anna.goto(f"{demo.base_url}/g/engineering")
        look_at(anna, "group-with-photo", tmp_path)
        assert anna.errors == []
    finally:
        anna.goto(f"{demo.base_url}/people/anna@plein.localhost")
        anna.get_by_role("button", name="Foto verwijderen").click()
        anna.wait_for_load_state()
    assert anna.locator("h1 img.avatar").count() == 0


def test_anna_shares_photos_in_a_post_sees_them_as_thumbnails_captions_one_and_finds_them_in_the_group(
    anna, demo, tmp_path
):
    """In Dutch, as Anna reads Plein. The worker of `plein run` makes the sizes after the post commits; a file
    that only has a photo's name stays a link, and Anna is told why."""
    from PIL import ExifTags, Image, ImageDraw

    sideways = Image.new("RGB", (1200, 800), "#9cc3e6")
    ImageDraw.Draw(sideways).rectangle((0, 0, 600, 800), fill="#2e7d32")  # the grass, on top once upright
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 22.0, 30.0), 3: "E", 4: (4.0, 53.0, 0.0)})
    sideways.save(tmp_path / "veld.jpg", "JPEG", exif=exif.tobytes())
    board = Image.new("RGB", (900, 600), "#ffffff")
    ImageDraw.Draw(board).text((40, 40), "Planning Q3", fill="#000000")
    board.save(tmp_path / "whiteboard.png", "PNG")
    (tmp_path / "kapot.jpg").write_bytes(b"not a photo at all")

    anna.goto(f"{demo.base_url}/g/engineering")
    anna.get_by_label("Titel").fill("Foto's van de heidag")
    anna.get_by_label("Bericht").fill("Het veld en het whiteboard.")
    files = [tmp_path / name for name in ("veld.jpg", "whiteboard.png", "kapot.jpg")]
    anna.get_by_label("Bijlagen").set_input_files(files)
    anna.get_by_role("button", name="Plaatsen", exact=True).click()
    anna.wait_for_url(re.compile(r".*/p/\d+.*"))
    for _ in range(60):
        if anna.locator("ul.photos img").count() == 2 and "kan niet getoond worden" in anna.content():
            break
        anna.wait_for_timeout(500)
        anna.reload()
    thumbs = anna.locator("ul.photos img")
    assert thumbs.count() == 2
    assert thumbs.first.evaluate("image => image.decode().then(() => image.naturalHeight > image.naturalWidth)")
    assert "Deze foto kan niet getoond worden" in anna.content()
    assert anna.get_by_role("link", name="kapot.jpg").count() == 1

    anna.get_by_label("Bijschrift").first.fill("Het veld achter het kantoor")
    anna.get_by_role("button", name="Bijschrift opslaan").first.click()
    anna.wait_for_load_state()
    assert anna.get_by_role("img", name="Het veld achter het kantoor").count() == 1
    look_at(anna, "post-with-photos", tmp_path)
    anna.get_by_role("img", name="Het veld achter het kantoor").click()
    assert re.search(r"#photo-\d+$", anna.url) and anna.get_by_role("dialog").count() == 1
    anna.get_by_role("dialog").get_by_role("link", name="Volledige grootte").click()
    anna.wait_for_load_state()
    assert anna.url.endswith("/large")

    anna.goto(f"{demo.base_url}/g/engineering")
    anna.get_by_role("link", name="Foto's", exact=True).click()
    anna.wait_for_url(f"{demo.base_url}/g/engineering/photos")
    assert anna.locator("ul.photos img").count() >= 2
    look_at(anna, "group-photos", tmp_path)

    for _ in range(60):  # the caption is found once the indexer took the change in
        anna.goto(f"{demo.base_url}/search?q=kantoor&kind=photo")
        if anna.locator(".result a.thumbnail img").count():
            break
        anna.wait_for_timeout(500)
    assert anna.locator(".result a.thumbnail img").first.evaluate("image => image.decode().then(() => image.naturalWidth > 0)")
    look_at(anna, "search-photos", tmp_path)
    assert anna.errors == []


def test_anna_posts_a_table_and_her_own_photo_in_markdown_and_the_post_reads_well_at_both_widths(anna, demo, tmp_path):
    """The photo is a file of the post, shown where the text names it; an image from elsewhere stays a link. Anna
    deletes the post again, so the other tests see the demo as it was."""
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (1200, 800), "#d8e4f0")
    ImageDraw.Draw(photo).rectangle((100, 100, 1100, 700), outline="#1f5fa8", width=12)
    photo.save(tmp_path / "whiteboard.jpg", "JPEG")
    anna.goto(f"{demo.base_url}/g/engineering")
    anna.locator("#title").fill("Rooster van de verhuizing")
    anna.locator("#body").fill(
        "## Wie doet wat\n\n| Wie | Wat | Uren |\n|:--|:--|--:|\n| Anna | kabels trekken | 3 |\n"
        "| Bram | **koffie** en de sleutels van alle kasten op de tweede verdieping | 1 |\n\n"
        "![Het whiteboard van vrijdag](whiteboard.jpg)\n\n![pixel](https://tracker.example/p.png)"
    )
    anna.locator("#files").set_input_files(tmp_path / "whiteboard.jpg")
    anna.locator("form[action='/g/engineering/posts'] button[type=submit]:not([name=preview])").click()
    anna.wait_for_load_state()
    [(post_id,)] = demo.query("SELECT id FROM posts WHERE title = 'Rooster van de verhuizing'")
    try:
        anna.goto(f"{demo.base_url}/p/{post_id}")
        body = anna.locator("article .body")
        assert body.locator("table th").all_inner_texts() == ["Wie", "Wat", "Uren"]
        image = body.get_by_role("img", name="Het whiteboard van vrijdag")
        assert image.evaluate("image => image.complete && image.naturalWidth") == 1200
        assert body.get_by_role("link", name="pixel").get_attribute("href") == "https://tracker.example/p.png"
        assert anna.errors == []
        look_at(anna, "post-formatted", tmp_path)
    finally:
        anna.goto(f"{demo.base_url}/p/{post_id}/delete")
        anna.locator(f"form[action='/p/{post_id}/delete'] button[type=submit]").click()
        anna.wait_for_load_state()
    assert demo.query(f"SELECT id FROM posts WHERE id = {post_id}") == []


def test_anna_posts_a_video_that_plays_in_the_thread_with_its_poster_and_duration_at_both_widths(anna, demo, tmp_path):
    """A WebM made by ffmpeg, posted from the group page; the worker of `plein run` makes its poster frame."""
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    film = tmp_path / "montage-lift-b.webm"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=4:size=640x360:rate=10",
                    "-c:v", "libvpx", "-b:v", "300k", "-y", str(film)], check=True, timeout=120)
    anna.goto(f"{demo.base_url}/g/engineering")
    anna.locator("#title").fill("Montage lift B")
    anna.locator("#body").fill("Zo zet je de geleiders vast.")
    anna.locator("#files").set_input_files(film)
    anna.locator('form[action="/g/engineering/posts"] button[type=submit]:not([name])').click()
    anna.wait_for_url(re.compile(r".*/p/\d+$"))
    for _ in range(60):  # the worker makes the poster after the post commits
        if anna.locator("video[poster]").count():
            break
        anna.wait_for_timeout(1000)
        anna.reload()
    video = anna.locator("figure.video video")
    assert video.get_attribute("poster"), "no poster frame within a minute"
    assert anna.locator("figure.video .duration").inner_text() == "0:04"
    anna.wait_for_function("document.querySelector('figure.video video').readyState >= 1", timeout=20000)
    assert round(video.evaluate("v => v.duration")) == 4
    poster = anna.request.get(demo.base_url + video.get_attribute("poster"))
    assert poster.status == 200 and poster.headers["content-type"] == "image/jpeg"
    look_at(anna, "post-with-video", tmp_path)
    assert anna.errors == []


def test_anna_sees_why_the_text_of_her_file_could_not_be_read_by_it_at_both_widths(anna, demo, tmp_path):
    """The extraction lane failed on a file she shared: a note by the file says so, in her Dutch."""
    [(attachment_id, post_id)] = demo.query(
        "SELECT attachments.id, posts.id FROM attachments JOIN posts ON posts.id = attachments.post_id"
        " JOIN users ON users.id = posts.author_id"
        " WHERE users.email = 'anna@plein.localhost' AND attachments.comment_id IS NULL ORDER BY attachments.id LIMIT 1"
    )
    demo.query("UPDATE attachments SET extracted_text = '', extraction_error = 'password-protected' WHERE id = ?",
               attachment_id)
    assert anna.goto(f"{demo.base_url}/p/{post_id}").status == 200
    note = anna.locator(f"#attachment-{attachment_id} .extraction-note")
    assert note.is_visible() and "password-protected" in note.inner_text()
    look_at(anna, "post-extraction-note", tmp_path)


def test_anna_shares_a_short_update_and_writes_on_her_blog_at_both_widths(anna, demo, tmp_path):
    """In Dutch: the composer on top of the home feed, her profile's short updates and her blog."""
    anna.goto(f"{demo.base_url}/")
    look_at(anna, "feed-composer", tmp_path)
    anna.get_by_label("Waar werk je aan?").fill("Bezig met de glasvezelplanning voor Q3")
    anna.get_by_role("button", name="Delen", exact=True).click()
    anna.wait_for_url(f"{demo.base_url}/")
    anna.goto(f"{demo.base_url}/people/anna@plein.localhost")
    assert "Bezig met de glasvezelplanning voor Q3" in anna.content()
    look_at(anna, "profile-with-updates", tmp_path)
    anna.get_by_role("link", name="Blog van Anna de Vries").click()
    anna.wait_for_url(re.compile(r".*/people/anna(@|%40)plein\.localhost/blog$"))
    anna.get_by_label("Titel").fill("Wat ik leerde van de uitrol")
    anna.get_by_label("Bericht").fill("Drie **lessen** uit de wijk.")
    anna.get_by_role("button", name="Publiceren").click()
    anna.wait_for_url(re.compile(rf"{re.escape(demo.base_url)}/p/\d+"))
    anna.goto(f"{demo.base_url}/people/anna@plein.localhost/blog")
    assert "Wat ik leerde van de uitrol" in anna.content()
    look_at(anna, "blog", tmp_path)
    assert anna.errors == []


def test_the_statistics_read_well_at_both_widths_with_their_plots_drawn_on_the_server(anna, demo, tmp_path):
    """Anna is the demo's administrator: the whole hub, its plots inline SVG under the strict policy, no script."""
    response = anna.goto(f"{demo.base_url}/stats?period=day")
    assert response.status == 200 and "script-src 'none'" in response.headers["content-security-policy"]
    assert anna.locator("figure.plot svg").count() == 2
    assert anna.get_by_role("heading", name="Populairste gesprekken").is_visible()
    look_at(anna, "stats", tmp_path)
    anna.get_by_label("Groep", exact=True).select_option("engineering")
    anna.get_by_role("button", name="Tonen").click()
    assert "group=engineering" in anna.url and anna.locator("figure.plot svg").count() == 2
    assert anna.errors == []
    look_at(anna, "stats-engineering", tmp_path)
