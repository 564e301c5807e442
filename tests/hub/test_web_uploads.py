"""Files posted on the web: no more files than a mail may carry, and never held whole in memory.

The limits are `PLEIN_MAX_ATTACHMENTS` files, as for mail, and `PLEIN_WEB_UPLOAD_MAX_BYTES` bytes. Past
either the answer is 413 with the page and what was typed; the files go to disk as they arrive.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from hub.models import Attachment, Post
from hub.services import accounts, attachments, groups, signin
from hub.web.app import create_app
from tests.support.servers import free_port, wait_for
from tests.support.web import csrf_of, signed_in

MB = 1024 * 1024


@pytest.fixture
def engineering(context, data_dir, monkeypatch):
    """Alice, a member of Engineering, on a hub that takes at most three files per message."""
    context.settings.max_attachments = 3
    context.settings.web_upload_max_bytes = 25 * MB
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)


def files(count: int, size: int = 10) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"foto-{n}.jpg", b"x" * size, "image/jpeg")) for n in range(count)]


def uploads_left(data_dir) -> list:
    folder = data_dir / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


def test_a_web_post_with_more_files_than_a_mail_may_carry_gets_413_and_keeps_the_form(context, engineering, data_dir):
    alice = signed_in(context, "alice@example.com")
    page = alice.get("/g/engineering")

    refused = alice.post(
        "/g/engineering/posts", data={"csrf": csrf_of(page.text), "title": "Foto's hal 3", "body": "Zie bijlagen."},
        files=files(4),
    )

    assert refused.status_code == 413
    assert "A post takes at most 3 files, as a mail does. Nothing was posted" in refused.text
    assert 'value="Foto&#39;s hal 3"' in refused.text and "Zie bijlagen.</textarea>" in refused.text
    with context.session_scope() as session:
        assert session.query(Post).filter_by(title="Foto's hal 3").count() == 0
    assert uploads_left(data_dir) == []


def test_a_web_post_within_the_limits_stores_its_files_and_leaves_no_upload_behind(context, engineering, data_dir):
    alice = signed_in(context, "alice@example.com")
    page = alice.get("/g/engineering")

    posted = alice.post(
        "/g/engineering/posts", data={"csrf": csrf_of(page.text), "title": "Drie foto's", "body": ""},
        files=files(3, size=200_000),
    )

    assert posted.status_code == 200 and posted.url.path.startswith("/p/")
    with context.session_scope() as session:
        stored = session.query(Attachment).order_by(Attachment.filename).all()
        assert [(a.filename, a.size) for a in stored] == [(f"foto-{n}.jpg", 200_000) for n in range(3)]
        assert attachments.read_blob(stored[0]) == b"x" * 200_000
    assert uploads_left(data_dir) == []


@contextmanager
def serving(context) -> Iterator[str]:
    """The web hub in this process on a real port, so tracemalloc sees what the server holds."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, what="the web hub to listen")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def signed_in_over_http(context, base_url: str, email: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=30)
    with context.session_scope() as session:
        token = signin.sign_in_token(accounts.get_user(session, email))
    client.post(f"/sign-in/{token}", data={"csrf": csrf_of(client.get(f"/sign-in/{token}").text)})
    return client, csrf_of(client.get("/g/engineering").text)


class Upload:
    """A multipart body of one big file, made chunk by chunk as the client sends it."""

    def __init__(self, csrf: str, size: int) -> None:
        self.boundary = "plein-test-boundary"
        self.size = size
        self.sent = 0
        self.head = (
            "".join(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                for name, value in (("csrf", csrf), ("title", "Het grote bestand"), ("body", "Zie bijlage."))
            )
            + f'--{self.boundary}\r\nContent-Disposition: form-data; name="files"; filename="groot.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        chunk = b"z" * (256 * 1024)
        for _ in range(self.size // len(chunk)):
            self.sent += len(chunk)
            yield chunk
        yield self.tail


def post_big(client: httpx.Client, body: Upload, declare_length: bool) -> httpx.Response | None:
    headers = {"Content-Type": f"multipart/form-data; boundary={body.boundary}"}
    if declare_length:
        headers["Content-Length"] = str(len(body))
    try:
        return client.post("/g/engineering/posts", content=iter(body), headers=headers)
    except httpx.TransportError:
        return None  # the server stopped reading and closed before the client finished sending


def test_a_30_mb_upload_is_refused_without_the_server_holding_it_in_memory(context, engineering, data_dir):
    with serving(context) as base_url:
        client, csrf = signed_in_over_http(context, base_url, "alice@example.com")
        body = Upload(csrf, 30 * MB)
        tracemalloc.start()
        try:
            answer = post_big(client, body, declare_length=False)  # chunked: the server counts as it reads
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert peak < 8 * MB, f"the server held {peak / MB:.0f} MB"
    assert answer is None or answer.status_code == 413
    with context.session_scope() as session:
        assert session.query(Post).filter_by(title="Het grote bestand").count() == 0
    wait_for(lambda: not uploads_left(data_dir), what="the partial upload removed")


def test_an_upload_that_declares_itself_too_large_is_refused_at_its_first_file_with_the_form_kept(context, 
    engineering, data_dir,
):
    with serving(context) as base_url:
        client, csrf = signed_in_over_http(context, base_url, "alice@example.com")
        answer = post_big(client, Upload(csrf, 30 * MB), declare_length=True)

    assert answer.status_code == 413
    assert "A post and its files may be at most 25 MB together. Nothing was posted" in answer.text
    assert 'value="Het grote bestand"' in answer.text and "Zie bijlage.</textarea>" in answer.text
    assert not (data_dir / "uploads").exists(), "no byte of the file was written"
