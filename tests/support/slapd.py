"""A real OpenLDAP server for tests: Debian's `slapd` with a slapd.conf, its database and an LDIF under a temporary
directory, listening on a free loopback port.

`.ci/run` installs `slapd ldap-utils`. Where slapd is missing the tests skip with a reason, except under CI=true,
where a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.servers import _listening, free_port, wait_for

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)
SLAPADD = shutil.which("slapadd") or ("/usr/sbin/slapadd" if Path("/usr/sbin/slapadd").exists() else None)
SCHEMAS = Path("/etc/ldap/schema")
SUFFIX = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{SUFFIX}"
PASSWORD = "secret"


def require_slapd() -> str:
    if SLAPD is None or SLAPADD is None or not (SCHEMAS / "inetorgperson.schema").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("slapd is not installed; .ci/run installs slapd ldap-utils")
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")
    return SLAPD


class Slapd:
    """`slapd -d 0` on 127.0.0.1 with a free port: one mdb database under `SUFFIX`, its admin `ADMIN_DN`."""

    def __init__(self, ldif: str) -> None:
        self.binary = require_slapd()
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.base = base = Path(tempfile.mkdtemp(prefix="plein-slapd-"))
        (base / "data").mkdir()
        self.config = base / "slapd.conf"
        self.config.write_text(
            "".join(f"include {SCHEMAS / name}.schema\n" for name in ("core", "cosine", "inetorgperson"))
            + f"""
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {base / "slapd.pid"}
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {PASSWORD}
directory {base / "data"}
"""
        )
        (base / "people.ldif").write_text(ldif)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        subprocess.run(
            [SLAPADD, "-f", str(self.config), "-l", str(self.base / "people.ldif")], check=True, capture_output=True
        )
        self.process = subprocess.Popen(
            [self.binary, "-d", "0", "-f", str(self.config), "-h", f"{self.url}/"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for(self._ready, timeout=20, what=f"slapd to listen on {self.port}")

    def _ready(self) -> bool:
        if self.process and self.process.poll() is not None:
            raise AssertionError(f"slapd exited: {self.process.stderr.read().decode()}")
        return _listening(self.port)

    def modify(self, ldif: str) -> None:
        """Apply an LDIF of changes (`changetype: ...`) as the admin, with ldapmodify."""
        subprocess.run(
            ["ldapmodify", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", PASSWORD],
            input=ldif.encode(),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)
