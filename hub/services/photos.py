"""Profile photos: an uploaded image, decoded within a budget, turned upright, cropped to a square and stored in
the sizes pages show, under `PLEIN_DATA_DIR/photos/<user id>/`.

Uploaded bytes are hostile input. A file larger than `PLEIN_PHOTO_MAX_BYTES` is refused unread; of the rest only
the header is read before the pixel count is checked against `MAX_PIXELS`, so a small file that claims to be a
huge picture (a decompression bomb) is refused before any pixel is decoded. Only the formats browsers show are
opened.

Each photo has a random `User.photo_version`, part of its file names and of its URL, so a browser may keep it for
a year and a new photo is a new URL. The files are written (to temporary names, renamed into place) before the row
names them; files no row names any more go once the transaction commits, and a rollback keeps the old photo.
A person who leaves keeps their photo beside what they wrote, as HumHub does.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import User
from hub.services.attachments import write_durably
from hub.services.errors import Forbidden, Invalid, NotFound

SIZES = (64, 256)
"""Pixels a side: the avatar beside a name (sharp at twice its size on the page), and the profile's."""
MAX_PIXELS = 40_000_000
"""A photo from any camera fits (a 40-megapixel one); decoding one takes at most 160 MB, four bytes a pixel."""
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "CMYK", "YCbCr")
"""Modes `Image.reduce` takes; a palette, one-bit or 16-bit image is converted first."""
_STALE = "plein.photos.stale"
_LISTENING = "plein.photos.listening"


def set_photo(session: Session, actor: User, person: User, data: bytes) -> str:
    """Make `data` `person`'s photo; its version. Invalid (nothing stored) if it is not a photo Plein takes."""
    _may_change(actor, person)
    if len(data) > context_of(session).settings.photo_max_bytes:
        raise too_large(session)
    squares = _squares(data)
    version = secrets.token_hex(8)
    folder = _folder(session, person)
    for size, jpeg in squares.items():
        write_durably(folder / _name(version, size), jpeg)
    person.photo_version = version
    session.flush()
    _remove_others_after_commit(session, folder, version)
    return version


def remove_photo(session: Session, actor: User, person: User) -> None:
    _may_change(actor, person)
    person.photo_version = None
    session.flush()
    _remove_others_after_commit(session, _folder(session, person), None)


def photo_path(session: Session, person: User, size: int) -> Path:
    """The file of `person`'s photo `size` pixels a side; NotFound if they have none or there is no such size."""
    if person.photo_version is None or size not in SIZES:
        raise NotFound("no such photo")
    return _folder(session, person) / _name(person.photo_version, size)


def versions_on_page(session: Session) -> Callable[[str], str | None]:
    """The version of the photo of the person with an email, if they have one, for one page: from the people's rows
    the session holds already (a page has loaded most of the people it names before it renders), else by a query."""
    loaded: dict[str, str | None] | None = None

    def version_of(email: str) -> str | None:
        nonlocal loaded
        if loaded is None:
            loaded = {
                person.email: person.photo_version
                for person in list(session.identity_map.values())
                if isinstance(person, User) and "photo_version" in person.__dict__
            }
        if email in loaded:
            return loaded[email]
        return session.scalar(select(User.photo_version).where(User.email == email))

    return version_of


def _may_change(actor: User, person: User) -> None:
    if actor.id != person.id and not actor.is_admin:
        raise Forbidden("you can only change your own photo")


def _squares(data: bytes) -> dict[int, bytes]:
    """`data` decoded, upright and cropped to a centred square, as a JPEG of each size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError(image.size)
            image.draft("RGB", (max(SIZES), max(SIZES)))  # JPEG decodes at a fraction of its size: less memory
            image.load()
            if image.mode not in _REDUCIBLE:
                image = image.convert("RGBA")
            # Shrunk at once, so no other full-size copy is made.
            image = image.reduce(max(1, min(image.size) // (2 * max(SIZES))))
            upright = ImageOps.exif_transpose(image).convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid(
            "The photo has too many pixels: at most %(megapixels)s million.", megapixels=MAX_PIXELS // 1_000_000
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid("This is not a photo Plein can read: send a JPEG, PNG, GIF or WebP image.") from None
    flat = Image.new("RGB", upright.size, "white")  # transparency becomes white, not black
    flat.paste(upright, mask=upright)
    squares = {}
    for size in SIZES:
        out = BytesIO()
        ImageOps.fit(flat, (size, size), Image.Resampling.LANCZOS).save(out, "JPEG", quality=85, optimize=True)
        squares[size] = out.getvalue()
    return squares


def too_large(session: Session) -> Invalid:
    """Why a photo larger than `PLEIN_PHOTO_MAX_BYTES` is refused."""
    limit = context_of(session).settings.photo_max_bytes
    return Invalid("The photo is too large: at most %(megabytes)s MB.", megabytes=f"{limit / 1024 / 1024:g}")


def _folder(session: Session, person: User) -> Path:
    return context_of(session).settings.photos_dir / str(person.id)


def _name(version: str, size: int) -> str:
    return f"{version}-{size}.jpg"


def _remove_others_after_commit(session: Session, folder: Path, keep: str | None) -> None:
    """Once the transaction commits, remove the files in `folder` but those of version `keep`."""
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _remove_stale)
        event.listen(session, "after_soft_rollback", lambda session, _: session.info.pop(_STALE, None))
    session.info[_STALE] = session.info.get(_STALE, {}) | {folder: keep}


def _remove_stale(session: Session) -> None:
    for folder, keep in session.info.pop(_STALE, {}).items():
        for path in folder.glob("*"):
            if keep is None or not path.name.startswith(f"{keep}-"):
                path.unlink(missing_ok=True)
