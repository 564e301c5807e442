"""The one search box: splitting what a person typed into field filters and free text.

`kind:document group:engineering from:alice tag:modems before:2026-01-01 after:2025-06-01
has:attachment` are filters (a leading `-` excludes instead); everything else is free text
in Tantivy's query language: words (all required), "phrases", `-exclusions` and `OR`.
Nothing here raises: a filter with a value that means nothing (`before:tomorrowish`) is
kept as plain words, so a typo never turns into an error page.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

FILTER_NAMES = ("kind", "group", "from", "tag", "before", "after", "has")
_FILTER = re.compile(
    r'(?<![\w:])(-?)(' + "|".join(FILTER_NAMES) + r'):("[^"]*"|[^\s"]+)', re.IGNORECASE
)
_WORD = re.compile(r'"[^"]*"?|\S+')


@dataclass(frozen=True)
class Filter:
    name: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    """The free text, still in Tantivy's query language."""
    filters: list[Filter] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        """The plain words of the free text: not in a phrase, not excluded, not an operator."""
        words = []
        for token in _WORD.findall(self.text):
            if token.startswith(('"', "-")) or token in ("OR", "AND", "NOT") or ":" in token:
                continue
            word = token.strip("()+")
            if word:
                words.append(word)
        return words


def parse(query: str) -> ParsedQuery:
    filters: list[Filter] = []

    def take(match: re.Match) -> str:
        negated, name, value = match[1] == "-", match[2].lower(), match[3].strip('"').strip()
        name_value = _normalize(name, value)
        if name_value is None:
            return f" {value} "
        filters.append(Filter(name, name_value, negated))
        return " "

    text = _FILTER.sub(take, query)
    return ParsedQuery(" ".join(text.split()), filters)


def _normalize(name: str, value: str) -> str | None:
    if not value:
        return None
    if name in ("before", "after"):
        return value if parse_date(value) is not None else None
    if name == "tag":
        return normalize_tag(value) or None
    if name in ("from",):
        return value
    return value.lower()


def parse_date(value: str) -> datetime | None:
    """`2026-01-01`, `2026-01` or `2026` as the first moment of that day, month or year, in UTC."""
    for pattern in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def fold(text: str) -> str:
    """Lower case without accents, as the index's analyzers see a word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_tag(tag: str) -> str:
    return fold(tag.strip().lstrip("#")).strip()


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    # An edit takes at most one letter away and brings at most one in, so the letters found in
    # only one of the two words bound the distance from below: a cheap test that spares most words the table.
    letters_a, letters_b = set(a), set(b)
    if len(letters_a - letters_b) > limit or len(letters_b - letters_a) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
