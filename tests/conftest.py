"""Servers the tests share: PostgreSQL and Redis start once for the whole run, on first use; a Dovecot for each test
that asks for one."""

from __future__ import annotations

import pytest

from tests.support.databases import PostgresServer, RedisServer
from tests.support.dovecot import Dovecot


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def dovecot():
    server = Dovecot()
    server.start()
    yield server
    server.stop()
