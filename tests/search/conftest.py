import pytest

from tests.hub.conftest import context, data_dir, migrated_database, session  # noqa: F401  the hub's fixtures, for hub-level search tests


@pytest.fixture(autouse=True)
def commit_at_once(monkeypatch):
    """These tests flush one change after another: the indexer's pause between commits would only slow them."""
    monkeypatch.setenv("PLEIN_INDEX_COMMIT_INTERVAL", "0")
