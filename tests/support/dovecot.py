"""A real Dovecot IMAP server for tests: its own config, users and Maildirs under a temporary directory.

Debian's `dovecot-imapd` is installed by `.ci/run`. Where it is missing the tests skip with a
reason, except under CI=true, where a missing server is a failure.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.servers import _listening, free_port, wait_for

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
PASSWORD = "secret"


def require_dovecot() -> str:
    if DOVECOT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed; .ci/run installs dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    return DOVECOT


class Dovecot:
    """`dovecot -F` on 127.0.0.1 with a free port, users in a passwd-file, mail in Maildirs."""

    def __init__(self, users: tuple[str, ...] = ("plein",)) -> None:
        self.binary = require_dovecot()
        self.port = free_port()
        self.users = users
        self.process: subprocess.Popen | None = None
        me = pwd.getpwuid(os.getuid())
        # Dovecot never reads mail as root: as root, mail belongs to its packaged `dovecot` user,
        # and everything sits in a directory of its own (pytest's temporary tree is closed to
        # other users).
        self.mail_owner = pwd.getpwnam("dovecot") if me.pw_uid == 0 else me
        self.base = base = Path(tempfile.mkdtemp(prefix="plein-dovecot-"))
        base.chmod(0o755)
        self.mail_root = base / "mail"
        self.mail_root.mkdir()
        os.chown(self.mail_root, self.mail_owner.pw_uid, self.mail_owner.pw_gid)
        self.config = base / "dovecot.conf"
        (base / "run").mkdir()
        (base / "passwd").write_text(
            "".join(f"{user}:{{PLAIN}}{PASSWORD}::::{self.mail_root / user}\n" for user in users)
        )
        self.config.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {base / 'run'}
state_dir = {base / 'state'}
instance_name = plein-test-{self.port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
{_process_users(me)}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {self.mail_owner.pw_uid}
mail_gid = {self.mail_owner.pw_gid}
mail_location = maildir:~/Maildir
log_path = {base / 'dovecot.log'}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {base / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = {base / 'passwd'}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Done {{
    auto = create
  }}
}}
"""
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_for(self._ready, timeout=20, what=f"dovecot to listen on {self.port}")

    def _ready(self) -> bool:
        if self.process and self.process.poll() is not None:
            raise AssertionError(f"dovecot exited: {self.process.stderr.read().decode()} {self.log()}")
        return _listening(self.port)

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, user: str = "plein", folder: str = "INBOX") -> str:
        return f"imap://{user}:{PASSWORD}@127.0.0.1:{self.port}/{folder}"


def _process_users(me: pwd.struct_passwd) -> str:
    """Dovecot's own processes: its packaged users when run as root (login must not be root), else ours."""
    if me.pw_uid == 0:
        return "default_internal_user = dovecot\ndefault_login_user = dovenull"
    group = grp.getgrgid(me.pw_gid).gr_name
    return f"default_internal_user = {me.pw_name}\ndefault_internal_group = {group}\ndefault_login_user = {me.pw_name}"


__all__ = ["Dovecot", "require_dovecot"]
