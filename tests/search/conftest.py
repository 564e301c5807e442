from tests.hub.conftest import data_dir, session  # noqa: F401  the hub's fixtures, for hub-level search tests
