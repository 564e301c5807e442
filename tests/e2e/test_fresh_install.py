"""Plein installed as a newcomer installs it: the README's start command in a fresh virtual
environment (no extras), and a built wheel in another, run away from the source tree.

Both copy the source to a folder of their own, so the environments they make never touch the
one running these tests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_readme import README, command_blocks
from tests.e2e.test_web_hub import csrf_of
from tests.support.servers import free_port, wait_for

SOURCE = README.parent
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "plein-data", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", "my-plein"
)
INSTALL_SECONDS = 600


@pytest.fixture
def source_copy(tmp_path) -> Path:
    copy = tmp_path / "plein"
    shutil.copytree(SOURCE, copy, ignore=NOT_SOURCE)
    return copy


def clean_environment(**settings: str) -> dict[str, str]:
    """This machine's environment without the test run's virtualenv or Plein settings."""
    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith("PLEIN_") and name not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    return env | {f"PLEIN_{name.upper()}": value for name, value in settings.items()}


def readme_start_command() -> str:
    return next(b for b in command_blocks(README.read_text().split("## ")[0]) if "plein run --demo" in b)


def test_the_readme_start_command_installs_and_starts_plein_and_ctrl_c_stops_it(source_copy, tmp_path):
    http_port, smtp_port = free_port(), free_port()
    console = tmp_path / "console.log"
    env = clean_environment(data_dir=str(tmp_path / "data"), http_port=str(http_port), smtp_port=str(smtp_port))
    command = readme_start_command()
    assert "[" not in command.split("pip install")[1], "the start command installs extras"
    with console.open("wb") as output:
        terminal = subprocess.Popen(
            ["bash", "-c", command], cwd=source_copy, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    web = httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=10)
    try:
        wait_for(lambda: _answers(web, terminal, console), timeout=INSTALL_SECONDS, what="the README's command to serve")
        printed = wait_for(lambda: "Press Ctrl-C to stop." in console.read_text() and console.read_text(),
                           what="the banner")
        link = re.search(r"<anna@plein\.localhost>.*\n\s+(http\S+)", printed)[1]
        assert re.search(rf"Web hub\s+http://127\.0\.0\.1:{http_port}", printed)
        assert re.search(rf"SMTP\s+127\.0\.0\.1:{smtp_port}", printed)
        quiet = ("celery@", "SecurityWarning", "Task plein.", "Uvicorn running")
        assert not [noise for noise in quiet if noise in printed], "the console is not quiet"

        confirm = web.get(link)
        signed_in = web.post(link, data={"csrf": csrf_of(confirm)}, follow_redirects=True)
        assert "Anna de Vries" in signed_in.text

        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "anna@plein.localhost", "engineering@plein.localhost", "Fresh venv"
        mail.set_content("Posted to a Plein installed from the README's first command.")
        with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
            smtp.send_message(mail)
        venv_plein = source_copy / ".venv" / "bin" / "plein"
        token = subprocess.run([venv_plein, "token", "create", "anna@plein.localhost"], env=env, capture_output=True,
                               text=True, check=True).stdout.strip()
        wait_for(lambda: any(p["title"] == "Fresh venv" for p in web.get(
            "/api/groups/engineering/posts", headers={"Authorization": f"Bearer {token}"}).json()["posts"]),
            what="the mailed post in the JSON API")

        os.killpg(terminal.pid, signal.SIGINT)  # Ctrl-C in the terminal
        started = time.monotonic()
        assert terminal.wait(timeout=20) == 0
        assert time.monotonic() - started < 20
        assert console.read_text().rstrip().endswith("Plein stopped.")
    finally:
        if terminal.poll() is None:
            os.killpg(terminal.pid, signal.SIGKILL)


@pytest.fixture(scope="module", autouse=True)
def installed_wheel(tmp_path_factory):
    """A wheel built from a copy of the source and installed in a venv of its own, the copy then
    deleted. It is made in the background while the README's own install runs: each takes a
    minute, mostly waiting on pip."""
    folder = tmp_path_factory.mktemp("wheel")
    copy = folder / "plein"
    shutil.copytree(SOURCE, copy, ignore=NOT_SOURCE)

    def build_and_install() -> Path:
        venv, env = folder / "venv", clean_environment()
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = venv / "bin" / "python"
        subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", folder / "dist", copy],
                       env=env, check=True, timeout=INSTALL_SECONDS)
        (wheel,) = (folder / "dist").glob("plein-*.whl")
        subprocess.run([python, "-m", "pip", "install", "-q", wheel], env=env, check=True, timeout=INSTALL_SECONDS)
        shutil.rmtree(copy)  # nothing may come from the source tree
        return venv

    with ThreadPoolExecutor(1) as background:
        yield background.submit(build_and_install)


def test_a_built_wheel_serves_pages_away_from_the_source(installed_wheel, tmp_path):
    venv = installed_wheel.result(timeout=2 * INSTALL_SECONDS)
    http_port = free_port()
    served = tmp_path / "served"
    served.mkdir()
    env = clean_environment(data_dir=str(tmp_path / "data"), http_port=str(http_port))
    subprocess.run([venv / "bin" / "plein", "db", "upgrade"], cwd=served, env=env, check=True, capture_output=True)
    web = subprocess.Popen([venv / "bin" / "plein", "web"], cwd=served, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=10)
    try:
        wait_for(lambda: _answers(client, web), timeout=60, what="plein web from the wheel")
        sign_in = client.get("/sign-in")
        assert sign_in.status_code == 200 and 'name="email"' in sign_in.text
        assert client.get("/favicon.svg").status_code == 200
        assert client.get("/api/docs/swagger-ui-bundle.js").status_code == 200
        assert client.get("/no-such-page").status_code == 404
    finally:
        web.terminate()
        web.wait(timeout=20)


def _answers(client: httpx.Client, process: subprocess.Popen, console: Path | None = None) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"exited with {process.returncode}" + (f":\n{console.read_text()[-3000:]}" if console else ""))
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False
