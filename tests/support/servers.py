"""Real servers for tests: free ports, and `plein run` as a child process on a data directory of its own."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
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

    profile = "embedded"

    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.http_port = free_port()
        self.smtp_port = free_port()
        self.metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.domain = "plein.localhost"
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.env = {
            **os.environ,
            "PLEIN_DATA_DIR": str(data_dir),
            "PLEIN_HTTP_PORT": str(self.http_port),
            "PLEIN_SMTP_PORT": str(self.smtp_port),
            "PLEIN_METRICS_PORT": str(self.metrics_port),
            "PLEIN_MAIL_DOMAIN": self.domain,
            **{f"PLEIN_{name.upper()}": value for name, value in settings.items()},
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, *args: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.spawn("run", "run", *args)
        self.wait_until_ready()

    def spawn(self, name: str, *command: str) -> subprocess.Popen:
        """Start `plein COMMAND` as a child, its output in `<data dir>-<name>.log`."""
        log = (self.data_dir.parent / f"{self.data_dir.name}-{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", *command], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes[name] = process
        return process

    def wait_until_ready(self) -> None:
        try:
            wait_for(self._ready, timeout=120, what=f"Plein to listen (logs beside {self.data_dir})")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tails = "\n".join(f"{log.name}:\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs())
                raise AssertionError(f"plein {name} exited early:\n{tails}")
        try:
            return httpx.get(self.base_url + "/sign-in", timeout=1).status_code == 200 and _listening(self.smtp_port)
        except httpx.HTTPError:
            return False

    def logs(self) -> list[Path]:
        """Every log this Plein writes: each process's console, and `plein run`'s own log file."""
        return [*self.data_dir.parent.glob(f"{self.data_dir.name}-*.log"), *self.data_dir.glob("plein.log")]

    def stop(self, *names: str) -> None:
        for name in names or list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "hub.cli", *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"plein {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_batch(self, *commands: list[str]) -> list[str]:
        """Run `commands` in order, in one process (tests/support/cli_batch.py); each one's output. Fails on the first that fails."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.support.cli_batch", json.dumps(commands)],
            env=self.env, capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2],
        )
        outcomes = [json.loads(line) for line in result.stdout.splitlines()]
        for outcome in outcomes:
            if outcome["code"] != 0:
                raise AssertionError(f"plein {' '.join(outcome['args'])} failed: {outcome['stderr']}")
        if result.returncode != 0 or len(outcomes) != len(commands):
            raise AssertionError(f"the commands {commands} did not all run: {result.stderr}")
        return [outcome["stdout"] for outcome in outcomes]

    def api(self, token: str | None, path: str, **params: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.base_url + path, headers=headers, params=params, timeout=10)

    def query(self, sql: str, *args: object) -> list[tuple]:
        """Rows of `sql`, with `?` placeholders, straight from the database Plein uses."""
        with closing(sqlite3.connect(self.data_dir / "plein.db")) as connection, connection:  # commit, then close
            return connection.execute(sql, args).fetchall()

    def outbox(self) -> list[EmailMessage]:
        """Every message Plein wrote to the outbox Maildir, oldest first."""
        folder = self.data_dir / "outbox"
        # The worker may be creating the Maildir right now: `new` can exist before `cur` does.
        messages = [
            (path.stat().st_mtime_ns, message_from_bytes(path.read_bytes(), policy=policy.default))
            for sub in ("new", "cur") if (folder / sub).is_dir()
            for path in (folder / sub).iterdir()
        ]
        return [message for _, message in sorted(messages, key=lambda pair: pair[0])]

    def mail_to(self, address: str, where: Callable[[EmailMessage], bool] = lambda m: True) -> list[EmailMessage]:
        return [m for m in self.outbox() if m["To"].addresses[0].addr_spec == address and where(m)]


class ProductionPlein(PleinServer):
    """The production profile: PostgreSQL, Redis, and every role as a process of its own."""

    profile = "production"

    def __init__(self, data_dir: Path, database_url: str, broker_url: str, **settings: str) -> None:
        indexer_port = free_port()
        super().__init__(
            data_dir, database_url=database_url, broker_url=broker_url, indexer_port=str(indexer_port),
            search_url=f"http://127.0.0.1:{indexer_port}", **settings,
        )
        self.database_url = database_url

    def start(self, *args: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cli("db", "upgrade")
        for name, command in ROLES:
            self.spawn(name, *command)
        self.wait_until_ready()

    def query(self, sql: str, *args: object) -> list[tuple]:
        import psycopg

        url = self.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as connection:
            return connection.execute(sql.replace("?", "%s"), args).fetchall()


ROLES = [
    ("web", ("web",)),
    ("smtp", ("smtp",)),
    ("worker-1", ("worker",)),
    ("worker-2", ("worker", "--concurrency", "2")),  # a prefork pool, as production runs it
    ("indexer", ("indexer",)),
    ("beat", ("beat",)),
]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


__all__ = ["PleinServer", "ProductionPlein", "free_port", "links_in", "text_of", "wait_for"]
