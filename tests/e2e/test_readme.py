"""The README's walkthrough, run from the README's own text, so the two cannot drift apart.

The commands are the indented blocks of "Five minutes with Plein", run in order by bash as a
reader would paste them, in a fresh folder; only the ports are changed to free ones. What the
reader does in a browser (ask for a sign-in link, open the group page) this test does over HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_web_hub import csrf_of
from tests.support.servers import free_port, wait_for

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start: end if end > 0 else None]


def command_blocks(markdown: str) -> list[str]:
    """The indented code blocks of `markdown`, each dedented."""
    blocks, current = [], []
    for line in markdown.splitlines():
        if line.startswith("    "):
            current.append(line)
        elif current:
            blocks.append(textwrap.dedent("\n".join(current)))
            current = []
    if current:
        blocks.append(textwrap.dedent("\n".join(current)))
    return blocks


class Reader:
    """Someone following the README in two terminals, in a folder of their own."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.cwd = home
        self.http_port, self.smtp_port = free_port(), free_port()
        self.web = f"http://127.0.0.1:{self.http_port}"
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("PLEIN_")}
        self.env |= {"PLEIN_HTTP_PORT": str(self.http_port), "PLEIN_SMTP_PORT": str(self.smtp_port)}
        self.server: subprocess.Popen | None = None
        self.browser = httpx.Client(base_url=self.web, timeout=10)

    def with_our_ports(self, block: str) -> str:
        return block.replace("8000", str(self.http_port)).replace("2525", str(self.smtp_port))

    def start(self, block: str) -> None:
        """The first terminal: Plein runs here until Ctrl-C."""
        self.log = (self.home / "plein-run.log").open("wb")
        self.server = subprocess.Popen(
            ["bash", "-c", self.with_our_ports(block)], cwd=self.cwd, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._listening, timeout=60, what="plein run from the README to listen")

    def _listening(self) -> bool:
        if self.server.poll() is not None:
            raise AssertionError(f"plein run exited: {(self.home / 'plein-run.log').read_text()[-3000:]}")
        try:
            return self.browser.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def paste(self, block: str) -> str:
        """The second terminal: run `block` where the last one left off; its output."""
        where = self.home / ".cwd"
        script = f"trap 'pwd > {where}' EXIT\nset -e\n{self.with_our_ports(block)}\n"
        done = subprocess.run(
            ["bash", "-c", script], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"README command failed:\n{block}\n{done.stdout}\n{done.stderr}"
        self.cwd = Path(where.read_text().strip())
        return done.stdout

    def outbox(self) -> list[str]:
        folder = self.cwd / "plein-data" / "outbox" / "new"
        return [path.read_text(errors="replace") for path in sorted(folder.glob("*"))] if folder.is_dir() else []

    def ctrl_c(self) -> int:
        os.killpg(self.server.pid, signal.SIGINT)
        return self.server.wait(timeout=20)


@pytest.fixture
def reader(tmp_path):
    someone = Reader(tmp_path)
    yield someone
    if someone.server and someone.server.poll() is None:
        os.killpg(someone.server.pid, signal.SIGKILL)


def test_the_five_minute_walkthrough_works_as_written(reader: Reader):
    blocks = command_blocks(section("Five minutes with Plein"))
    start, setup, post, find_link, reply, look = blocks

    reader.start(start)
    reader.paste(setup)
    reader.paste(post)

    form = reader.browser.get("/sign-in")
    assert reader.browser.post("/sign-in", data={"email": "you@example.com", "csrf": csrf_of(form)}).status_code == 200
    link = wait_for(lambda: reader.outbox() and reader.paste(find_link).strip(), what="the sign-in mail")
    assert link.startswith(f"{reader.web}/sign-in/") and link.count("http") == 1
    confirm = reader.browser.get(link)
    assert confirm.status_code == 200
    assert reader.browser.post(link, data={"csrf": csrf_of(confirm)}, follow_redirects=True).status_code == 200
    wait_for(lambda: "Hello from my mailbox" in reader.browser.get("/g/engineering").text, what="the post")

    wait_for(lambda: any("To: Sam Visser <sam@example.com>" in m and "Hello from my mailbox" in m
                         for m in reader.outbox()), what="the post's mail to Sam")
    reader.paste(reply)
    post_page = lambda: reader.browser.get(re.search(r'href="(/p/\d+)"', reader.browser.get("/g/engineering").text)[1])  # noqa: E731
    wait_for(lambda: "This answer came from my mailbox" in post_page().text, what="Sam's answer as a comment")
    assert post_page().text.count("This mail becomes a post in Engineering.") == 1, "the quote was not cut"
    wait_for(lambda: any("To: Your Name <you@example.com>" in m and "This answer came from my mailbox" in m
                         for m in reader.outbox()), what="Sam's answer in your mailbox")
    wait_for(lambda: "Hello from my" in reader.browser.get("/search", params={"q": "mailbox"}).text,
             what="the post found by search")

    listed = reader.paste(look)
    assert "sam@example.com" in listed and "you@example.com" in listed and "engineering" in listed

    assert reader.ctrl_c() == 0
    assert (reader.home / "plein-run.log").read_text().rstrip().endswith("Plein stopped.")


def test_the_moderation_example_works_as_written(reader: Reader):
    example = next(b for b in command_blocks(section("Mail in")) if "plein group moderator news" in b)
    reader.paste("plein db upgrade")  # what `plein run` did for the walkthrough's reader
    reader.paste('plein user add you@example.com --name "Your Name"')

    reader.paste(example)

    assert "you@example.com\tYour Name\tmoderates news" in reader.paste("plein user list")


def test_ci_runs_the_readme_test_command():
    opening = README.read_text().split("\n## ")[0]
    (test_command,) = [block for block in command_blocks(opening) if "pytest" in block]
    assert test_command in (README.parent / ".ci" / "run").read_text()
