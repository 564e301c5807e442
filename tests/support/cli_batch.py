"""Run several `plein` commands in one Python process: `python -m tests.support.cli_batch '[["user", "add", ...], ...]'`.

Each command goes through the real `hub.cli.main` (its checks, context and transaction), as
the `plein` script runs it; only the interpreter's start-up, about two seconds, is paid once
instead of once per command. Prints one JSON object per command: its exit code and output.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

import click

from hub.cli import main


def run(args: list[str]) -> dict[str, object]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main.main(args, prog_name="plein", standalone_mode=False)
            code = 0
        except click.ClickException as error:
            error.show()
            code = error.exit_code
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return {"args": args, "code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


if __name__ == "__main__":
    for command in json.loads(sys.argv[1]):
        print(json.dumps(run(command)), flush=True)
