"""An in-process hub on a fresh data directory, for service-level tests: a context of its own."""

from __future__ import annotations

from pathlib import Path

from hub.context import Context, build_context
from hub.settings import Settings

MAIL_DOMAIN = "plein.test"


def hub_context(data_dir: Path, **settings: object) -> Context:
    """A context on `data_dir`, with `settings` (`Settings` fields) over the defaults of the tests."""
    return build_context(Settings(data_dir=data_dir, mail_domain=MAIL_DOMAIN, **settings))
