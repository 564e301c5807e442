"""The mail gateway against real-world mail from other projects' test suites.

The corpus lives outside the repository (../shared/corpus, see its README.md); these tests
skip when it is absent. Expectations come from each folder's expected.json.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from mailgateway.html import html_to_text
from mailgateway.parsing import parse_message
from mailgateway.replies import visible_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
REPLY_TEXT_THRESHOLD = 0.95
# Keys that state the expected reply text, in order of preference (see each `_schema`).
VISIBLE_TEXT_KEYS = ("visible_text", "visible_text_prefer_text", "visible_text_trimmed", "first_fragment_trimmed")
# Where Plein decides differently from the project the expectation comes from.
POLICY_DIFFERS = {
    "mailinglist.eml": "Plein marks Precedence: list as automatic; Discourse mirrors such lists",
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"mail corpus not found at {CORPUS}")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        path for path in CORPUS.rglob("*")
        if path.is_file() and path.parent != CORPUS and path.name not in {"MANIFEST.md", "expected.json"}
    )


def expectations(folder: str) -> dict[str, dict]:
    entries = json.loads((CORPUS / folder / "expected.json").read_text(encoding="utf-8"))
    return {name: entry for name, entry in entries.items() if name != "_schema"}


def body_of(path: Path) -> str:
    """What a reply trimmer gets: the parsed text of a mail, or the fixture text itself."""
    raw = path.read_bytes()
    if path.suffix == ".eml":
        return parse_message(raw).text
    if path.suffix == ".html":
        return html_to_text(raw.decode("utf-8", errors="replace"))
    return raw.decode("utf-8", errors="replace").strip()


def normalized(text: str, entry: dict) -> str:
    squeeze = "" if r"all \s removed" in entry.get("compare", "") else " "
    return re.sub(r"\s+", squeeze, text).strip()


def test_every_corpus_file_parses_without_an_exception():
    files = corpus_files()
    assert len(files) > 300
    for path in files:
        message = parse_message(path.read_bytes())
        assert isinstance(message.text, str), path


def test_reply_text_matches_the_corpus_expectations_often_enough(record_reply_text_score):
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for exp_file in sorted(CORPUS.glob("*/expected.json")):
        folder = exp_file.parent.name
        for name, entry in expectations(folder).items():
            expected = next((entry[key] for key in VISIBLE_TEXT_KEYS if entry.get(key) is not None), None)
            if expected is None:
                continue
            got = visible_text(body_of(CORPUS / folder / name))
            total[folder] += 1
            passed[folder] += normalized(got, entry) == normalized(expected, entry)
    share = sum(passed.values()) / sum(total.values())
    folders = ", ".join(f"{folder} {passed[folder]}/{total[folder]}" for folder in sorted(total))
    record_reply_text_score(
        f"reply-text score: {sum(passed.values())}/{sum(total.values())} = {share:.1%} "
        f"(corpus ../shared/corpus; {folders})"
    )
    assert share >= REPLY_TEXT_THRESHOLD


def test_discourse_headers_are_read_as_discourse_expects():
    for name, entry in expectations("discourse").items():
        message = parse_message((CORPUS / "discourse" / name).read_bytes())
        if "subject" in entry:
            assert message.subject == (entry["subject"] or ""), name
        if "from_address" in entry:
            assert message.from_address == entry["from_address"], name
        if "from_name" in entry:
            assert message.from_name == entry["from_name"], name
        if "message_id" in entry and "@" in entry["message_id"]:
            assert message.message_id == entry["message_id"], name
        if "in_reply_to" in entry:
            assert re.match(r"<([^>]+)>", entry["in_reply_to"])[1] in message.in_reply_to, name
        assert set(entry.get("to_addresses_include", [])) <= set(message.recipients), name
        if "auto_generated" in entry and name not in POLICY_DIFFERS:
            assert message.auto_submitted == entry["auto_generated"], name


def test_discourse_attachments_are_extracted_as_discourse_expects():
    for name, entry in expectations("discourse").items():
        if "attachments" not in entry:
            continue
        attachments = parse_message((CORPUS / "discourse" / name).read_bytes()).attachments
        assert len(attachments) == len(entry["attachments"]), name
        for attachment, expected in zip(attachments, entry["attachments"]):
            assert attachment.filename == expected["filename"], name
            assert attachment.content_type == expected["content_type"], name
            assert len(attachment.data) == expected.get("size_bytes", len(attachment.data)), name
            assert attachment.content_id == expected.get("content_id", attachment.content_id), name
            assert attachment.inline == expected.get("inline", attachment.inline), name


def test_discourse_bounces_are_automatic():
    for name, entry in expectations("discourse").items():
        if entry.get("is_bounce"):
            assert parse_message((CORPUS / "discourse" / name).read_bytes()).auto_submitted, name


def test_talon_standard_replies_are_trimmed_to_hello():
    replies = {name: entry for name, entry in expectations("talon").items() if name.startswith("standard_replies/")}
    trimmed = [name for name, entry in replies.items() if visible_text(body_of(CORPUS / "talon" / name)) == "Hello"]
    # iphone and sparrow expect their phone signature kept; Plein drops it.
    assert len(trimmed) >= len(replies) - 2
