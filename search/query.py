"""The one search box: splitting what a person typed into field filters and free text.

`kind:document group:engineering from:alice tag:modems before:2026-01-01 after:2025-06-01
has:attachment` are filters (a leading `-` excludes instead); everything else is free text
in Tantivy's query language: words (all required), "phrases", `-exclusions` and `OR`.
Nothing here raises: a filter with a value that means nothing (`before:tomorrowish`) is
kept as plain words, so a typo never turns into an error page.

Exclusions (`-lassen`, `-"de kast"`, `NOT lassen`) are taken out of the free text too, and
hold for the whole query: left to Tantivy, `glasvezel -lassen OR fibre` excluded nothing (a
clause that only excludes matches nothing, so OR ignored it), and a typo-tolerant retry of
the words alone brought excluded items back. Only those outside parentheses are taken out;
`(a -b) OR c` means what Tantivy makes of it.
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
_OPERATORS = ("AND", "OR")


@dataclass(frozen=True)
class Filter:
    name: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    """The free text, still in Tantivy's query language, without the exclusions."""
    filters: list[Filter] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    """What no item found may match, each in Tantivy's query language: `lassen`, `"de kast"`."""

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
    kept, excluded = _take_exclusions(_top_level_tokens(text))
    return ParsedQuery(" ".join(kept), filters, excluded)


def _top_level_tokens(text: str) -> list[str]:
    """`a "b c" (d OR -e) -f` as `['a', '"b c"', '(d OR -e)', '-f']`: split at spaces outside phrases and parentheses."""
    tokens: list[str] = []
    at, end = 0, len(text)
    while at < end:
        if text[at].isspace():
            at += 1
            continue
        start, depth = at, 0
        while at < end and (depth or not text[at].isspace()):
            if text[at] == '"':
                closing = text.find('"', at + 1)
                at = end if closing < 0 else closing + 1
                continue
            if text[at] == "(":
                depth += 1
            elif text[at] == ")" and depth:
                depth -= 1
            at += 1
        tokens.append(text[start:at])
    return tokens


def _take_exclusions(tokens: list[str]) -> tuple[list[str], list[str]]:
    """The tokens that are not exclusions, and what each exclusion excludes; no operator left dangling."""
    kept: list[str] = []
    excluded: list[str] = []
    remaining = iter(tokens)
    for token in remaining:
        if token == "NOT" or (token.startswith("-") and token.lstrip("-")):
            what = (next(remaining, "") if token == "NOT" else token).lstrip("-")
            if what:
                excluded.append(what)
        elif token not in _OPERATORS or (kept and kept[-1] not in _OPERATORS):
            kept.append(token)
    while kept and kept[-1] in _OPERATORS:
        kept.pop()
    return kept, excluded


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
