"""One search finds every way of sharing, each under its own kind: `kind:status`, `kind:photo`, `kind:video`."""

import io
import os

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hub.models import Post, utcnow
from hub.services import accounts, attachments, groups, index_writer, personal, photo_sizes, posts, reactions, searching
from hub.web.app import create_app
from tests.support.web import signed_in_with_csrf


@pytest.fixture(autouse=True)
def commit_at_once(monkeypatch):
    monkeypatch.setenv("PLEIN_INDEX_COMMIT_INTERVAL", "0")


@pytest.fixture
def shared(context, data_dir):
    """A status, a titled post with a photo, a video, a PDF and a signature logo, all about the same dike."""
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
        engineering = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, engineering, alice)
        status = personal.post_status(session, alice, "Bezig met de dijkinspectie bij Lelystad", "engineering")
        report = posts.create_post(session, engineering, alice, "Dijkinspectie verslag", "Zie de bijlagen")
        photo = attachments.attach(session, report, "dijkinspectie.jpg", "image/jpeg", b"\xff\xd8" + b"x" * 30_000)
        video = attachments.attach(session, report, "dijkinspectie.mp4", "application/octet-stream", b"v" * 30_000)
        document = attachments.attach(session, report, "dijkinspectie.txt", "text/plain", b"meetwaarden dijk")
        logo = attachments.attach(session, report, "dijkinspectie-logo.png", "image/png", b"\x89PNG" + b"x" * 500)
        ids = {"status": status.id, "post": report.id, "photo": photo.id, "video": video.id,
               "document": document.id, "logo": logo.id, "alice": alice.id}
    index_writer.flush(context)
    return ids


def kinds_found(context, user_id, query, kind=None):
    with context.session_scope() as session:
        found = searching.search(session, session.get(accounts.User, user_id), query, kind, 1)
        return sorted((result.hit.kind, result.hit.id) for result in found.results), found


def test_each_way_of_sharing_is_found_under_its_own_kind(context, shared):
    found, _ = kinds_found(context, shared["alice"], "dijkinspectie")
    assert [item for item in found if item[0] != "person"] == sorted([
        ("status", shared["status"]), ("post", shared["post"]), ("photo", shared["photo"]),
        ("video", shared["video"]), ("document", shared["document"]),
    ])


def test_a_small_picture_without_words_is_left_out_as_the_logo_of_a_signature(context, shared):
    found, _ = kinds_found(context, shared["alice"], "logo")
    assert ("photo", shared["logo"]) not in found


@pytest.mark.parametrize("kind", ["status", "post", "photo", "video", "document"])
def test_the_kind_filter_and_the_kind_written_in_the_query_find_only_that_kind(context, shared, kind):
    assert kinds_found(context, shared["alice"], "dijkinspectie", kind)[0] == [(kind, shared[kind])]
    assert kinds_found(context, shared["alice"], f"dijkinspectie kind:{kind}")[0] == [(kind, shared[kind])]


def test_the_kind_facet_counts_each_kind(context, shared):
    _, found = kinds_found(context, shared["alice"], "dijkinspectie")
    counts = {facet.value: facet.count for facet in found.facets["kind"] if facet.value != "kind:person"}
    assert counts == {"kind:status": 1, "kind:post": 1, "kind:photo": 1, "kind:video": 1, "kind:document": 1}


def test_a_status_given_a_title_is_found_as_a_post_and_no_longer_as_a_status(context, shared):
    with context.session_scope() as session:
        status = session.get(Post, shared["status"])
        posts.edit_post(session, status, status.author, "Dijkinspectie Lelystad", status.body_text)
    index_writer.flush(context)
    assert kinds_found(context, shared["alice"], "lelystad -kind:person")[0] == [("post", shared["status"])]


def test_a_status_shows_its_reactions_in_search_results_like_a_post(context, shared):
    with context.session_scope() as session:
        alice = session.get(accounts.User, shared["alice"])
        reactions.react(session, alice, session.get(Post, shared["status"]), "like")
    with context.session_scope() as session:
        alice = session.get(accounts.User, shared["alice"])
        counts = reactions.counts_of(session, alice, [("status", shared["status"])])
    assert counts[("status", shared["status"])]["like"] == 1


def test_an_unknown_kind_is_refused_with_the_kinds_there_are(context, shared):
    with context.session_scope() as session, pytest.raises(searching.Invalid) as refused:
        searching.search(session, session.get(accounts.User, shared["alice"]), "dijk", "podcast", 1)
    assert "status" in str(refused.value) and "video" in str(refused.value)


def noisy_jpeg() -> bytes:
    """A photo as a camera makes one: too large and too busy to be a signature's logo."""
    picture = Image.frombytes("RGB", (320, 240), os.urandom(320 * 240 * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def api_client(context, user_id: int) -> TestClient:
    with context.session_scope() as session:
        token = accounts.create_api_token(session, session.get(accounts.User, user_id))
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def album(context, data_dir):
    """A photo with its sizes made and a video with its poster, in a private group Alice is in and Bob is not."""
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice Aalders")
        bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
        board = groups.create_group(session, "directie", "Directie", private=True)
        groups.add_member(session, board, alice)
        post = posts.create_post(session, board, alice, "Heidag", "Foto en film van de heidag")
        photo = attachments.attach(session, post, "heidag.jpg", "image/jpeg", noisy_jpeg())
        film = attachments.attach(session, post, "heidag.mp4", "video/mp4", b"\x00" * 4096)
        bare = attachments.attach(session, post, "heidag-nog-niet.jpg", "image/jpeg", noisy_jpeg())
        session.flush()
        photo_sizes.make_sizes(session, photo.id)
        film.poster_made_at = utcnow()  # the worker's part (tests/hub/test_videos.py)
        ids = {"alice": alice.id, "bob": bob.id, "photo": photo.id, "film": film.id, "bare": bare.id}
    index_writer.flush(context)
    return ids


def test_a_photo_shows_its_thumbnail_and_a_video_its_poster_among_the_results(context, album):
    with context.session_scope() as session:
        found = searching.search(session, session.get(accounts.User, album["alice"]), "heidag", None, 1)
    thumbnails = {(f.hit.kind, f.hit.id): f.thumbnail for f in found.results}
    assert thumbnails[("photo", album["photo"])] == f"/attachments/{album['photo']}/thumb"
    assert thumbnails[("video", album["film"])] == f"/posters/{album['film']}.jpg"
    assert thumbnails[("photo", album["bare"])] is None  # no sizes yet: no broken image


def test_the_search_page_and_the_api_show_the_thumbnail_only_to_who_may_see_the_photo(context, album):
    alice, _ = signed_in_with_csrf(context, "alice@example.com")
    page = alice.get("/search", params={"q": "heidag", "kind": "photo"})
    assert f'<img src="/attachments/{album["photo"]}/thumb"' in page.text
    assert alice.get(f"/attachments/{album['photo']}/thumb").status_code == 200
    api = api_client(context, album["alice"]).get("/api/search", params={"q": "heidag kind:video"}).json()
    assert api["results"][0]["thumbnail_url"].endswith(f"/posters/{album['film']}.jpg")

    bob, _ = signed_in_with_csrf(context, "bob@example.com")
    assert "/thumb" not in bob.get("/search", params={"q": "heidag"}).text
    assert api_client(context, album["bob"]).get("/api/search", params={"q": "heidag"}).json()["total"] == 0
    assert bob.get(f"/attachments/{album['photo']}/thumb").status_code == 404
