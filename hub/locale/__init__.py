"""The gettext catalogue of Plein's words: `messages.pot` and one `<language>/LC_MESSAGES/messages.po` each.

English is the source language: its words are the message ids, so it needs no catalogue. Every
other language is the `.po` file present here, so adding one is adding its file
(docs/translations.md). Nothing here imports the rest of Plein: settings validate against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from babel import Locale

LOCALE_DIR = Path(__file__).parent
SOURCE_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = (
    SOURCE_LANGUAGE,
    *sorted(path.parent.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")),
)
"""Every language Plein speaks: English, and each one with a catalogue."""
KEYWORDS = ("Message", "Invalid", "NotFound", "Forbidden", "Conflict", "PleinError")
"""Besides gettext's own (`_`, `gettext`, `ngettext`, `N_`, ...): the first argument of a `Message`
and of a service error (hub.services.errors) is a message to translate, extracted like `_("...")`."""


def language_name(language: str) -> str:
    """A language as its own speakers write it: Nederlands, English."""
    return Locale.parse(language).get_display_name(language).capitalize()


def N_(message: str) -> str:
    """Marks `message` for the catalogue where it is translated later, in the reader's language."""
    return message


class Message:
    """Words to show later, in the reader's language: a catalogue id and its `%(name)s` parameters."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.message) % self.params if self.params else gettext(self.message)

    def __str__(self) -> str:
        return self.translated(str)


_RANGE = re.compile(r"\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*")


def accepted_language(header: str) -> str | None:
    """The language Plein speaks that a browser's `Accept-Language` (RFC 9110 12.5.4) likes best.

    >>> accepted_language("fr-FR, nl-BE;q=0.8, en;q=0.5")
    'nl'
    >>> accepted_language("de, *;q=0.1") is None
    True
    >>> accepted_language("en;q=0, nl;q=0.2")
    'nl'
    """
    liked = []
    for position, part in enumerate(header.split(",")[:32]):
        found = _RANGE.fullmatch(part)
        if not found:
            continue
        try:
            weight = float(found[2]) if found[2] else 1.0
        except ValueError:
            continue
        language = found[1].lower()
        if weight > 0 and language in LANGUAGES:
            liked.append((-weight, position, language))
    return min(liked)[2] if liked else None
