"""Errors services raise; each edge turns them into its own answer (HTTP 4xx, CLI message)."""


class PleinError(Exception):
    """A request that cannot be carried out, with a message fit to show the person who made it."""


class NotFound(PleinError):
    """The thing does not exist, or the caller may not see it (the two look the same on purpose)."""


class Conflict(PleinError):
    """The thing already exists."""


class Invalid(PleinError):
    """The input is malformed."""


class Forbidden(PleinError):
    """The caller may see the thing but not do this to it."""
