"""What every `plein` command module shares: the context handed in, service errors as one line, and the
database checked at head before a command runs (`hub.cli`, `hub.archive_cli`)."""

from __future__ import annotations

import functools

import click

from hub.context import Context
from hub.db import DatabaseNotReady, require_head, upgrade_database
from hub.services.errors import PleinError


def handles_errors(command):
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PleinError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


def database_ready(context: Context, *, upgrade: bool = False) -> None:
    """Upgrade the database, or check it is at the migrations' head; stop with one line if it cannot be used."""
    try:
        upgrade_database(context.settings) if upgrade else require_head(context.settings)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from error


class HeadChecked(click.Command):
    def invoke(self, ctx: click.Context):
        database_ready(ctx.find_object(Context))
        return super().invoke(ctx)


class Commands(click.Group):
    """Every `plein` command checks the database is at the head revision before it starts, and never
    migrates it: a new command is checked unless it says `cls=click.Command`, as the three that see
    to the database themselves do (`db upgrade`, `run`, `check`)."""

    command_class = HeadChecked
    group_class = type  # groups inside are `Commands` too


with_context = click.make_pass_decorator(Context)
"""Hands a command the context `main` built for this process."""
