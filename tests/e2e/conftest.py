"""One real Plein for the end-to-end tests: `plein run` with people and groups made by the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.servers import PleinServer, ProductionPlein


@dataclass
class Company:
    server: PleinServer
    tokens: dict[str, str]

    def address(self, local: str) -> str:
        return f"{local}@{self.server.domain}"


PEOPLE = {
    "alice": "Alice Aalders",
    "bob": "Bob Bos",
    "erin": "Erin Ekker",
    "carol": "Carol Claes",
    "dave": "Dave Dekker",
}


def make_server(request, tmp_path_factory, **settings: str) -> PleinServer:
    """A Plein on the profile the test asks for: embedded, or production on PostgreSQL and Redis."""
    data_dir = tmp_path_factory.mktemp(request.param) / "data"
    if request.param == "production":
        postgres = request.getfixturevalue("postgres")
        redis = request.getfixturevalue("redis_server")
        return ProductionPlein(data_dir, postgres.url, redis.url, **settings)
    return PleinServer(data_dir, **settings)


@pytest.fixture(scope="package")
def demo(tmp_path_factory) -> PleinServer:
    """`plein run --demo`, as a newcomer starts it first; one for every test that looks at it."""
    server = PleinServer(tmp_path_factory.mktemp("demo") / "data")
    server.start("--demo")
    yield server
    server.stop()


@pytest.fixture(scope="package", params=["embedded", "production"])
def company(request, tmp_path_factory) -> Company:
    server = make_server(request, tmp_path_factory, max_message_size=str(2 * 1024 * 1024), log_format="json")
    server.cli("db", "upgrade")
    for name, full_name in PEOPLE.items():
        server.cli("user", "add", f"{name}@example.com", "--name", full_name)
    server.cli("group", "create", "engineering", "--name", "Engineering")
    server.cli("group", "create", "board", "--name", "Board", "--private")
    server.cli("group", "add-member", "engineering", "alice@example.com")
    server.cli("group", "add-member", "engineering", "bob@example.com", "--delivery", "each")
    server.cli("group", "add-member", "engineering", "erin@example.com", "--delivery", "daily")
    server.cli("group", "add-member", "board", "dave@example.com")
    tokens = {name: server.cli("token", "create", f"{name}@example.com").stdout.strip() for name in PEOPLE}
    server.start()
    yield Company(server, tokens)
    server.stop()
