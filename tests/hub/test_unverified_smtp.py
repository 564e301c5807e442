"""SMTP that believes any From (`PLEIN_INBOUND_AUTH=none`, the default) serves loopback only,
unless an operator set `none` on purpose: `plein run` and `plein smtp` refuse to start, and
`plein check` says why (issue 15, item 6)."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.servers import free_port, wait_for


def plein_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLEIN_")}
    env.update({
        "PLEIN_DATA_DIR": str(data_dir), "PLEIN_MAIL_DOMAIN": "plein.test",
        "PLEIN_HTTP_PORT": str(free_port()), "PLEIN_SMTP_PORT": str(free_port()),
        "PLEIN_METRICS_PORT": str(free_port()),
    })
    env.update({f"PLEIN_{name.upper()}": value for name, value in settings.items()})
    return env


def plein(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("command", ["run", "smtp"])
def test_smtp_on_every_address_without_an_explicit_inbound_auth_refuses_to_start_in_one_line(data_dir, command):
    result = plein(plein_env(data_dir, smtp_host="0.0.0.0"), command)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "anyone" in line and "set PLEIN_INBOUND_AUTH=relay" in line and "PLEIN_INBOUND_AUTH=none" in line


def test_plein_check_says_why_smtp_would_not_start(tmp_path):
    result = plein(plein_env(tmp_path / "data", smtp_host="192.0.2.10"), "check")
    assert result.returncode == 1
    [smtp] = [line for line in result.stdout.splitlines() if line.startswith("FAIL smtp")]
    assert "SMTP on 192.0.2.10 would let anyone post as any member: set PLEIN_INBOUND_AUTH" in smtp


@contextmanager
def serving_smtp(env: dict[str, str]) -> Iterator[None]:
    """`plein smtp` until the block ends, once it greets."""
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "smtp"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )

    def greets() -> bool:
        assert server.poll() is None, server.stderr.read()
        try:
            with smtplib.SMTP("127.0.0.1", int(env["PLEIN_SMTP_PORT"]), timeout=2) as smtp:
                return smtp.ehlo()[0] == 250
        except OSError:
            return False

    try:
        wait_for(greets, timeout=60, what="plein smtp to greet")
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_smtp_on_every_address_starts_when_none_is_set_on_purpose(data_dir):
    env = plein_env(data_dir, smtp_host="0.0.0.0", inbound_auth="none")
    with serving_smtp(env):
        check = plein(env, "check").stdout
    assert "ok   smtp:" in check and "anyone may post as anyone (PLEIN_INBOUND_AUTH=none)" in check


def test_smtp_on_loopback_starts_with_the_default(data_dir):
    with serving_smtp(plein_env(data_dir)):
        pass
