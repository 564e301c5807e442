"""Text extraction in a child process with a time and a memory limit: `extract_within`.

pypdf and python-docx spend time and memory on what a file asks of them, not on its size: a
6 kB PDF of tiny text operators kept pypdf busy for 23 seconds, a 61 kB DOCX took 26 seconds
and 327 MB (issue 15). Extraction runs in the one index writer, so such a file held back
every later post. Here each file is read by a child process whose address space is capped
(`RLIMIT_AS`) and which is killed when it overruns its time; the next file gets a new child.
A file that fails is reported with the reason, and the caller goes on without its text.

The child is a fresh interpreter, not a fork: a fork would carry the indexer's address space
(the index's memory maps, Tantivy's threads), against which no memory cap can be set, and a
fork of a process with threads may deadlock. Starting one takes about half a second, so each
process keeps its child for file after file, as `mailgateway.timebox` does for parsing. Files
go over pipes as lengths and bytes, and text comes back as a status byte and UTF-8: nothing
from the child is unpickled, since the child is what a hostile file might take over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from search.extraction import Unreadable, can_extract, extract_text

STARTUP_SECONDS = 60.0
"""How long a new child may take to import its libraries before it counts as failed."""
_REQUEST = struct.Struct("!IIQ")
_ANSWER = struct.Struct("!cQ")
_READY, _TEXT, _FAILED, _FAILED_LEAVING = b"R", b"T", b"F", b"X"
_PARENT_CHECK_SECONDS = 1.0
MEMORY_TELLS = 0.5
"""A file that fails after taking the child's address space beyond this share of its limit failed for want of memory."""


@dataclass(frozen=True)
class Extraction:
    text: str
    failure: str | None = None
    """Why there is no text: too slow, too large, or unreadable; None when the file was read."""


class _Stopped(Exception):
    """The child died or answered nothing."""


class _Overran(_Stopped):
    """The child took longer than its time."""


class _ExtractorChild:
    """One child interpreter that extracts each file its parent writes to it."""

    def __init__(self, memory_limit: int) -> None:
        self.owner = os.getpid()
        self.memory_limit = memory_limit
        self.leaving = False
        """True once the child said it leaves after its last answer."""
        # The child imports this very package: its folder goes first, unless it is on the path already (site-packages).
        root = str(Path(__file__).resolve().parents[1])
        code = f"import sys; {root!r} in sys.path or sys.path.insert(0, {root!r}); from search.extractor import serve; serve()"
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", code, str(memory_limit), str(self.owner)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self._requests, self._answers = self._process.stdin.fileno(), self._process.stdout.fileno()
        try:
            if self._read(1, time.monotonic() + STARTUP_SECONDS) != _READY:
                raise _Stopped
        except _Stopped:
            self.stop()
            raise _Stopped("the extractor did not start") from None

    def extract(self, data: bytes, content_type: str, filename: str, seconds: float) -> Extraction:
        kind, name = content_type.encode(errors="replace"), filename.encode(errors="replace")
        try:
            _write_all(self._requests, _REQUEST.pack(len(kind), len(name), len(data)) + kind + name + data)
        except OSError as error:
            raise _Stopped(f"the extractor stopped ({error})") from None
        deadline = time.monotonic() + seconds
        status, size = _ANSWER.unpack(self._read(_ANSWER.size, deadline))
        answer = self._read(size, deadline).decode()
        self.leaving = status == _FAILED_LEAVING
        return Extraction(answer) if status == _TEXT else Extraction("", answer)

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._answers], [], [], remaining)[0]:
                raise _Overran
            chunk = os.read(self._answers, min(left, 1 << 20))
            if not chunk:
                raise _Stopped("the extractor stopped without an answer")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def usable(self, memory_limit: int) -> bool:
        return (
            self.owner == os.getpid() and self.memory_limit == memory_limit and not self.leaving
            and self._process.poll() is None
        )

    def stop(self) -> None:
        if self.owner == os.getpid():
            # The whole group: Tesseract, which the child may be running, goes with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


_child: _ExtractorChild | None = None
_lock = threading.Lock()


def extract_within(data: bytes, content_type: str, filename: str, seconds: float, memory_limit: int) -> Extraction:
    """The text of one attached file, read by the child within `seconds` and `memory_limit` bytes.

    Never raises: a file that overruns, exhausts its memory, or cannot be read gives no text
    and says why. A file with no extractor (an image) gives "" without troubling the child.
    """
    global _child
    if not can_extract(content_type, filename):
        return Extraction("")
    with _lock:
        if _child is not None and not _child.usable(memory_limit):
            _child.stop()
            _child = None
        try:
            if _child is None:
                _child = _ExtractorChild(memory_limit)
            return _child.extract(data, content_type, filename, seconds)
        except _Stopped as stopped:
            if _child is not None:
                _child.stop()
                _child = None
            if isinstance(stopped, _Overran):
                return Extraction("", f"took longer than {seconds:g} seconds")
            return Extraction("", f"{stopped}, perhaps over its memory limit of {memory_limit // (1024 * 1024)} MB")


def serve() -> None:
    """The child's loop: cap memory, say it is ready, then extract what comes in until the parent goes."""
    memory_limit, parent = int(sys.argv[1]), int(sys.argv[2])
    logging.disable(logging.CRITICAL)  # pypdf's complaints about a broken file are no news here
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the terminal is the parent's to handle
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    requests, answers = sys.stdin.fileno(), sys.stdout.fileno()
    _answer(answers, _READY)
    while True:
        # Another child of the parent may hold our stdin open after the parent is gone: watch the parent itself.
        if not select.select([requests], [], [], _PARENT_CHECK_SECONDS)[0]:
            if os.getppid() != parent:
                return
            continue
        header = _read_exactly(requests, _REQUEST.size)
        if header is None:
            return
        sizes = _REQUEST.unpack(header)
        content_type, filename, data = (_read_exactly(requests, size) or b"" for size in sizes)
        peak_before = _peak_memory()
        try:
            _answer(answers, _TEXT, extract_text(data, content_type.decode(), filename.decode()).encode())
        except (MemoryError, Unreadable) as error:
            # lxml reports a failed allocation as an "unknown error" in the XML: the peak tells.
            peak = _peak_memory()
            if isinstance(error, MemoryError) or peak_before < peak > memory_limit * MEMORY_TELLS:
                _answer(answers, _FAILED_LEAVING, f"over its memory limit of {memory_limit // (1024 * 1024)} MB".encode())
                return  # the heap may be left in any state, and large: the next file gets a new child
            _answer(answers, _FAILED, str(error).encode(errors="replace"))


def _peak_memory() -> int:
    """The most address space this process has held, in bytes: what `RLIMIT_AS` caps (Linux's VmPeak).

    Not `getrusage`'s peak resident memory: Linux carries that across `exec` from the parent.
    """
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0


def _answer(answers: int, status: bytes, payload: bytes | None = None) -> None:
    if payload is None:
        _write_all(answers, status)
    else:
        _write_all(answers, _ANSWER.pack(status, len(payload)) + payload)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
