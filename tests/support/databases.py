"""PostgreSQL and Redis from Debian's packages, started by the tests on loopback with free ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.servers import free_port, wait_for

POSTGRES_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


def missing(what: str, package: str) -> None:
    """Skip on a developer's machine; fail in CI, where `.ci/run` installs the package."""
    message = f"{what} is not installed (Debian package {package}; .ci/run installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class PostgresServer:
    """A throw-away cluster owned by the `postgres` system user (initdb refuses to run as root)."""

    def __init__(self) -> None:
        if POSTGRES_BIN is None or shutil.which("runuser") is None:
            missing("PostgreSQL", "postgresql")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="plein-pg-"))
        self.data = self.directory / "data"
        shutil.chown(self.directory, "postgres", "postgres")
        self._as_postgres(str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._as_postgres(str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "plein")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/plein"

    def fresh_database(self, name: str) -> str:
        """The URL of database `name`, dropped if it was there and created empty."""
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, cwd="/")

    def start(self) -> None:
        self._as_postgres(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "start",
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off -c max_connections=200",
        )

    def stop(self) -> None:
        self._as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            missing("Redis", "redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return self.database(0)

    def database(self, number: int) -> str:
        """The URL of Redis database `number` (0 to 15): a broker of its own for each hub that shares this server."""
        return f"redis://127.0.0.1:{self.port}/{number}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis-server to answer")

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    close = stop


__all__ = ["PostgresServer", "RedisServer", "missing"]
