"""Profile photos: any image a person sends comes out upright and square in two sizes, what is not a photo (or
too large, or a decompression bomb) is refused with nothing stored, and the avatar shows the photo."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hub.models import User
from hub.services import accounts, groups, photos, posts
from hub.services.errors import Forbidden, Invalid
from hub.web.app import create_app
from tests.support.web import csrf_of, signed_in

RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture
def people(context):
    """Anna and Bert, in Team, where Anna wrote a post; Carol, an admin; an API token for each."""
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        bert = accounts.create_user(session, "bert@example.com", "Bert Bos")
        carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
        carol.is_admin = True
        team = groups.create_group(session, "team", "Team")
        for person in (anna, bert):
            groups.add_member(session, team, person)
        posts.create_post(session, team, anna, "Planning", "Wie doet wat?")
        session.flush()
        return {u.email.partition("@")[0]: accounts.create_api_token(session, u) for u in (anna, bert, carol)}


def api(context, token: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})


def image(width: int, height: int, kind: str = "PNG", **save: object) -> bytes:
    """Left half red, right half blue."""
    picture = Image.new("RGB", (width, height), RED)
    picture.paste(BLUE, (width // 2, 0, width, height))
    out = BytesIO()
    picture.save(out, kind, **save)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is `width` x `height`: decoding it would take gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def stored(data_dir) -> list[str]:
    folder = data_dir / "photos"
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def fetched(client: TestClient, email: str, size: int) -> Image.Image:
    answer = client.get(f"/api/people/{email}/photo", params={"size": size})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    return Image.open(BytesIO(answer.content))


def colour_at(picture: Image.Image, x: int, y: int) -> str:
    r, _, b = picture.convert("RGB").getpixel((x, y))
    return "red" if r > b else "blue"


def test_a_wide_photo_comes_out_square_in_each_size_cropped_to_its_centre(context, people, data_dir):
    anna = api(context, people["anna"])

    answer = anna.put("/api/people/anna@example.com/photo", content=image(600, 300))

    assert answer.status_code == 200
    version = answer.json()["version"]
    assert answer.json()["urls"]["64"].endswith(f"/people/anna@example.com/photo?size=64&v={version}")
    for size in photos.SIZES:
        square = fetched(anna, "anna@example.com", size)
        assert square.size == (size, size)
        assert colour_at(square, 2, size // 2) == "red" and colour_at(square, size - 3, size // 2) == "blue"
    assert stored(data_dir) == [f"{version}-256.jpg", f"{version}-64.jpg"]


@pytest.mark.parametrize("mode", ["P", "1", "I;16", "LA", "CMYK"])
def test_a_large_image_in_any_mode_comes_out_as_a_square_jpeg(context, people, mode):
    picture = Image.new(mode, (1500, 1100))
    out = BytesIO()
    picture.save(out, "JPEG" if mode == "CMYK" else "PNG")

    answer = api(context, people["anna"]).put("/api/people/anna@example.com/photo", content=out.getvalue())

    assert answer.status_code == 200
    assert fetched(api(context, people["anna"]), "anna@example.com", 256).size == (256, 256)


def test_a_photo_taken_sideways_comes_out_upright_by_its_exif_orientation(context, people):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90 degrees clockwise
    sideways = image(400, 400, "JPEG", exif=exif.tobytes())  # red on the left as stored: on top once upright

    api(context, people["anna"]).put("/api/people/anna@example.com/photo", content=sideways)

    upright = fetched(api(context, people["anna"]), "anna@example.com", 256)
    assert colour_at(upright, 128, 5) == "red" and colour_at(upright, 128, 250) == "blue"
    assert colour_at(upright, 5, 128) == colour_at(upright, 250, 128)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7 not a photo at all", "This is not a photo Plein can read"),
        (image(100, 100)[:60], "This is not a photo Plein can read"),
        (png_claiming(100_000, 100_000), "The photo has too many pixels: at most 40 million."),
        (png_claiming(8_000, 6_000), "The photo has too many pixels: at most 40 million."),
        (image(100, 100, "TIFF"), "This is not a photo Plein can read"),
    ],
    ids=["not-an-image", "truncated", "decompression-bomb", "too-many-pixels", "tiff"],
)
def test_what_is_not_a_photo_plein_takes_is_refused_with_a_message_and_nothing_stored(
    context, people, data_dir, data, message
):
    anna = api(context, people["anna"])

    answer = anna.put("/api/people/anna@example.com/photo", content=data)

    assert answer.status_code == 400 and answer.json()["detail"].startswith(message)
    assert stored(data_dir) == []
    with context.session_scope() as session:
        assert accounts.get_user(session, "anna@example.com").photo_version is None


def test_a_photo_larger_than_the_setting_is_refused_unread_and_nothing_stored(context, people, data_dir):
    context.settings.photo_max_bytes = 2 * 1024 * 1024
    large = image(2000, 2000, "PNG", compress_level=0)
    assert len(large) > 2 * 1024 * 1024

    answer = api(context, people["anna"]).put("/api/people/anna@example.com/photo", content=large)

    assert answer.status_code == 400
    assert answer.json()["detail"] == "The photo is too large: at most 2 MB."
    assert stored(data_dir) == []


def test_a_person_may_not_set_or_remove_someone_elses_photo_but_an_admin_may(context, people, data_dir):
    bert = api(context, people["bert"])

    assert bert.put("/api/people/anna@example.com/photo", content=image(80, 80)).status_code == 403
    assert stored(data_dir) == []
    assert api(context, people["carol"]).put("/api/people/anna@example.com/photo", content=image(80, 80)).is_success
    assert bert.delete("/api/people/anna@example.com/photo").status_code == 403
    assert bert.get("/api/people/anna@example.com/photo").status_code == 200
    assert api(context, people["carol"]).delete("/api/people/anna@example.com/photo").status_code == 204
    assert bert.get("/api/people/anna@example.com/photo").status_code == 404
    assert stored(data_dir) == []


def test_a_new_photo_replaces_the_old_files_only_once_the_transaction_commits(context, people, data_dir):
    with context.session_scope() as session:
        anna = accounts.get_user(session, "anna@example.com")
        first = photos.set_photo(session, anna, anna, image(80, 80))
    with pytest.raises(RuntimeError), context.session_scope() as session:
        anna = accounts.get_user(session, "anna@example.com")
        photos.set_photo(session, anna, anna, image(90, 90))
        raise RuntimeError("the request failed after the photo")
    with context.session_scope() as session:
        assert accounts.get_user(session, "anna@example.com").photo_version == first
    assert {f"{first}-64.jpg", f"{first}-256.jpg"} <= set(stored(data_dir))
    with context.session_scope() as session:
        anna = accounts.get_user(session, "anna@example.com")
        second = photos.set_photo(session, anna, anna, image(90, 90))
    assert stored(data_dir) == [f"{second}-256.jpg", f"{second}-64.jpg"]


def test_the_service_refuses_someone_elses_photo_before_reading_it(context, people):
    with context.session_scope() as session:
        anna, bert = (accounts.get_user(session, f"{n}@example.com") for n in ("anna", "bert"))
        with pytest.raises(Forbidden):
            photos.set_photo(session, bert, anna, b"not even an image")
        with pytest.raises(Invalid):
            photos.set_photo(session, anna, anna, b"not even an image")


def test_a_photo_is_fetched_with_a_long_cache_under_its_version_and_revalidated_by_etag(context, people):
    anna = api(context, people["anna"])
    version = anna.put("/api/people/anna@example.com/photo", content=image(80, 80)).json()["version"]
    browser = signed_in(context, "bert@example.com")

    current = browser.get("/people/anna@example.com/photo", params={"size": 64, "v": version})
    stale = browser.get("/people/anna@example.com/photo", params={"size": 64, "v": "older"})
    again = browser.get("/people/anna@example.com/photo?size=64", headers={"If-None-Match": current.headers["etag"]})

    assert "max-age=31536000" in current.headers["cache-control"] and "private" in current.headers["cache-control"]
    assert stale.headers["cache-control"] == "private, no-cache" and stale.content == current.content
    assert again.status_code == 304
    assert browser.get("/people/anna@example.com/photo", params={"size": 100}).status_code == 404


def test_the_avatar_shows_the_photo_where_there_is_one_and_initials_elsewhere(context, people):
    version = (
        api(context, people["anna"]).put("/api/people/anna@example.com/photo", content=image(80, 80)).json()["version"]
    )
    bert = signed_in(context, "bert@example.com")

    team = bert.get("/g/team").text
    profile = bert.get("/people/anna@example.com").text

    assert f'<img class="avatar" src="/people/anna@example.com/photo?v={version}&amp;size=64"' in team
    assert f'src="/people/anna@example.com/photo?v={version}&amp;size=256"' in profile
    assert "Upload photo" not in profile
    assert ">BB</span>" in bert.get("/people/bert@example.com").text


def test_a_person_uploads_and_removes_their_photo_on_their_profile_page(context, people, data_dir):
    anna = signed_in(context, "anna@example.com")
    page = anna.get("/people/anna@example.com")
    assert "Upload photo" in page.text and "Remove photo" not in page.text

    uploaded = anna.post(
        "/people/anna@example.com/photo",
        data={"csrf": csrf_of(page.text)},
        files={"photo": ("me.jpg", image(300, 200, "JPEG"), "image/jpeg")},
    )

    assert uploaded.status_code == 200 and '<img class="avatar"' in uploaded.text and "Remove photo" in uploaded.text
    removed = anna.post("/people/anna@example.com/photo/remove", data={"csrf": csrf_of(uploaded.text)})
    assert removed.status_code == 200 and '<img class="avatar"' not in removed.text
    assert stored(data_dir) == []
    assert list((data_dir / "uploads").iterdir()) == []


def test_a_file_that_is_not_a_photo_is_refused_on_the_profile_page_in_the_readers_language(context, people, data_dir):
    with context.session_scope() as session:
        session.query(User).filter_by(email="anna@example.com").one().language = "nl"
    anna = signed_in(context, "anna@example.com")
    page = anna.get("/people/anna@example.com")

    refused = anna.post(
        "/people/anna@example.com/photo",
        data={"csrf": csrf_of(page.text)},
        files={"photo": ("cv.pdf", b"%PDF-1.7", "application/pdf")},
    )

    assert refused.status_code == 400
    assert 'role="alert">Dit is geen foto die Plein kan lezen' in refused.text
    assert stored(data_dir) == []


def test_the_photo_form_without_its_csrf_token_changes_nothing(context, people, data_dir):
    anna = signed_in(context, "anna@example.com")

    refused = anna.post("/people/anna@example.com/photo", files={"photo": ("me.png", image(80, 80), "image/png")})

    assert refused.status_code == 403
    assert stored(data_dir) == []


def test_only_someone_signed_in_sees_a_photo(context, people):
    api(context, people["anna"]).put("/api/people/anna@example.com/photo", content=image(80, 80))
    stranger = TestClient(create_app(context), follow_redirects=False)

    assert stranger.get("/people/anna@example.com/photo?size=64").headers["location"] == "/sign-in"
    assert stranger.get("/api/people/anna@example.com/photo").status_code == 401
    assert stranger.put("/api/people/anna@example.com/photo", content=image(80, 80)).status_code == 401


def test_a_person_who_leaves_keeps_their_photo_beside_what_they_wrote(context, people):
    version = (
        api(context, people["anna"]).put("/api/people/anna@example.com/photo", content=image(80, 80)).json()["version"]
    )
    with context.session_scope() as session:
        accounts.deactivate(session, accounts.get_user(session, "anna@example.com"))

    team = signed_in(context, "bert@example.com").get("/g/team").text

    assert f'src="/people/anna@example.com/photo?v={version}&amp;size=64"' in team
