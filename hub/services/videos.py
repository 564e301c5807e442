"""Videos: a poster frame, the duration and the frame size, made once by a worker with ffprobe and ffmpeg.

A video is outside input: each program runs as a subprocess on the stored file's path, never
through a shell, reading local files only (`-protocol_whitelist file`, so a playlist dressed up
as an MP4 fetches nothing), under a time limit and a memory and CPU limit (`setrlimit` in the
child). A video they cannot read keeps its post: the file stays a download, the reason is kept in
`video_error` and its author sees it on the post. It runs in a task of its own, so nothing else
waits for it.

The poster is a JPEG beside the store, named by the video's SHA-256 (`attachments.poster_file`),
so the same video shared twice has one poster, and the sweep that removes the video removes it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Attachment, utcnow
from hub.services.attachments import VIDEO, media_kind, poster_file, stored_path
from hub.urls import poster_path

PLAYABLE_TYPES = ("video/mp4", "video/webm")
"""What browsers play in a <video> element; other videos (QuickTime) are offered as a download."""
_PLAYABLE_SUFFIXES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm"}

TIME_LIMIT = 60.0
"""Seconds ffprobe or ffmpeg may take for one video; the frame is taken near the start, so a sound file is quick."""
MEMORY_LIMIT = 1024 * 1024 * 1024
"""Bytes of address space either program may map."""
POSTER_WIDTH = 960

UNREADABLE, TOO_SLOW, NO_PICTURE = "unreadable", "too_slow", "no_picture"
"""What `video_error` holds; the post page says it in words (templates/web/_attachment.html)."""


class _Unreadable(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(frozen=True)
class VideoCard:
    """How the post page shows a video attachment."""

    source_type: str | None
    """The type of the player's <source>, or None when the browser gets a download link only."""
    poster_url: str | None
    duration: str | None
    """As a player shows it: `0:07`, `1:02:05`."""
    error: str | None
    """UNREADABLE, TOO_SLOW or NO_PICTURE when ffmpeg could not read it."""


def make_poster(session: Session, attachment_id: int) -> Attachment | None:
    """Read the video attachment's duration and size and make its poster frame, once; or record why it cannot."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or media_kind(attachment.content_type, attachment.filename) != VIDEO:
        return None
    if attachment.poster_made_at is not None or attachment.video_error is not None:
        return attachment
    video = stored_path(attachment)
    try:
        duration, width, height = _probe(video)
        _grab_frame(video, poster_file(context_of(session).settings.attachments_dir, attachment.sha256), duration)
    except _Unreadable as unreadable:
        attachment.video_error = unreadable.reason
    else:
        attachment.duration_ms = None if duration is None else round(duration * 1000)
        attachment.video_width, attachment.video_height = width, height
        attachment.poster_made_at = utcnow()
    session.flush()
    return attachment


def cards(attachments: list[Attachment]) -> dict[int, VideoCard]:
    """The video cards of those of `attachments` that are videos, by attachment id."""
    return {a.id: _card(a) for a in attachments if media_kind(a.content_type, a.filename) == VIDEO}


def poster_of(attachment: Attachment) -> Path | None:
    """The poster frame's file, once made."""
    if attachment.poster_made_at is None:
        return None
    path = poster_file(context_of(attachment).settings.attachments_dir, attachment.sha256)
    return path if path.exists() else None


def _card(attachment: Attachment) -> VideoCard:
    playable = attachment.content_type if attachment.content_type in PLAYABLE_TYPES else None
    playable = playable or _PLAYABLE_SUFFIXES.get(Path(attachment.filename).suffix.lower())
    return VideoCard(
        source_type=None if attachment.video_error else playable,
        poster_url=poster_path(attachment.id) if attachment.poster_made_at else None,
        duration=None if attachment.duration_ms is None else _clock(attachment.duration_ms),
        error=attachment.video_error,
    )


def _clock(milliseconds: int) -> str:
    """
    >>> _clock(7400), _clock(62_000), _clock(3_725_000)
    ('0:07', '1:02', '1:02:05')
    """
    hours, rest = divmod(round(milliseconds / 1000), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def _probe(video: Path) -> tuple[float | None, int, int]:
    """The duration in seconds (None when the container does not say) and the frame's width and height."""
    output = _run(
        [
            "ffprobe",
            "-v",
            "error",
            "-protocol_whitelist",
            "file",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,duration:format=duration",
            "-of",
            "json",
            f"file:{video}",
        ]
    )
    try:
        found = json.loads(output)
        stream = found["streams"][0]
        width, height = int(stream["width"]), int(stream["height"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise _Unreadable(NO_PICTURE) from None
    for duration in (found.get("format", {}).get("duration"), stream.get("duration")):
        try:
            return float(duration), width, height
        except (TypeError, ValueError):
            continue
    return None, width, height


def _grab_frame(video: Path, poster: Path, duration: float | None) -> None:
    """A frame a second in (or halfway into a shorter video) as a JPEG at `poster`, written whole or not at all."""
    at = 1.0 if duration is None or duration >= 2 else duration / 2
    poster.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=poster.parent, prefix=".poster-", suffix=".jpg")
    os.close(fd)
    try:
        _run(
            [
                "ffmpeg",
                "-nostdin",
                "-v",
                "error",
                "-protocol_whitelist",
                "file",
                "-threads",
                "1",
                "-ss",
                f"{at:.3f}",
                "-i",
                f"file:{video}",
                "-frames:v",
                "1",
                "-vf",
                f"scale='min({POSTER_WIDTH},iw)':-2",
                "-q:v",
                "4",
                "-f",
                "image2",
                "-y",
                temporary,
            ]
        )
        if os.path.getsize(temporary) == 0:
            raise _Unreadable(NO_PICTURE)
        os.replace(temporary, poster)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=TIME_LIMIT,
            preexec_fn=_limit_child,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _Unreadable(TOO_SLOW) from None
    if done.returncode != 0:
        raise _Unreadable(UNREADABLE)
    return done.stdout.decode("utf-8", "replace")


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    cpu = int(TIME_LIMIT) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
