"""The example deployment runs only `plein` commands that exist, with options they accept."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from hub.cli import main

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def plein_commands() -> list[list[str]]:
    commands = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if match := re.match(r"Exec(?:Start|StartPre)=\S*/plein (.+)$", line):
                commands.append(shlex.split(match.group(1)))
    compose = (DEPLOY / "compose.yaml").read_text()
    commands += [shlex.split(found.replace('"', "").replace(",", " ")) for found in re.findall(r"command: \[(.+)\]", compose)
                 if "redis-server" not in found]
    return commands


def resolve(arguments: list[str]) -> click.Command:
    command: click.Command = main
    context = click.Context(main)
    while isinstance(command, click.Group) and arguments and not arguments[0].startswith("-"):
        command = command.get_command(context, arguments.pop(0))
        assert command is not None
    command.make_context(command.name, arguments)  # raises on an unknown option
    return command


@pytest.mark.parametrize("arguments", plein_commands(), ids=" ".join)
def test_deploy_examples_use_real_plein_commands(arguments):
    assert resolve(list(arguments)).name in {"web", "smtp", "worker", "beat", "indexer", "upgrade", "imap"}


def test_every_role_has_a_systemd_unit():
    units = {path.stem for path in (DEPLOY / "systemd").glob("plein-*.service")}
    assert units == {"plein-web", "plein-smtp", "plein-worker", "plein-inbound-worker", "plein-beat", "plein-indexer"}
