"""A real DNS server for tests: dnsmasq on a free loopback port, serving the TXT records a test gives it.

DKIM keys are TXT records (`SELECTOR._domainkey.DOMAIN`, RFC 6376 §3.6.2); this is where tests publish
theirs. Debian's `dnsmasq-base` is installed by `.ci/run`. Where it is missing the tests skip with a
reason, except under CI=true, where a missing server is a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import dns.resolver
import pytest

from tests.support.servers import _listening, free_port, wait_for

DNSMASQ = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if Path("/usr/sbin/dnsmasq").exists() else None)


def require_dnsmasq() -> str:
    if DNSMASQ is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dnsmasq is not installed; .ci/run installs dnsmasq-base")
        pytest.skip("dnsmasq is not installed (apt-get install dnsmasq-base)")
    return DNSMASQ


def _txt_strings(text: str) -> str:
    """A TXT value as dnsmasq takes it on its command line: strings of at most 255 bytes (RFC 1035 §3.3.14),
    separated by commas (so the text itself has none; a DKIM key record has none)."""
    if "," in text:
        raise ValueError("dnsmasq splits TXT records at commas")
    return ",".join(text[start:start + 255] for start in range(0, len(text), 255))


def new_dkim_key() -> tuple[bytes, str]:
    """A fresh 2048-bit RSA key: the PKCS#1 PEM that signs, and the base64 public key for DNS."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed to make a DKIM key")
    private = subprocess.run([openssl, "genrsa", "-traditional", "2048"], capture_output=True, check=True).stdout
    public = subprocess.run(
        [openssl, "rsa", "-pubout", "-outform", "DER"], input=private, capture_output=True, check=True
    ).stdout
    return private, base64.b64encode(public).decode()


class Dnsmasq:
    """`dnsmasq --keep-in-foreground` on 127.0.0.1, answering only from the records it was given."""

    def __init__(self, txt_records: dict[str, str]) -> None:
        self.binary = require_dnsmasq()
        self.port = free_port()
        self.txt_records = txt_records
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        """What `PLEIN_DNS_RESOLVER` takes."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> Dnsmasq:
        command = [
            self.binary, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}", "--pid-file=",
            *(["--user=root"] if os.getuid() == 0 else []),
            *(f"--txt-record={name},{_txt_strings(text)}" for name, text in self.txt_records.items()),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(self._ready, timeout=20, what=f"dnsmasq to listen on {self.port}")
        return self

    def _ready(self) -> bool:
        if self.process and self.process.poll() is not None:
            raise AssertionError(f"dnsmasq exited: {self.process.stderr.read().decode()}")
        return _listening(self.port)

    def resolve_txt(self, name: str) -> list[bytes]:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], self.port
        return [b"".join(record.strings) for record in resolver.resolve(name, "TXT")]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Dnsmasq:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


__all__ = ["Dnsmasq", "new_dkim_key", "require_dnsmasq"]
