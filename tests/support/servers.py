"""Real servers for tests: free ports, and `plein run` as a child process on a data directory of its own."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class PleinServer:
    """`plein run` with its web hub, SMTP server, worker and beat, as a user would start it."""

    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.http_port = free_port()
        self.smtp_port = free_port()
        self.domain = "plein.localhost"
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.env = {
            **os.environ,
            "PLEIN_DATA_DIR": str(data_dir),
            "PLEIN_HTTP_PORT": str(self.http_port),
            "PLEIN_SMTP_PORT": str(self.smtp_port),
            "PLEIN_MAIL_DOMAIN": self.domain,
            **{f"PLEIN_{name.upper()}": value for name, value in settings.items()},
        }
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-run.log"

    def start(self, *args: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "run", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_for(self._ready, timeout=60, what=f"plein run to listen (log: {self.log_path})")

    def _ready(self) -> bool:
        if self.process and self.process.poll() is not None:
            raise AssertionError(f"plein run exited early:\n{self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(self.base_url + "/sign-in", timeout=1).status_code == 200 and _listening(self.smtp_port)
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "hub.cli", *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"plein {' '.join(args)} failed: {result.stderr}")
        return result

    def api(self, token: str | None, path: str, **params: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.base_url + path, headers=headers, params=params, timeout=10)

    def query(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.data_dir / "plein.db") as connection:
            return connection.execute(sql, args).fetchall()

    def outbox(self) -> list[EmailMessage]:
        """Every message Plein wrote to the outbox Maildir, oldest first."""
        folder = self.data_dir / "outbox"
        if not (folder / "new").exists():
            return []
        messages = [
            (path.stat().st_mtime_ns, message_from_bytes(path.read_bytes(), policy=policy.default))
            for sub in ("new", "cur")
            for path in (folder / sub).iterdir()
        ]
        return [message for _, message in sorted(messages, key=lambda pair: pair[0])]

    def mail_to(self, address: str, where: Callable[[EmailMessage], bool] = lambda m: True) -> list[EmailMessage]:
        return [m for m in self.outbox() if m["To"].addresses[0].addr_spec == address and where(m)]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


__all__ = ["PleinServer", "free_port", "links_in", "text_of", "wait_for"]
