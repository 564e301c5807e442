"""Plain text out of attached files, so documents can be searched like posts.

Attachments arrive from strangers by mail. A file that is too large or broken raises
`Unreadable` with the reason; one of a type with no extractor (an image) yields "". The type
comes from the content type, or from the file name when the content type is missing or
generic. Nothing here limits time or memory: run it through `search.extractor`, whose child
process does.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import PurePath

MAX_INPUT_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
"""A DOCX is a zip: refuse one that would inflate beyond this (a zip bomb)."""
MAX_OUTPUT_CHARS = 1_000_000


class Unreadable(Exception):
    """A file of a type with an extractor that could not be read; the message says why."""


def can_extract(content_type: str, filename: str) -> bool:
    return _extractor_for(content_type, filename) is not None


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


# pypdf and python-docx are imported where they read: every process that only asks
# `can_extract` (SMTP, the web, each CLI command) starts a second sooner without them.


def _pdf_text(data: bytes, content_type: str) -> Iterator[str]:
    import pypdf

    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        yield (page.extract_text() or "") + "\n"


def _docx_text(data: bytes, content_type: str) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise Unreadable(f"would unpack beyond {MAX_UNPACKED_BYTES // (1024 * 1024)} MB")
    import docx
    from docx.table import Table

    for block in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                yield "\t".join(cell.text for cell in row.cells) + "\n"
        else:
            yield block.text + "\n"


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
    "text/plain": _plain_text,
    "text/markdown": _plain_text,
    "text/x-markdown": _plain_text,
    "text/csv": _plain_text,
    "text/html": _html_text,
}

_BY_EXTENSION: dict[str, Extractor] = {
    ".pdf": _pdf_text,
    ".docx": _docx_text,
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
