"""Photos in posts and comments (issue 19): a worker makes a thumbnail and a large size of each, upright and without
metadata; nothing served carries where the photo was taken; a broken or hostile image keeps its post, stays a
download and tells its author why it is not shown; its author captions it on the web and over the API.

The jobs go through the broker as a worker receives them, and run as the worker's task."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image, PngImagePlugin

from hub.models import Attachment, Post
from hub.services import accounts, attachments, groups, index_writer, photo_sizes, posts, searching
from hub.web.app import create_app
from tests.support import worker
from tests.support.web import signed_in, signed_in_with_csrf
from workers import tasks

RED, BLUE = (220, 20, 20), (20, 20, 220)
SECRET = b"Secret Garden, Amsterdam"
GPS = {1: "N", 2: (52.0, 22.0, 30.0), 3: "E", 4: (4.0, 53.0, 0.0)}


@pytest.fixture
def team(context, monkeypatch):
    """Anna and Bert in the private group Team, where Anna wrote a post; Olga outside it. Tasks run on this hub."""
    assert tasks.make_photo_sizes.name == attachments.PHOTO_SIZES_TASK
    monkeypatch.setattr(tasks, "context", context)
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        bert = accounts.create_user(session, "bert@example.com", "Bert Bos")
        accounts.create_user(session, "olga@example.com", "Olga Outside")
        group = groups.create_group(session, "team", "Team", private=True)
        for person in (anna, bert):
            groups.add_member(session, group, person)
        return posts.create_post(session, group, anna, "Het uitje", "Foto's van gisteren.").id


def photo(width: int = 400, height: int = 200, kind: str = "JPEG", orientation: int = 1) -> bytes:
    """Left half red, right half blue as stored, with GPS, XMP and a comment that name where it was taken."""
    picture = Image.new("RGB", (width, height), RED)
    picture.paste(BLUE, (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = BytesIO()
    text = PngImagePlugin.PngInfo()
    text.add_text("Location", SECRET.decode())
    extra = {"JPEG": {"comment": SECRET}, "PNG": {"pnginfo": text}}.get(kind, {})
    picture.save(out, kind, exif=exif.tobytes(), xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>", **extra)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is `width` x `height`: decoding it would take gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def share(context, post_id: int, filename: str, data: bytes, content_type: str = "image/jpeg", comment: bool = False):
    """Attach `data` to the post (or to a new comment of Bert's on it), as mail and the web do; the attachment id."""
    with context.session_scope() as session:
        post = session.get(Post, post_id)
        answer = None
        if comment:
            answer = posts.create_comment(session, post, accounts.get_user(session, "bert@example.com"), "Kijk!")
        return attachments.attach(session, post, filename, content_type, data, comment=answer).id


def run_jobs(context, task_name: str = attachments.PHOTO_SIZES_TASK) -> int:
    return worker.run_jobs(context, task_name)


def the(context, attachment_id: int) -> Attachment:
    with context.session_scope() as session:
        found = session.get(Attachment, attachment_id)
        session.expunge(found)
        return found


def served(client: TestClient, path: str) -> Image.Image:
    answer = client.get(path)
    assert answer.status_code == 200, f"{path} answered {answer.status_code}"
    assert SECRET not in answer.content, f"{path} carries the place the photo was taken"
    image = Image.open(BytesIO(answer.content))
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}, f"{path} carries GPS"
    assert "xmp" not in image.info and "comment" not in image.info
    return image


def colour_at(picture: Image.Image, x: int, y: int) -> str:
    r, _, b = picture.convert("RGB").getpixel((x, y))
    return "red" if r > b else "blue"


def test_a_photo_sent_with_a_post_gets_a_thumbnail_and_a_large_size_from_the_worker(context, team):
    photo_id = share(context, team, "uitje.jpg", photo(2400, 1800))
    assert the(context, photo_id).media_ready_at is None, "nothing is made inside the post's transaction"

    assert run_jobs(context) == 1

    made = the(context, photo_id)
    assert made.media_ready_at is not None and made.media_error is None
    assert (made.width, made.height) == (2400, 1800)
    anna = signed_in(context, "anna@example.com")
    assert served(anna, f"/attachments/{photo_id}/thumb").size == (320, 240)
    assert served(anna, f"/attachments/{photo_id}/large").size == (1600, 1200)


def test_the_task_running_twice_makes_the_sizes_once(context, team):
    photo_id = share(context, team, "uitje.jpg", photo())
    run_jobs(context)
    made_at = the(context, photo_id).media_ready_at

    tasks.make_photo_sizes.apply((photo_id,)).get()

    assert the(context, photo_id).media_ready_at == made_at


def test_a_document_queues_no_photo_job(context, team):
    share(context, team, "notulen.pdf", b"%PDF-1.4 notulen", "application/pdf")
    assert run_jobs(context) == 0


def test_a_photo_taken_sideways_comes_out_upright_in_every_size(context, team):
    photo_id = share(context, team, "zijwaarts.jpg", photo(400, 200, orientation=6))
    run_jobs(context)

    assert (the(context, photo_id).width, the(context, photo_id).height) == (200, 400)
    anna = signed_in(context, "anna@example.com")
    for size in ("thumb", "large"):
        upright = served(anna, f"/attachments/{photo_id}/{size}")
        assert upright.height > upright.width
        assert colour_at(upright, upright.width // 2, 5) == "red", "red on the left as stored is on top upright"
        assert colour_at(upright, upright.width // 2, upright.height - 5) == "blue"


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_no_location_leaves_the_server_in_any_served_form(context, team, kind):
    data = photo(kind=kind, orientation=6)
    assert SECRET in data
    photo_id = share(context, team, f"tuin.{kind.lower()}", data, f"image/{kind.lower()}")
    anna = signed_in(context, "anna@example.com")

    before = served(anna, f"/attachments/{photo_id}/tuin.{kind.lower()}")
    assert before.size == (400, 200), "the original is downloaded whole, without its metadata"
    run_jobs(context)

    for path in (f"/attachments/{photo_id}/thumb", f"/attachments/{photo_id}/large", f"/attachments/{photo_id}/x"):
        served(anna, path)


def test_a_downloaded_jpeg_keeps_its_orientation_and_nothing_else(context, team):
    photo_id = share(context, team, "zijwaarts.jpg", photo(400, 200, orientation=6))
    answer = signed_in(context, "anna@example.com").get(f"/attachments/{photo_id}/zijwaarts.jpg")
    assert dict(Image.open(BytesIO(answer.content)).getexif()) == {0x0112: 6}


def test_a_heic_photo_is_shown_and_downloaded_as_a_jpeg_without_its_location(context, team):
    picture = Image.new("RGB", (400, 200), RED)
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = BytesIO()
    picture.save(out, "HEIF", exif=exif.tobytes())
    photo_id = share(context, team, "IMG_0001.HEIC", out.getvalue(), "image/heic")
    run_jobs(context)

    assert the(context, photo_id).media_ready_at is not None
    anna = signed_in(context, "anna@example.com")
    assert served(anna, f"/attachments/{photo_id}/thumb").size == (320, 160)
    download = anna.get(f"/attachments/{photo_id}/IMG_0001.HEIC")
    assert (
        download.headers["content-type"] == "image/jpeg" and "IMG_0001.jpg" in download.headers["content-disposition"]
    )
    served(anna, f"/attachments/{photo_id}/IMG_0001.HEIC")


def truncated() -> bytes:
    whole = photo(800, 600)
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bom.png", png_claiming(30_000, 30_000), photo_sizes.TOO_MANY_PIXELS),
        ("half.jpg", truncated(), photo_sizes.TRUNCATED),
        ("nep.jpg", b"this is not a picture at all", photo_sizes.NOT_READABLE),
    ],
)
def test_a_photo_that_cannot_be_shown_keeps_its_post_stays_a_download_and_tells_its_author(
    context, team, name, data, reason
):
    photo_id = share(context, team, name, data)
    run_jobs(context)

    failed = the(context, photo_id)
    assert failed.media_ready_at is None and failed.media_error == reason
    anna, bert = signed_in(context, "anna@example.com"), signed_in(context, "bert@example.com")
    page = anna.get(f"/p/{team}")
    assert page.status_code == 200 and "This photo could not be shown" in page.text and reason in page.text
    assert f'href="/attachments/{photo_id}/{name}"' in page.text
    assert "could not be shown" not in bert.get(f"/p/{team}").text, "only its author is told"
    assert anna.get(f"/attachments/{photo_id}/{name}").status_code == 200
    assert SECRET not in anna.get(f"/attachments/{photo_id}/{name}").content
    assert anna.get(f"/attachments/{photo_id}/thumb").status_code == 404


def test_the_post_page_shows_thumbnails_that_open_large_with_the_caption_as_alt(context, team):
    photo_id = share(context, team, "uitje.jpg", photo())
    comment_photo = share(context, team, "bert.png", photo(kind="PNG"), "image/png", comment=True)
    run_jobs(context)
    anna, csrf = signed_in_with_csrf(context, "anna@example.com")

    page = anna.get(f"/p/{team}").text
    assert f'<a href="#photo-{photo_id}"><img src="/attachments/{photo_id}/thumb" alt="uitje.jpg"' in page
    assert f'<img src="/attachments/{photo_id}/large" alt="uitje.jpg"' in page  # in its lightbox
    assert f'src="/attachments/{comment_photo}/thumb" alt="bert.png"' in page
    assert f'action="/attachments/{photo_id}/caption"' in page
    assert f'action="/attachments/{comment_photo}/caption"' not in page, "Bert captions his own photo"

    answer = anna.post(f"/attachments/{photo_id}/caption", data={"csrf": csrf, "caption": "Op de boot"})
    assert answer.status_code == 200 and 'alt="Op de boot"' in answer.text and "<figcaption>Op de boot" in answer.text


def test_only_who_shared_a_photo_captions_it(context, team):
    photo_id = share(context, team, "uitje.jpg", photo())
    run_jobs(context)
    bert, csrf = signed_in_with_csrf(context, "bert@example.com")

    assert bert.post(f"/attachments/{photo_id}/caption", data={"csrf": csrf, "caption": "Van mij"}).status_code == 403
    assert the(context, photo_id).caption is None


def test_a_caption_is_set_over_the_api_and_found_by_search(context, team):
    photo_id = share(context, team, "uitje.jpg", photo())
    run_jobs(context)
    with context.session_scope() as session:
        anna, bert = (accounts.get_user(session, f"{n}@example.com") for n in ("anna", "bert"))
        tokens = {n: accounts.create_api_token(session, u) for n, u in (("anna", anna), ("bert", bert))}
    api = TestClient(create_app(context), headers={"Authorization": f"Bearer {tokens['anna']}"})

    answer = api.patch(f"/api/attachments/{photo_id}", json={"caption": "  Zeilboot   op het IJ "})
    assert answer.status_code == 200
    assert answer.json()["caption"] == "Zeilboot op het IJ" and answer.json()["thumb_url"].endswith("/thumb")
    too_long = api.patch(f"/api/attachments/{photo_id}", json={"caption": "x" * 501})
    assert too_long.status_code == 400 and the(context, photo_id).caption == "Zeilboot op het IJ"
    other = TestClient(create_app(context), headers={"Authorization": f"Bearer {tokens['bert']}"})
    assert other.patch(f"/api/attachments/{photo_id}", json={"caption": "Mijn boot"}).status_code == 403

    context.settings.index_commit_interval = 0
    index_writer.flush(context)
    with context.session_scope() as session:
        found = searching.search(session, accounts.get_user(session, "bert@example.com"), "zeilboot")
    assert photo_id in {hit.hit.id for hit in found.results}


def without_id(page: str, photo_id: int) -> str:
    return page.replace(f"no photo {photo_id}", "X").replace(f"/attachments/{photo_id}/", "/attachments/X/")


def test_a_non_member_learns_nothing_of_a_photo_in_a_private_group(context, team):
    photo_id = share(context, team, "uitje.jpg", photo())
    run_jobs(context)
    olga = signed_in(context, "olga@example.com")

    for path in ("thumb", "large"):
        hidden, missing = olga.get(f"/attachments/{photo_id}/{path}"), olga.get(f"/attachments/999999/{path}")
        assert hidden.status_code == missing.status_code == 404
        assert without_id(hidden.text, photo_id) == without_id(missing.text, 999999)
    assert olga.post(f"/attachments/{photo_id}/caption", data={"caption": "x"}).status_code in (403, 404)
    with context.session_scope() as session:
        token = accounts.create_api_token(session, accounts.get_user(session, "olga@example.com"))
    api = TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})
    assert api.patch(f"/api/attachments/{photo_id}", json={"caption": "x"}).status_code == 404
    hidden, missing = api.get(f"/api/attachments/{photo_id}"), api.get("/api/attachments/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(photo_id), "N") == missing.json()["detail"].replace("999999", "N")


def test_a_photo_deleted_takes_its_sizes_with_it_once_swept(context, team):
    photo_id = share(context, team, "weg.jpg", photo())
    run_jobs(context)
    with context.session_scope() as session:
        gone = session.get(Attachment, photo_id)
        made = [photo_sizes.size_path(session, gone.sha256, size) for size in photo_sizes.SIZES]
        attachments.release(session, [gone])
        session.delete(gone)
    assert all(path.exists() for path in made)

    assert run_jobs(context, attachments.SWEEP_TASK) == 1

    assert not any(path.exists() for path in made)
