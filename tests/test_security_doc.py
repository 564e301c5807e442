"""docs/security.md names a test for each promise; every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cited_tests() -> list[tuple[str, str | None]]:
    """(file, test name or None) for every `tests/...py[::name]` and each `::name` after it."""
    cited, current = [], None
    for reference in re.findall(r"`(tests/[\w/]+\.py(?:::\w+)?|::\w+)`", (ROOT / "docs" / "security.md").read_text()):
        if reference.startswith("::"):
            cited.append((current, reference[2:]))
            continue
        current, _, name = reference.partition("::")
        cited.append((current, name or None))
    return cited


def test_every_test_the_security_promises_name_exists():
    missing = [
        f"{path}::{name}" if name else path
        for path, name in cited_tests()
        if not (ROOT / path).exists() or (name and not re.search(rf"def {name}\b", (ROOT / path).read_text()))
    ]
    assert cited_tests() and missing == []
