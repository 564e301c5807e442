"""The reply-text score of the corpus test, shown at the end of every run that computed it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

_REPLY_TEXT_SCORE = pytest.StashKey[str]()


@pytest.fixture
def record_reply_text_score(pytestconfig: pytest.Config) -> Callable[[str], None]:
    def record(line: str) -> None:
        pytestconfig.stash[_REPLY_TEXT_SCORE] = line

    return record


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if line := config.stash.get(_REPLY_TEXT_SCORE, None):
        terminalreporter.write_sep("-", "mail corpus")
        terminalreporter.write_line(line)
