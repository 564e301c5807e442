"""A group's photos at /g/{slug}/photos (issue 19): the thumbnails of every photo shown in its threads, newest
first, a page at a time, each linking to its thread; a private group's only for its members."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from PIL import Image

from hub.models import Attachment, Post
from hub.services import accounts, attachments, groups, photo_sizes, posts
from tests.hub.test_photo_sizes import run_jobs
from tests.support.web import browser, signed_in
from workers import tasks


@pytest.fixture
def people(context, monkeypatch):
    """Anna in the private group Team and the open group Lounge; Olga in neither."""
    monkeypatch.setattr(tasks, "context", context)
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        accounts.create_user(session, "olga@example.com", "Olga Outside")
        groups.add_member(session, groups.create_group(session, "team", "Team", private=True), anna)
        groups.add_member(session, groups.create_group(session, "lounge", "Lounge"), anna)


def jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 20)).save(out, "JPEG")
    return out.getvalue()


def thread_with(context, slug: str, *files: tuple[str, bytes]) -> tuple[int, list[int]]:
    """A post by Anna in `slug` with `files`; its id and theirs."""
    with context.session_scope() as session:
        anna = accounts.get_user(session, "anna@example.com")
        post = posts.create_post(session, groups.get_group(session, slug), anna, "Foto's", "Kijk.")
        return post.id, [attachments.attach(session, post, name, "image/jpeg", data).id for name, data in files]


def shown(page: str) -> list[int]:
    """The photos on `page`, in order."""
    return [int(found) for found in re.findall(r'<img src="/attachments/(\d+)/thumb"', page)]


def test_a_groups_photos_are_its_thumbnails_newest_first_each_linking_to_its_thread(context, people):
    first_post, [first] = thread_with(context, "team", ("a.jpg", jpeg()))
    second_post, [second, broken] = thread_with(context, "team", ("b.jpg", jpeg()), ("kapot.jpg", b"not a photo"))
    thread_with(context, "lounge", ("elders.jpg", jpeg()))
    _, [waiting] = thread_with(context, "team", ("nog-niet.jpg", jpeg()))
    run_jobs(context)
    with context.session_scope() as session:
        session.get(Attachment, waiting).media_ready_at = None  # as if its job had not run yet

    page = signed_in(context, "anna@example.com").get("/g/team/photos")

    assert page.status_code == 200
    assert shown(page.text) == [second, first], "neither a broken photo nor one still being made is listed"
    assert (
        f'href="/p/{second_post}#photo-{second}"' in page.text and f'href="/p/{first_post}#photo-{first}"' in page.text
    )
    assert 'alt="b.jpg"' in page.text


def test_a_groups_photos_come_a_page_at_a_time(context, people, monkeypatch):
    monkeypatch.setattr(photo_sizes, "PAGE_SIZE", 2)
    _, ids = thread_with(context, "lounge", *((f"{n}.jpg", jpeg()) for n in range(5)))
    run_jobs(context)
    anna = signed_in(context, "anna@example.com")

    pages = [anna.get(f"/g/lounge/photos?page={n}").text for n in (1, 2, 3)]

    assert [shown(page) for page in pages] == [ids[:-3:-1], ids[-3:-5:-1], ids[:1]]
    assert 'href="?page=2"' in pages[0] and 'href="?page=0"' not in pages[0]
    assert 'href="?page=1"' in pages[1] and 'href="?page=3"' in pages[1]
    assert 'href="?page=4"' not in pages[2]
    assert "No more photos." in anna.get("/g/lounge/photos?page=4").text


def test_a_group_without_photos_says_so(context, people):
    page = signed_in(context, "anna@example.com").get("/g/lounge/photos")
    assert page.status_code == 200 and "No photos yet" in page.text


def test_a_non_member_gets_the_same_404_for_a_private_groups_photos_as_for_no_group(context, people):
    thread_with(context, "team", ("geheim.jpg", jpeg()))
    run_jobs(context)
    olga = signed_in(context, "olga@example.com")

    hidden, missing = olga.get("/g/team/photos"), olga.get("/g/nergens/photos")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace("team", "X") == missing.text.replace("nergens", "X")
    assert olga.get("/g/team").status_code == 404
    assert olga.get("/g/lounge/photos").status_code == 200, "an open group's photos are anyone's to see"


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(context, people):
    answer = browser(context).get("/g/lounge/photos", follow_redirects=False)
    assert answer.status_code in (303, 307) and "/sign-in" in answer.headers["location"]


def test_a_post_gone_takes_its_photos_off_the_groups_page(context, people):
    post_id, [photo] = thread_with(context, "lounge", ("weg.jpg", jpeg()))
    run_jobs(context)
    with context.session_scope() as session:
        session.delete(session.get(Post, post_id))
    assert photo not in shown(signed_in(context, "anna@example.com").get("/g/lounge/photos").text)


def test_a_thumbnail_opens_its_photo_over_the_thread_with_links_to_the_threads_photos_before_and_after(context, people):
    post_id, [first, second] = thread_with(context, "team", ("a.jpg", jpeg()), ("b.jpg", jpeg()))
    with context.session_scope() as session:
        post = session.get(Post, post_id)
        comment = posts.create_comment(session, post, post.author, "Nog een")
        third = attachments.attach(session, post, "c.jpg", "image/jpeg", jpeg(), comment=comment).id
        session.get(Attachment, second).caption = "Het bord"
    run_jobs(context)
    anna = signed_in(context, "anna@example.com")
    page = anna.get(f"/p/{post_id}")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    for photo in (first, second, third):
        assert f'<a href="#photo-{photo}"><img src="/attachments/{photo}/thumb"' in html
        assert f'class="lightbox-close" href="#attachment-{photo}"' in html
    boxes = re.findall(r'<div class="lightbox" id="photo-(\d+)" role="dialog" aria-label="([^"]+)">(.*?)</nav>', html, re.S)
    assert [(int(n), label) for n, label, _ in boxes] == [
        (first, "Photo 1 of 3: a.jpg"), (second, "Photo 2 of 3: Het bord"), (third, "Photo 3 of 3: c.jpg"),
    ]
    links = [(re.findall(r'lightbox-previous" href="#photo-(\d+)', box), re.findall(r'lightbox-next" href="#photo-(\d+)', box))
             for _, _, box in boxes]
    assert links == [([], [str(second)]), ([str(first)], [str(third)]), ([str(second)], [])]
    assert f'<img src="/attachments/{second}/large" alt="Het bord" loading="lazy">' in html
    assert html.count('<script src="/lightbox.js" defer></script>') == 1
    script = anna.get("/lightbox.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert '"Escape"' in script.text and '"ArrowLeft"' in script.text and '"ArrowRight"' in script.text


def test_a_thread_without_photos_has_no_lightbox_and_an_outsider_sees_none(context, people):
    post_id, [photo] = thread_with(context, "team", ("a.jpg", jpeg()))
    run_jobs(context)
    outsider = signed_in(context, "olga@example.com").get(f"/p/{post_id}")
    assert outsider.status_code == 404 and "lightbox" not in outsider.text and f"photo-{photo}" not in outsider.text
    lounge_post, _ = thread_with(context, "lounge")
    assert 'class="lightbox"' not in signed_in(context, "anna@example.com").get(f"/p/{lounge_post}").text
