"""Videos play inline: a worker makes the poster frame and reads the duration with ffmpeg, once.

Real short videos are made with ffmpeg in the test and go through the real path: posted on the
web, the job queued after commit, taken off the broker and run by the Celery task as a worker
would. A "video" ffmpeg cannot read keeps its post, stays a download and says so to its author.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient

from hub.models import Attachment, Post
from hub.services import accounts, attachments, groups, index_writer, posts, searching, videos
from hub.web.app import create_app
from tests.support.web import csrf_of, signed_in
from tests.support.worker import run_jobs
from workers import tasks


def require_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ffmpeg is not installed; .ci/run installs ffmpeg")
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")


def made_video(folder, name: str, codec_options: list[str], seconds: float = 3) -> bytes:
    """A test pattern of `seconds` at 320x240, encoded by ffmpeg as `name` says."""
    require_ffmpeg()
    path = folder / name
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=duration={seconds}:size=320x240:rate=10",
            *codec_options,
            "-y",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


@pytest.fixture
def company(context, monkeypatch):
    """Alice posts to Engineering; Bob is a member too; Carol is in no group; Board is private. Tasks run here."""
    monkeypatch.setattr(tasks, "context", context)
    with context.session_scope() as session:
        people = {n: accounts.create_user(session, f"{n}@example.com", n.title()) for n in ("alice", "bob", "carol")}
        for slug, private in (("engineering", False), ("board", True)):
            group = groups.create_group(session, slug, slug.title(), private=private)
            groups.add_member(session, group, people["alice"])
            groups.add_member(session, group, people["bob"])




def post_file(context, email: str, slug: str, filename: str, data: bytes, content_type: str) -> int:
    """Post `data` as a file on the group page; the new post's id."""
    browser = signed_in(context, email)
    made = browser.post(
        f"/g/{slug}/posts",
        data={"csrf": csrf_of(browser.get(f"/g/{slug}").text), "title": "Montage lift B", "body": "Zo gaat het."},
        files=[("files", (filename, data, content_type))],
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


def the_attachment(context, post_id: int) -> Attachment:
    with context.session_scope() as session:
        found = session.query(Attachment).filter_by(post_id=post_id).one()
        session.expunge(found)
        return found


@pytest.mark.parametrize(
    ("filename", "content_type", "codec"),
    [
        ("montage.mp4", "video/mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
        ("montage.webm", "video/webm", ["-c:v", "libvpx", "-b:v", "200k"]),
    ],
)
def test_a_posted_video_gets_its_poster_and_duration_from_the_worker_and_plays_inline(
    context,
    company,
    tmp_path,
    filename,
    content_type,
    codec,
):
    post_id = post_file(
        context, "alice@example.com", "engineering", filename, made_video(tmp_path, filename, codec), content_type
    )

    assert run_jobs(context, attachments.VIDEO_POSTER_TASK) == 1
    video = the_attachment(context, post_id)
    assert abs(video.duration_ms - 3000) <= 150
    assert (video.video_width, video.video_height) == (320, 240)
    assert video.poster_made_at is not None and video.video_error is None

    bob = signed_in(context, "bob@example.com")
    page = bob.get(f"/p/{post_id}").text
    assert '<video controls preload="metadata"' in page and f'poster="/posters/{video.id}.jpg"' in page
    assert f'<source src="/attachments/{video.id}/{filename}" type="{content_type}">' in page
    assert '<span class="duration">0:03</span>' in page
    poster = bob.get(f"/posters/{video.id}.jpg")
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content.startswith(b"\xff\xd8")  # a JPEG
    assert bob.get(f"/attachments/{video.id}/{filename}").headers["content-disposition"].startswith("inline;")


def test_running_the_poster_task_twice_changes_nothing(context, company, tmp_path):
    post_id = post_file(
        context,
        "alice@example.com",
        "engineering",
        "kort.mp4",
        made_video(tmp_path, "kort.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], seconds=1),
        "video/mp4",
    )
    run_jobs(context, attachments.VIDEO_POSTER_TASK)
    first = the_attachment(context, post_id)

    tasks.video_poster(first.id)

    again = the_attachment(context, post_id)
    assert (again.poster_made_at, again.duration_ms) == (first.poster_made_at, first.duration_ms)
    assert abs(first.duration_ms - 1000) <= 150


def test_a_video_ffmpeg_cannot_read_keeps_its_post_stays_a_download_and_tells_its_author(context, company):
    require_ffmpeg()
    post_id = post_file(
        context, "alice@example.com", "engineering", "kapot.mp4", b"\x00\x00\x00\x18ftypmp42" + b"x" * 4000, "video/mp4"
    )

    assert run_jobs(context, attachments.VIDEO_POSTER_TASK) == 1
    broken = the_attachment(context, post_id)
    assert broken.video_error == videos.UNREADABLE
    assert broken.poster_made_at is None and broken.duration_ms is None
    with context.session_scope() as session:
        assert session.get(Post, post_id) is not None

    for email, told in (("alice@example.com", True), ("bob@example.com", False)):
        page = signed_in(context, email).get(f"/p/{post_id}").text
        assert "<video" not in page
        assert f'<a href="/attachments/{broken.id}/kapot.mp4">kapot.mp4</a>' in page
        assert ("This video could not be read" in page) is told
    assert signed_in(context, "bob@example.com").get(f"/posters/{broken.id}.jpg").status_code == 404


def test_a_video_too_slow_to_read_is_recorded_as_such(context, company, tmp_path, monkeypatch):
    require_ffmpeg()
    post_id = post_file(
        context,
        "alice@example.com",
        "engineering",
        "lang.webm",
        made_video(tmp_path, "lang.webm", ["-c:v", "libvpx", "-b:v", "200k"], seconds=1),
        "video/webm",
    )
    monkeypatch.setattr(videos, "TIME_LIMIT", 0.001)

    run_jobs(context, attachments.VIDEO_POSTER_TASK)

    assert the_attachment(context, post_id).video_error == videos.TOO_SLOW


def test_a_non_member_learns_nothing_of_a_private_groups_video_or_its_poster(context, company, tmp_path):
    post_id = post_file(
        context,
        "alice@example.com",
        "board",
        "geheim.mp4",
        made_video(tmp_path, "geheim.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], seconds=1),
        "video/mp4",
    )
    run_jobs(context, attachments.VIDEO_POSTER_TASK)
    video = the_attachment(context, post_id)
    carol = signed_in(context, "carol@example.com")

    hidden, missing = (carol.get(f"/posters/{n}.jpg") for n in (video.id, video.id + 1000))

    assert hidden.status_code == missing.status_code == 404
    assert "geheim" not in hidden.text
    assert hidden.text == missing.text.replace(f"/posters/{video.id + 1000}.jpg", f"/posters/{video.id}.jpg").replace(
        f"no attachment {video.id + 1000}", f"no attachment {video.id}"
    )
    assert TestClient(create_app(context)).get(f"/posters/{video.id}.jpg", follow_redirects=False).status_code in (
        303,
        401,
    )


def test_the_sweep_that_removes_a_video_removes_its_poster(context, company, tmp_path):
    post_id = post_file(
        context,
        "alice@example.com",
        "engineering",
        "weg.mp4",
        made_video(tmp_path, "weg.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], seconds=1),
        "video/mp4",
    )
    run_jobs(context, attachments.VIDEO_POSTER_TASK)
    video = the_attachment(context, post_id)
    poster = attachments.poster_file(context.settings.attachments_dir, video.sha256)
    assert poster.exists()

    with context.session_scope() as session:
        session.delete(session.get(Post, post_id))
    with context.session_scope() as session:
        assert attachments.sweep(session, [video.sha256]) == [video.sha256]

    assert not poster.exists()


def test_the_indexer_finds_a_video_by_its_name_without_reading_it_into_memory(context, company, monkeypatch):
    with context.session_scope() as session:
        post = posts.create_post(
            session,
            groups.get_group(session, "engineering"),
            accounts.get_user(session, "alice@example.com"),
            "Montage",
            "De film.",
        )
        film_id = attachments.attach(session, post, "montage-lift.mp4", "video/mp4", b"\x00" * 4096).id
    monkeypatch.setattr(index_writer, "read_blob", lambda attachment: pytest.fail(f"read {attachment.filename}"))

    index_writer.flush(context)
    index_writer.reindex(context)  # which reads the text of every file not read yet

    with context.session_scope() as session:
        assert session.get(Attachment, film_id).extracted_text == ""
        found = searching.search(session, accounts.get_user(session, "bob@example.com"), "montage-lift")
        assert [r.hit.post_id for r in found.results][:1] == [post.id]
