"""Files sent with a web form or the API: streamed to disk as they arrive, within the web's limits.

A post or comment written on the web carries at most `PLEIN_MAX_ATTACHMENTS` files, as a mail
does, in a request body of at most `PLEIN_WEB_UPLOAD_MAX_BYTES` bytes (500 MB by default, for a
video; mail keeps its own `PLEIN_MAX_MESSAGE_SIZE`). The body is parsed as it
arrives; a file's bytes go to a temporary file under `PLEIN_DATA_DIR/uploads`, written from the
thread pool so the event loop (which also serves SMTP under `plein run`) never waits on a disk,
and `hub.services.attachments.store_file` later moves it into the store on the same file system.

Once a limit is passed the rest of the body is not read: the route answers 413 with the fields
that came before. Browsers send fields in the form's order, text before files, so the page can
keep what was typed. A body that declares itself too large is read only up to its first file.
Text is held in memory, so a form without files, and each text field, stays within a mail's size.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, BinaryIO
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from hub.services.errors import Invalid
from hub.services.submissions import Upload
from hub.web.deps import context_of_app

TOO_MANY_FILES = "too_many_files"
TOO_LARGE = "too_large"
"""Why a form was not read to its end; the page says it in words (templates/web/group.html)."""


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)
    refused: str | None = None
    """TOO_MANY_FILES or TOO_LARGE when the body was not read to its end; `fields` has what came before."""

    @property
    def anonymous(self) -> bool:
        """Whether the item is to be posted anonymously: a ticked box ("1", "on") or JSON's `true`."""
        value = self.fields.get("anonymous", "").strip().lower()
        if value not in _YES | _NO:
            raise Invalid("anonymous is true or false")
        return value in _YES


_YES, _NO = frozenset({"1", "on", "true"}), frozenset({"", "0", "off", "false"})


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str = ""
    text: bytearray = field(default_factory=bytearray)
    file: BinaryIO | None = None
    path: Path | None = None
    size: int = 0


class _Multipart:
    """python-multipart's callbacks, collecting what the async loop then writes in the thread pool."""

    def __init__(self, charset: str, max_files: int, max_text_bytes: int, stop_at_first_file: bool) -> None:
        self.charset = charset
        self.max_files = max_files
        self.max_text_bytes = max_text_bytes
        self.stop_at_first_file = stop_at_first_file
        self.files_seen = 0
        self.part = _Part()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.to_write: list[tuple[_Part, bytes]] = []
        self.finished: list[_Part] = []

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin, "on_part_data": self.on_part_data, "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field, "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end, "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self.part, self.headers = _Part(), {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_name).lower()] = bytes(self.header_value)
        self.header_name, self.header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode(self.charset, "replace")
        if b"filename" not in options:
            return
        self.part.filename = options[b"filename"].decode(self.charset, "replace")
        self.part.content_type = self.headers.get(b"content-type", b"").decode("latin-1").strip()
        if not self.part.filename:
            return  # the empty part a browser sends when no file was chosen
        self.files_seen += 1
        if self.stop_at_first_file:
            raise _Refused(TOO_LARGE)
        if self.files_seen > self.max_files:
            raise _Refused(TOO_MANY_FILES)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.filename is None:
            self.part.text += data[start:end]
            if len(self.part.text) > self.max_text_bytes:
                raise _Refused(TOO_LARGE)
        elif self.part.filename:
            self.to_write.append((self.part, data[start:end]))

    def on_part_end(self) -> None:
        self.finished.append(self.part)


async def read_upload_form(request: Request) -> AsyncIterator[UploadForm]:
    """The form of `request`, its files on disk until the request is done, or why it was refused."""
    settings = context_of_app(request).settings
    form = UploadForm()
    on_disk: list[_Part] = []
    try:
        try:
            await _read(
                request, form, on_disk, settings.data_dir / "uploads", settings.max_attachments,
                settings.web_upload_max_bytes, settings.max_message_size,
            )
        except _Refused as refused:
            form.refused = refused.reason
        yield form
    finally:
        await run_in_threadpool(_remove, on_disk)  # what the store took was moved away already


UploadedForm = Annotated[UploadForm, Depends(read_upload_form, scope="function")]


async def _read(
    request: Request, form: UploadForm, on_disk: list[_Part], folder: Path, max_files: int, max_bytes: int,
    max_text_bytes: int,
) -> None:
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    declared = request.headers.get("content-length", "")
    received = 0
    if kind != b"multipart/form-data":
        if declared.isdigit() and int(declared) > max_text_bytes:
            raise _Refused(TOO_LARGE)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_text_bytes:
                raise _Refused(TOO_LARGE)
        form.fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    too_large = declared.isdigit() and int(declared) > max_bytes
    parts = _Multipart(charset, max_files, max_text_bytes, stop_at_first_file=too_large)
    parser = MultipartParser(params.get(b"boundary", b""), parts.callbacks())
    async for chunk in request.stream():
        within = max_bytes - received
        received += len(chunk)
        try:
            parser.write(chunk[:within])  # the fields before the limit, for the page that says it was passed
        finally:
            await _flush(parts, form, on_disk, folder)
        if received > max_bytes:
            raise _Refused(TOO_LARGE)
    parser.finalize()


async def _flush(parts: _Multipart, form: UploadForm, on_disk: list[_Part], folder: Path) -> None:
    """Write what the last chunk carried of each file, and take in the parts it ended."""
    for part, data in parts.to_write:
        if part.file is None:
            await _open(part, on_disk, folder)
        part.size += len(data)
        await run_in_threadpool(part.file.write, data)
    parts.to_write.clear()
    for part in parts.finished:
        if part.filename is None:
            form.fields[part.name] = part.text.decode(parts.charset, "replace")
        elif part.filename:
            if part.file is None:  # an empty file
                await _open(part, on_disk, folder)
            await run_in_threadpool(part.file.close)
            form.files.append(Upload(part.filename, part.content_type, part.path, part.size))
    parts.finished.clear()


async def _open(part: _Part, on_disk: list[_Part], folder: Path) -> None:
    part.path, part.file = await run_in_threadpool(_temporary_file, folder)
    on_disk.append(part)


def _temporary_file(folder: Path) -> tuple[Path, BinaryIO]:
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    return Path(name), os.fdopen(fd, "wb")


def _remove(on_disk: list[_Part]) -> None:
    for part in on_disk:
        part.file.close()
        part.path.unlink(missing_ok=True)
