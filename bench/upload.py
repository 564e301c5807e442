"""Benchmark: a 500 MB video posted over HTTP to a running `plein web`, and how much memory the server took for it.

    python bench/upload.py [--megabytes 500] [--keep DIR]

Builds a hub on SQLite in a temporary data directory (a person, a group, an API token), starts
`plein web` with one process, and posts `POST /api/groups/{slug}/posts` with one file of
`--megabytes` MB (of 10^6 bytes, generated as it is sent, as `video/mp4`, never held by this script) in a
multipart body with its Content-Length. Meanwhile it samples the resident memory (RSS, from
/proc) of the server and every process under it each 20 ms. It prints the RSS before the upload,
its peak during it, the growth, the time and throughput, and checks that the stored attachment
has every byte. The target of issue 19: an RSS growth under 50 MB (`hub.web.uploads` streams
the file to disk).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.context import build_context  # noqa: E402
from hub.db import upgrade_database  # noqa: E402
from hub.models import Attachment  # noqa: E402
from hub.services import accounts, groups  # noqa: E402
from hub.settings import Settings  # noqa: E402
from tests.support.servers import free_port, wait_for  # noqa: E402

MB = 1024 * 1024
CHUNK = 256 * 1024
BOUNDARY = "plein-bench-upload"


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def multipart() -> tuple[bytes, bytes]:
    """The body's parts before and after the file's bytes."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nDe montage van lift B\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="body"\r\n\r\nDe hele film.\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="montage.mp4"\r\n'
        f"Content-Type: video/mp4\r\n\r\n"
    ).encode()
    return head, f"\r\n--{BOUNDARY}--\r\n".encode()


def file_bytes(size: int):
    pattern = bytes(range(256)) * (CHUNK // 256)
    sent = 0
    while sent < size:
        piece = pattern[: min(CHUNK, size - sent)]
        sent += len(piece)
        yield piece


def serve(data_dir: Path, port: int) -> subprocess.Popen:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLEIN_")} | {
        "PLEIN_DATA_DIR": str(data_dir),
        "PLEIN_MAIL_DOMAIN": "plein.bench",
        "PLEIN_HTTP_PORT": str(port),
        "PLEIN_METRICS_PORT": "0",
        "PLEIN_WEB_PROCESSES": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "web"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def post_file(port: int, token: str, size: int) -> tuple[int, dict]:
    head, tail = multipart()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.putrequest("POST", "/api/groups/bouw/posts")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    for piece in file_bytes(size):
        connection.send(piece)
    connection.send(tail)
    answer = connection.getresponse()
    return answer.status, json.loads(answer.read() or b"{}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build the hub in this folder and leave it there")
    options = parser.parse_args()
    size = options.megabytes * 1000 * 1000  # as a file manager counts; 500 of them fit the default 500 MiB limit
    data_dir = options.keep or Path(tempfile.mkdtemp(prefix="plein-bench-upload-"))
    settings = Settings(data_dir=data_dir, mail_domain="plein.bench")
    upgrade_database(settings)
    context = build_context(settings)
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@plein.bench", "Alice")
        groups.add_member(session, groups.create_group(session, "bouw", "Bouw"), alice)
        token = accounts.create_api_token(session, alice)

    port = free_port()
    server = serve(data_dir, port)
    try:
        wait_for(lambda: _answers(port), timeout=120, what="plein web")
        post_file(port, token, MB)  # the first upload loads the code it runs: not part of the figure
        time.sleep(1)
        before = tree_rss(server.pid)
        peak, done = before, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        try:
            status, post = post_file(port, token, size)
        finally:
            elapsed = time.perf_counter() - started
            done.set()
            sampler.join()
    finally:
        server.terminate()
        server.wait(30)

    stored = None
    with context.session_scope() as session:
        if status == 201:
            stored = session.get(Attachment, post["attachments"][0]["id"]).size
    print(
        f"upload of {options.megabytes} MB ({size:,} bytes) to plein web (1 process, SQLite): HTTP {status}, "
        f"stored {stored} bytes ({'all' if stored == size else 'NOT all'})"
    )
    print(f"time {elapsed:.1f} s, {options.megabytes / elapsed:.0f} MB/s")
    print(
        f"server RSS before {before / MB:.1f} MB, peak {peak / MB:.1f} MB, growth {(peak - before) / MB:.1f} MB "
        f"(target under 50 MB)"
    )
    if not options.keep:
        shutil.rmtree(data_dir)


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
