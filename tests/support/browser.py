"""Debian's headless Chromium driven by Playwright (no browser download: its executable is given)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.servers import links_in, text_of, wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser; skips locally and fails in CI when Chromium is missing."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in_by_mail(page, server, email: str) -> None:
    """Sign `page` in as `email` as a person does: ask for a link on /sign-in, follow the one mailed, confirm."""
    page.goto(f"{server.base_url}/sign-in")
    page.get_by_label("Your work email address").fill(email)
    page.get_by_role("button", name="Mail me a sign-in link").click()
    [link] = wait_for(
        lambda: [u for m in server.mail_to(email) for u in links_in(text_of(m)) if "/sign-in/" in u],
        what=f"the sign-in link mailed to {email}",
    )
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.base_url}/")
