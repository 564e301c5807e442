"""`plein check`'s SMTP line against a real server and an empty port."""

from __future__ import annotations

from hub.services import health
from tests.mailgateway.test_smtp import ListSink, running
from tests.support.hub import reset_caches
from tests.support.servers import free_port


def test_the_smtp_check_fails_when_nothing_listens_on_the_port(data_dir, monkeypatch):
    port = free_port()
    monkeypatch.setenv("PLEIN_SMTP_PORT", str(port))
    reset_caches()
    check = health.check_smtp_settings()
    assert (check.name, check.ok) == ("smtp", False)
    assert check.detail.startswith(f"nothing answers on 127.0.0.1:{port}: ")


def test_the_smtp_check_passes_when_an_smtp_server_answers(data_dir, monkeypatch):
    with running(ListSink(set())) as port:
        monkeypatch.setenv("PLEIN_SMTP_PORT", str(port))
        reset_caches()
        check = health.check_smtp_settings()
    assert (check.name, check.ok) == ("smtp", True)
    assert check.detail == f"groups at @plein.test, answers on 127.0.0.1:{port}, up to 25 MB"
