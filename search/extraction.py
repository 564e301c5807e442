"""Plain text out of attached files, so documents can be searched like posts.

Attachments arrive from strangers by mail. A file that is too large, broken or
password-protected raises `Unreadable` with the reason; one of a type with no extractor (a
video) yields "". The type comes from the content type, or from the file name when the
content type is missing or generic. Office files are zips of XML: PDF, DOCX, PPTX (slides and
notes), XLSX (sheet names and cell values, read row by row) and OpenDocument (content.xml,
parsed without DTDs or entities). Images are read by Tesseract (OCR, Dutch and English),
scaled down first to at most `MAX_OCR_PIXELS`. Nothing here limits time or memory: run it
through `search.extractor`, whose child process does, and whose limits Tesseract inherits.
"""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import PurePath

MAX_INPUT_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""A DOCX is a zip: refuse one that would inflate beyond this (a zip bomb)."""
MAX_OUTPUT_CHARS = 1_000_000
MAX_DECODED_PIXELS = 60_000_000
"""An image beyond this many pixels is refused before it is decoded (a decompression bomb)."""
MAX_OCR_PIXELS = 12_000_000
"""Tesseract reads at most this many pixels: an A4 scan at 300 dpi (8.7 million) whole, a bigger photo scaled down."""
OCR_LANGUAGES = "nld+eng"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""An encrypted Office Open XML file is an OLE compound file holding the encrypted zip, not a zip."""


class Unreadable(Exception):
    """A file of a type with an extractor that could not be read; the message says why."""


def can_extract(content_type: str, filename: str) -> bool:
    return _extractor_for(content_type, filename) is not None


def needs_ocr(content_type: str, filename: str) -> bool:
    """True for an image, whose text Tesseract reads: slower than any document, so it may have a time limit of its own."""
    return _extractor_for(content_type, filename) is _image_text


def extract_text(data: bytes, content_type: str, filename: str) -> str:
    extractor = _extractor_for(content_type, filename)
    if extractor is None:
        return ""
    if len(data) > MAX_INPUT_BYTES:
        raise Unreadable(f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    try:
        return _bounded(extractor(data, content_type)).strip()
    except (Unreadable, MemoryError):
        raise
    except Exception as error:
        raise Unreadable(f"unreadable ({type(error).__name__})") from error


# pypdf, python-docx, python-pptx, openpyxl, defusedxml and Pillow are imported where they read: every process that only asks
# `can_extract` (SMTP, the web, each CLI command) starts a second sooner without them.


def _pdf_text(data: bytes, content_type: str) -> Iterator[str]:
    import pypdf

    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        yield (page.extract_text() or "") + "\n"


def _office_zip(data: bytes) -> zipfile.ZipFile:
    """The zip of an Office file, refused when encrypted, not a zip, or unpacking beyond `MAX_UNPACKED_BYTES`."""
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise Unreadable("password-protected")
        raise Unreadable("an old binary Office file, not Office Open XML")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Unreadable("broken: not a zip archive") from None
    if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED_BYTES:
        archive.close()
        raise Unreadable(f"would unpack beyond {MAX_UNPACKED_BYTES // (1024 * 1024)} MB")
    return archive


def _docx_text(data: bytes, content_type: str) -> Iterator[str]:
    _office_zip(data).close()
    import docx
    from docx.table import Table

    for block in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                yield "\t".join(cell.text for cell in row.cells) + "\n"
        else:
            yield block.text + "\n"


def _pptx_text(data: bytes, content_type: str) -> Iterator[str]:
    _office_zip(data).close()
    import pptx

    for slide in pptx.Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            yield from _shape_text(shape)
        if slide.has_notes_slide:
            yield slide.notes_slide.notes_text_frame.text + "\n"
        yield "\n"


def _shape_text(shape) -> Iterator[str]:
    if shape.has_text_frame:
        yield shape.text_frame.text + "\n"
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            yield "\t".join(cell.text for cell in row.cells) + "\n"
    for member in getattr(shape, "shapes", ()):  # a group of shapes
        yield from _shape_text(member)


def _xlsx_text(data: bytes, content_type: str) -> Iterator[str]:
    """Sheet names and cell values, row by row as the file has them: openpyxl's read-only mode holds no sheet whole."""
    _office_zip(data).close()
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            yield sheet.title + "\n"
            # A sheet's declared size would pad every row to it: a file claiming XFD1048576 asks for billions of cells.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                values = [str(value) for value in row if value is not None]
                if values:
                    yield "\t".join(values) + "\n"
    finally:
        workbook.close()


_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_ODF_BLOCKS = {_ODF_TEXT + "p", _ODF_TEXT + "h"}
_ODF_SPACES = {_ODF_TEXT + "s", _ODF_TEXT + "tab", _ODF_TEXT + "line-break"}
_ODF_TABLE_NAME = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}name"


def _odf_text(data: bytes, content_type: str) -> Iterator[str]:
    """The paragraphs and headings of an OpenDocument file's content.xml, streamed, and its sheets' names.

    defusedxml refuses a DTD's entities, so a billion laughs is a refusal, not a gigabyte.
    """
    from defusedxml.ElementTree import iterparse

    with _office_zip(data) as archive:
        try:
            content = archive.open("content.xml")
        except KeyError:
            raise Unreadable("broken: no content.xml") from None
        with content:
            depth = 0
            for event, element in iterparse(content, events=("start", "end")):
                if event == "start":
                    if element.tag in _ODF_BLOCKS:
                        depth += 1
                    elif element.get(_ODF_TABLE_NAME) and element.tag.endswith("}table"):
                        yield element.get(_ODF_TABLE_NAME) + "\n"
                elif element.tag in _ODF_BLOCKS:
                    depth -= 1
                    if depth == 0:
                        yield "".join(_odf_paragraph(element)) + "\n"
                        element.clear()


def _odf_paragraph(element) -> Iterator[str]:
    yield element.text or ""
    for child in element:
        yield " " if child.tag in _ODF_SPACES else "".join(_odf_paragraph(child))
        yield child.tail or ""


def _image_text(data: bytes, content_type: str) -> Iterator[str]:
    """What Tesseract reads in a photo or scan, the image decoded within `MAX_DECODED_PIXELS` and scaled to `MAX_OCR_PIXELS`.

    Tesseract runs as a child of this process, so the memory limit on it holds for Tesseract
    too, and the kill of this process's group when it overruns its time ends Tesseract as well.
    """
    from PIL import Image, ImageOps

    try:
        image = Image.open(io.BytesIO(data))
        dpi = image.info.get("dpi")
        pixels = image.width * image.height
        if pixels > MAX_DECODED_PIXELS:
            raise Unreadable(f"an image of {pixels:,} pixels, more than {MAX_DECODED_PIXELS:,}")
        scale = min(1.0, (MAX_OCR_PIXELS / pixels) ** 0.5) if pixels else 1.0
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image.draft("L", size)  # a JPEG decodes at a fraction of its size when that is all that is needed
        image = ImageOps.exif_transpose(image).convert("L")
        if image.width * image.height > MAX_OCR_PIXELS:
            image = image.resize(size, Image.Resampling.LANCZOS)
            dpi = dpi and (dpi[0] * scale, dpi[1] * scale)
    except Image.DecompressionBombError:
        raise Unreadable(f"an image of more than {MAX_DECODED_PIXELS:,} pixels") from None
    except Image.UnidentifiedImageError:
        raise Unreadable("not an image that can be read") from None
    except OSError as error:
        raise Unreadable(f"a broken image ({error})") from None
    scan = io.BytesIO()
    image.save(scan, "PNG", **({"dpi": dpi} if dpi else {}))  # Tesseract guesses the resolution less well
    yield _tesseract(scan.getvalue())


def _tesseract(png: bytes) -> str:
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", OCR_LANGUAGES], input=png, capture_output=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # one core: the machine serves mail and pages meanwhile
        )
    except FileNotFoundError:
        raise Unreadable("no OCR: the tesseract program is not installed") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise Unreadable(f"OCR failed: {reason[-1] if reason else f'tesseract exited with {done.returncode}'}")
    return done.stdout.decode(errors="replace")


def _plain_text(data: bytes, content_type: str) -> Iterator[str]:
    yield _decode(data, _charset(content_type))


def _html_text(data: bytes, content_type: str) -> Iterator[str]:
    parser = _TextCollector()
    parser.feed(_decode(data, _charset(content_type)))
    parser.close()
    yield from parser.parts


class _TextCollector(HTMLParser):
    """Keeps the text of an HTML page, drops scripts and styles, breaks lines at blocks."""

    SKIPPED = {"script", "style", "template", "noscript"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


Extractor = Callable[[bytes, str], Iterator[str]]

_BY_CONTENT_TYPE: dict[str, Extractor] = {
    "application/pdf": _pdf_text,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx_text,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _pptx_text,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _xlsx_text,
    "application/vnd.oasis.opendocument.text": _odf_text,
    "application/vnd.oasis.opendocument.spreadsheet": _odf_text,
    "application/vnd.oasis.opendocument.presentation": _odf_text,
    "image/jpeg": _image_text,
    "image/png": _image_text,
    "image/tiff": _image_text,
    "image/webp": _image_text,
    "image/bmp": _image_text,
    "image/gif": _image_text,
    "text/plain": _plain_text,
    "text/markdown": _plain_text,
    "text/x-markdown": _plain_text,
    "text/csv": _plain_text,
    "text/html": _html_text,
}

_BY_EXTENSION: dict[str, Extractor] = {
    ".pdf": _pdf_text,
    ".docx": _docx_text,
    ".pptx": _pptx_text,
    ".xlsx": _xlsx_text,
    ".odt": _odf_text,
    ".ods": _odf_text,
    ".odp": _odf_text,
    ".jpg": _image_text,
    ".jpeg": _image_text,
    ".png": _image_text,
    ".tif": _image_text,
    ".tiff": _image_text,
    ".webp": _image_text,
    ".bmp": _image_text,
    ".gif": _image_text,
    ".txt": _plain_text,
    ".md": _plain_text,
    ".markdown": _plain_text,
    ".csv": _plain_text,
    ".html": _html_text,
    ".htm": _html_text,
}


def _extractor_for(content_type: str, filename: str) -> Extractor | None:
    mime = content_type.split(";", 1)[0].strip().lower()
    return _BY_CONTENT_TYPE.get(mime) or _BY_EXTENSION.get(PurePath(filename).suffix.lower())


def _bounded(parts: Iterator[str]) -> str:
    """Joins `parts` until MAX_OUTPUT_CHARS, without producing the rest."""
    kept: list[str] = []
    size = 0
    for part in parts:
        kept.append(part[: MAX_OUTPUT_CHARS - size])
        size += len(kept[-1])
        if size >= MAX_OUTPUT_CHARS:
            break
    return "".join(kept)


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _decode(data: bytes, charset: str | None) -> str:
    """Decodes with the declared charset, else UTF-8; Windows-1252 is the last resort."""
    try:
        return data.decode(charset or "utf-8-sig")
    except (LookupError, UnicodeDecodeError):
        return data.decode("cp1252", errors="replace")
