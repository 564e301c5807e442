"""`plein digest preview` writes the digest's HTML; headless Chromium lays it out at phone and desktop width."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import mail, send, wait_for_post

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Runs inside the digest: measures it as laid out and writes the figures into the page that frames it.
MEASURE = """<script>
addEventListener("load", () => {
  const right = Math.max(...[...document.body.querySelectorAll("*")].map(e => e.getBoundingClientRect().right));
  const card = document.querySelector("table table");
  const out = parent.document.createElement("pre");
  out.id = "plein-measure";
  out.textContent = JSON.stringify({
    viewport: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    right: right,
    card: card.getBoundingClientRect().width,
    replyLinks: document.querySelectorAll('a[href^="mailto:reply+"]').length,
  });
  parent.document.body.appendChild(out);
});
</script>"""


def framed(digest_html: str, width: int, height: int) -> str:
    """The digest in an iframe exactly `width` CSS pixels wide, as a mail client's reading pane.

    Desktop Chromium ignores the viewport meta tag and keeps windows at least 500 pixels wide,
    so a frame gives the phone width; `srcdoc` keeps the frame same-origin with its parent.
    """
    measured = digest_html.replace("</body>", MEASURE + "</body>")
    return (
        '<!doctype html><html><body style="margin:0">'
        f'<iframe style="width:{width}px; height:{height}px; border:0; display:block" '
        f'srcdoc="{escape(measured, quote=True)}"></iframe></body></html>'
    )


def chromium_or_skip() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def layout(browser: str, digest_html: str, width: int, height: int, tmp_path: Path) -> dict:
    page = tmp_path / f"framed-{width}.html"
    page.write_text(framed(digest_html, width, height), encoding="utf-8")
    result = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / f'profile-{width}'}", "--hide-scrollbars",
            f"--window-size={width + 40},{height + 40}",
            "--virtual-time-budget=5000", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    found = re.search(r'<pre id="plein-measure">(.*?)</pre>', result.stdout)
    assert found, f"chromium wrote no measurement: {result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_digest_preview_reads_well_at_phone_and_desktop_width(company: Company, tmp_path):
    browser = chromium_or_skip()
    long_word = "https://intranet.example.com/storingen/2026/kabelbreuk-zwolle-" + "a28" * 30
    send(company, mail("alice", company.address("engineering"), "Kabelbreuk bij de A28 in Zwolle — Ærø",
                       f"De graafmachine raakte de hoofdleiding. Details: {long_word}"))
    wait_for_post(company, "engineering", "Kabelbreuk bij de A28 in Zwolle — Ærø")
    output = tmp_path / "digest.html"

    printed = company.server.cli("digest", "preview", "erin@example.com", "--frequency", "daily", "--output", str(output))

    assert str(output) in printed.stdout and printed.stdout.startswith("Plein: ")
    html = output.read_text()
    assert "Kabelbreuk bij de A28 in Zwolle — Ærø" in html
    assert "<script" not in html.lower(), "mail carries no JavaScript"

    phone = layout(browser, html, 375, 800, tmp_path)
    desktop = layout(browser, html, 1280, 900, tmp_path)

    assert phone["viewport"] == 375
    assert phone["scrollWidth"] <= phone["viewport"], phone
    assert phone["right"] <= phone["viewport"], phone
    assert desktop["scrollWidth"] <= desktop["viewport"], desktop
    assert desktop["card"] <= 602, "the digest stays a readable column on a wide screen"
    assert phone["replyLinks"] >= 1
    again = company.server.cli("digest", "preview", "erin@example.com", "--output", str(tmp_path / "again.html"))
    assert (tmp_path / "again.html").read_text() == html, "a preview moves no watermark"
    assert again.returncode == 0
