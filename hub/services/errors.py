"""Errors services raise; each edge turns them into its own answer (HTTP 4xx, CLI message).

The message is a catalogue id with `%(name)s` parameters (hub/locale): `str(error)` is the English
text, for the CLI and the log; the web and the API answer with `translated`, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable


class PleinError(Exception):
    """A request that cannot be carried out, with a message fit to show the person who made it."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.message) % self.params if self.params else gettext(self.message)


class NotFound(PleinError):
    """The thing does not exist, or the caller may not see it (the two look the same on purpose)."""


class Conflict(PleinError):
    """The thing already exists."""


class Invalid(PleinError):
    """The input is malformed."""


class Forbidden(PleinError):
    """The caller may see the thing but not do this to it."""
