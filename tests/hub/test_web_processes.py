"""`plein web` serves one port from `PLEIN_WEB_PROCESSES` processes, and takes them all down when it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from hub.db import upgrade_database
from hub.settings import Settings
from tests.support.servers import free_port, wait_for


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def serves_the_hub(pid: int) -> bool:
    """A process of uvicorn's: a child spawned by multiprocessing (beside its resource tracker)."""
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    except FileNotFoundError:
        return False


def test_plein_web_serves_the_hub_from_as_many_processes_as_set_and_stops_them_all(tmp_path):
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLEIN_")} | {
        "PLEIN_DATA_DIR": str(tmp_path),
        "PLEIN_HTTP_PORT": str(port),
        "PLEIN_METRICS_PORT": str(free_port()),
        "PLEIN_WEB_PROCESSES": "2",
    }
    upgrade_database(Settings(data_dir=tmp_path))
    web = subprocess.Popen([sys.executable, "-m", "hub.cli", "web"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(
            lambda: web.poll() is None and len([c for c in children_of(web.pid) if serves_the_hub(c)]) == 2,
            timeout=90,
            what="two processes of plein web",
        )
        servers = [child for child in children_of(web.pid) if serves_the_hub(child)]
        assert wait_for(lambda: _healthy(port), timeout=90, what="the hub on its port")
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=60)
    assert web.returncode == 0, web.stderr.read()
    assert not [server for server in servers if Path(f"/proc/{server}").exists()]


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
