from __future__ import annotations

import pytest

from hub.db import session_scope, upgrade_database
from tests.support.hub import reset_caches


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A migrated database and empty index under a temporary `PLEIN_DATA_DIR`."""
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLEIN_MAIL_DOMAIN", "plein.test")
    reset_caches()
    upgrade_database()
    yield tmp_path / "data"
    reset_caches()


@pytest.fixture
def session(data_dir):
    with session_scope() as session:
        yield session
