"""Photos shared in posts and comments: a thumbnail and a large size, made once by a worker, and what is served.

A photo attachment (`attachments.media_kind`) queues `PHOTO_SIZES_TASK` as its row is written; the worker
(`make_sizes`) decodes it within the budget profile photos use (a header read before any pixel, a pixel limit, a
byte limit), turns it upright by its EXIF orientation and writes each size as a fresh JPEG: no EXIF, no GPS, no
XMP, no comment survives re-encoding. The sizes sit under `PLEIN_DATA_DIR/photo_sizes/`, named by the photo's
SHA-256 like the store itself, so the same photo in ten threads is made once.

A file that is not an image, is cut short or claims too many pixels keeps its post: the reason is kept on the
attachment (`media_error`), shown to its author, and the file stays a download. That download never carries the
photo's location either (`served_original`): a photo with its sizes made is downloaded as the large size; one
without is stripped of its metadata segments byte by byte, which needs no decoding and so works on a broken file.
"""

from __future__ import annotations

import struct
import warnings
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.locale import N_
from hub.models import Attachment, Group, Post, User, utcnow
from hub.services import anonymity, indexing
from hub.services.attachments import PHOTO, media_kind, read_blob, sizes_path, write_durably
from hub.services.errors import Forbidden, Invalid, NotFound
from hub.services.photos import MAX_PIXELS
from hub.services.visibility import can_see

try:  # HEIC, as iPhones send it, where the wheel of pillow-heif exists for this machine
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - declared in pyproject; a platform without its wheel reads no HEIC
    register_heif_opener = None
else:
    register_heif_opener()

THUMB, LARGE = "thumb", "large"
SIZES = {THUMB: 320, LARGE: 1600}
"""Pixels on the longer side: the thumbnail in a thread and a group's grid (sharp at twice its size on the
page), and the size a photo opens at."""
MAX_BYTES = 50 * 1024 * 1024
"""A larger file is not decoded at all: no camera writes a photo this large."""
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "HEIF")
CAPTION_LENGTH = 500
ORIENTATION = 0x0112
"""The EXIF tag of how the camera was held."""
PAGE_SIZE = 48
"""Photos on one page of a group's photos: a grid of 6 by 8, or 4 by 12."""

NOT_READABLE = N_("it is not an image Plein can read (JPEG, PNG, GIF, WebP or HEIC)")
TRUNCATED = N_("the file is cut short or damaged")
TOO_MANY_PIXELS = N_("it has too many pixels (at most 40 million)")
TOO_LARGE = N_("the file is too large (at most 50 MB)")
TOO_SLOW = N_("reading it took too long")


class Unshowable(Exception):
    """A photo that cannot be shown; its message is one of the reasons above."""


def size_path(session: Session | Attachment, sha256: str, size: str) -> Path:
    return sizes_path(session, sha256).with_name(f"{sha256}-{SIZES[size]}.jpg")


def make_sizes(session: Session, attachment_id: int) -> Attachment | None:
    """Make the sizes of the photo attachment `attachment_id`, or record why it cannot be shown; None if it is
    gone or not a photo. Running twice does nothing the second time."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not is_photo(attachment):
        return None
    if attachment.media_ready_at is not None or attachment.media_error is not None:
        return attachment
    try:
        if attachment.size > MAX_BYTES:
            raise Unshowable(TOO_LARGE)
        (width, height), sized = sizes_of(read_blob(attachment))
    except Unshowable as unshowable:
        attachment.media_error = str(unshowable)
    else:
        for size, jpeg in sized.items():
            write_durably(size_path(session, attachment.sha256, size), jpeg)
        attachment.width, attachment.height = width, height
        attachment.media_ready_at = utcnow()
    session.flush()
    return attachment


def record_failure(session: Session, attachment_id: int, reason: str) -> str | None:
    """Record that the photo `attachment_id` cannot be shown, for `reason`; the reason, or None if it is gone."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    attachment.media_error = reason
    session.flush()
    return reason


def is_photo(attachment: Attachment) -> bool:
    return media_kind(attachment.content_type, attachment.filename) == PHOTO


def sizes_of(data: bytes) -> tuple[tuple[int, int], dict[str, bytes]]:
    """The upright size of the photo `data` and each of SIZES as a JPEG without metadata."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise Unshowable(TOO_MANY_PIXELS)
            width, height = image.size
            if image.getexif().get(ORIENTATION) in (5, 6, 7, 8):  # taken on its side
                width, height = height, width
            longest = max(width, height)
            # A JPEG decodes at a half, a quarter or an eighth of its size, the smallest still as large as needed.
            image.draft("RGB", (image.width * SIZES[LARGE] // longest, image.height * SIZES[LARGE] // longest))
            image.load()
            icc_profile = image.info.get("icc_profile") if image.mode == "RGB" else None  # a phone's wide colours
            upright = _flat(ImageOps.exif_transpose(image))
            upright.info = {}  # Pillow would write the comment and XMP it read into each JPEG it saves
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unshowable(TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise Unshowable(NOT_READABLE) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise Unshowable(TRUNCATED) from None
    sized = {}
    for size, pixels in sorted(SIZES.items(), key=lambda item: -item[1]):
        upright.thumbnail((pixels, pixels), Image.Resampling.LANCZOS, reducing_gap=2.0)  # each from the one before
        out = BytesIO()
        upright.save(out, "JPEG", quality=85, progressive=True, icc_profile=icc_profile)
        sized[size] = out.getvalue()
    return (width, height), sized


def _flat(image: Image.Image) -> Image.Image:
    """`image` in RGB, transparency on white."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba)
    return flat


def served_original(attachment: Attachment) -> tuple[bytes, str, str]:
    """What downloading `attachment` serves: its bytes, media type and file name. A photo never carries its
    location: a JPEG, PNG or WebP is the original without its metadata (a JPEG keeps only its orientation), a GIF
    (which has no EXIF) is served as it is, any other photo as its large size once made, and not before. A file
    that only has a photo's name or type is served as bytes of no known kind."""
    data = read_blob(attachment)
    if not is_photo(attachment):
        return data, attachment.content_type, attachment.filename
    if data.startswith(b"\xff\xd8"):
        return _stripped_jpeg(data), "image/jpeg", attachment.filename
    if data.startswith(_PNG):
        return _stripped_png(data), "image/png", attachment.filename
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _stripped_webp(data), "image/webp", attachment.filename
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return data, "image/gif", attachment.filename
    if attachment.media_ready_at is not None:
        large = size_path(attachment, attachment.sha256, LARGE).read_bytes()
        return large, "image/jpeg", f"{Path(attachment.filename).stem}.jpg"
    if data[4:8] == b"ftyp" or data[:4] in (b"II*\x00", b"MM\x00*"):  # HEIF or TIFF: EXIF that bytes won't shed
        raise NotFound("This photo can be downloaded once Plein has read it.")
    return data, "application/octet-stream", attachment.filename  # not an image at all, whatever its name says


_PNG = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_KEPT_APP = {0xE0, 0xEE}
"""JFIF and Adobe's colour transform; the ICC profile (APP2 `ICC_PROFILE`) too. Every other APPn (EXIF, XMP,
Photoshop's IPTC, MPF with its embedded images) and every comment goes."""


def _stripped_jpeg(data: bytes) -> bytes:
    """`data` without metadata segments and without what follows its image (phones append more pictures there,
    each with its own EXIF); its EXIF orientation alone is kept. Read as bytes, so a broken file is stripped too."""
    out = [b"\xff\xd8"]
    orientation = None
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            out.append(data[position : position + 2])
            position += 2
            continue
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position:end]
        if marker == 0xDA:  # start of scan: the image, up to its end marker
            image_end = data.find(b"\xff\xd9", end)
            out.append(data[position:] if image_end < 0 else data[position : image_end + 2])
            break
        if marker == 0xE1 and segment[4:10] == b"Exif\x00\x00" and orientation is None:
            orientation = _orientation(segment[4:])
        application = 0xE0 <= marker <= 0xEF
        if marker != 0xFE and (not application or marker in _JPEG_KEPT_APP or segment[4:16] == b"ICC_PROFILE\x00"):
            out.append(segment)
        position = end
    if orientation not in (None, 1):
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        payload = b"Exif\x00\x00" + exif.tobytes()
        out.insert(1, b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload)
    return b"".join(out)


def _orientation(payload: bytes) -> int | None:
    exif = Image.Exif()
    try:
        exif.load(payload)
    except (OSError, SyntaxError, ValueError, struct.error):
        return None
    orientation = exif.get(ORIENTATION)
    return orientation if orientation in range(1, 9) else None


def _stripped_png(data: bytes) -> bytes:
    out = [_PNG]
    position = len(_PNG)
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if kind not in _PNG_METADATA:
            out.append(data[position:end])
        if kind == b"IEND":
            break
        position = end
    return b"".join(out)


_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _stripped_webp(data: bytes) -> bytes:
    out = []
    position = 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        end = position + 8 + length + (length & 1)
        chunk = data[position:end]
        if kind == b"VP8X" and len(chunk) > 8:
            chunk = chunk[:8] + bytes([chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF]) + chunk[9:]
        if kind not in (b"EXIF", b"XMP "):
            out.append(chunk)
        position = end
    body = b"WEBP" + b"".join(out)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def photo_attachment(session: Session, viewer: User, attachment_id: int) -> Attachment:
    """The photo attachment `attachment_id` if `viewer` may see its post; NotFound otherwise, as for a post."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not is_photo(attachment) or not can_see(session, viewer, attachment.post.group):
        raise NotFound("no photo %(id)s", id=attachment_id)
    return attachment


def set_caption(session: Session, actor: User, attachment_id: int, caption: str) -> Attachment:
    """Caption a photo: its author's (of the post or comment it came with) to write; an empty one removes it."""
    attachment = photo_attachment(session, actor, attachment_id)
    if not anonymity.is_author(attachment.comment or attachment.post, actor):
        raise Forbidden("Only who shared a photo can caption it.")
    caption = " ".join(caption.split())
    if len(caption) > CAPTION_LENGTH:
        raise Invalid("A caption is at most %(count)s characters.", count=CAPTION_LENGTH)
    attachment.caption = caption or None
    session.flush()
    indexing.mark(session, "post", attachment.post_id)
    return attachment


def group_photos(session: Session, group: Group, page: int) -> tuple[list[Attachment], bool]:
    """One page of the photos shown in `group`, newest first, and whether there is a next page. The caller has
    checked that its reader may see the group."""
    found = list(
        session.scalars(
            select(Attachment)
            .join(Post, Post.id == Attachment.post_id)
            .where(Post.group_id == group.id, Attachment.media_ready_at.is_not(None))
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE
